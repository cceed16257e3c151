#include "agent/settings/environment.h"

#include <cerrno>
#include <cstring>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace meshnode::agent {
namespace {

class Checker {
 public:
  Checker(const AgentSettings& s, std::vector<Problem>& out) : s_(s), out_(out) {}

  void directory(const std::string& key, const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      report(key, path + ": " + std::strerror(errno));
    } else if (!S_ISDIR(st.st_mode)) {
      report(key, path + ": not a directory");
    }
  }

  void readable(const std::string& key, const std::string& path) {
    if (::access(path.c_str(), R_OK) != 0) report(key, path + ": " + std::strerror(errno));
  }

  void executable(const std::string& key, const std::string& path) {
    if (::access(path.c_str(), X_OK) != 0) report(key, path + ": " + std::strerror(errno));
  }

  void user(const std::string& key, const std::string& name) {
    if (::getpwnam(name.c_str()) == nullptr) {
      report(key, "no user \"" + name + "\" on this host (the package creates it)");
    }
  }

 private:
  void report(const std::string& key, std::string message) {
    out_.push_back(Problem{s_.file, s_.positionOf(key), key, std::move(message)});
  }

  const AgentSettings& s_;
  std::vector<Problem>& out_;
};

}  // namespace

std::vector<Problem> checkEnvironment(const AgentSettings& settings) {
  std::vector<Problem> problems;
  Checker c(settings, problems);
  if (settings.config.kubernetes()) {
    // Unset keys were taken from [registry]; the problem names the key that was written.
    auto key = [&](const char* name) {
      std::string own = std::string("config.") + name;
      return settings.positions.count(own) ? own : std::string("registry.") + name;
    };
    c.readable(key("token_file"), settings.config.token_file);
    c.readable(key("ca_file"), settings.config.ca_file);
  } else {
    c.directory("config.directory", settings.config.directory);
  }
  if (settings.registry.type == RegistrySettings::Type::kFile) {
    c.directory("registry.directory", settings.registry.directory);
  } else {
    c.readable("registry.token_file", settings.registry.token_file);
    c.readable("registry.ca_file", settings.registry.ca_file);
  }
  c.executable("proxy.binary", settings.proxy.binary);
  c.user("proxy.user", settings.proxy.user);
  return problems;
}

}  // namespace meshnode::agent
