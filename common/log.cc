#include "common/log.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <string>

#include <unistd.h>

namespace meshnode::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::string g_program = "meshnode";

}  // namespace

void setLevel(Level lvl) {
  g_level.store(static_cast<int>(lvl));
}
Level level() {
  return static_cast<Level>(g_level.load(std::memory_order_relaxed));
}

bool parseLevel(std::string_view text, Level* out) {
  if (text == "error")
    *out = Level::kError;
  else if (text == "warning" || text == "warn")
    *out = Level::kWarning;
  else if (text == "notice")
    *out = Level::kNotice;
  else if (text == "info")
    *out = Level::kInfo;
  else if (text == "debug")
    *out = Level::kDebug;
  else
    return false;
  return true;
}

void setProgram(std::string_view name) {
  g_program = std::string(name);
}

void write(Level lvl, const char* format, ...) {
  char message[2048];
  va_list args;
  va_start(args, format);
  int n = std::vsnprintf(message, sizeof(message), format, args);
  va_end(args);
  if (n < 0) return;
  // One write per line, so lines from several threads never interleave.
  char line[2200];
  int len = std::snprintf(line, sizeof(line), "<%d>%s[%d]: %s\n", static_cast<int>(lvl),
                          g_program.c_str(), static_cast<int>(getpid()), message);
  if (len > 0) {
    ssize_t ignored = ::write(STDERR_FILENO, line, std::min<size_t>(len, sizeof(line) - 1));
    (void)ignored;
  }
}

}  // namespace meshnode::log
