#pragma once

#include <string_view>

namespace meshnode::log {

// Priorities follow syslog, so the journal shows them as they are.
enum class Level { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

void setLevel(Level level);
Level level();
bool parseLevel(std::string_view text, Level* out);
// Names the process in every line ("meshnode-proxy[1234]").
void setProgram(std::string_view name);

// One line to stderr with a "<N>" priority prefix that journald understands.
void write(Level level, const char* format, ...) __attribute__((format(printf, 2, 3)));

}  // namespace meshnode::log

#define MESHNODE_LOG(lvl, ...)                                               \
  do {                                                                       \
    if (static_cast<int>(lvl) <= static_cast<int>(::meshnode::log::level())) \
      ::meshnode::log::write(lvl, __VA_ARGS__);                              \
  } while (0)
#define LOG_ERROR(...) MESHNODE_LOG(::meshnode::log::Level::kError, __VA_ARGS__)
#define LOG_WARN(...) MESHNODE_LOG(::meshnode::log::Level::kWarning, __VA_ARGS__)
#define LOG_NOTICE(...) MESHNODE_LOG(::meshnode::log::Level::kNotice, __VA_ARGS__)
#define LOG_INFO(...) MESHNODE_LOG(::meshnode::log::Level::kInfo, __VA_ARGS__)
#define LOG_DEBUG(...) MESHNODE_LOG(::meshnode::log::Level::kDebug, __VA_ARGS__)
