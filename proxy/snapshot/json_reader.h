#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace meshnode::proxy {

// Walks a snapshot document keeping the field path, so every complaint says where it is:
// "<origin>: field $.<path>: <what>". Only the first complaint is kept; the readers go on with
// fallbacks so one pass can finish, and the caller checks failed() at the end.
class JsonReader {
 public:
  using json = nlohmann::json;

  explicit JsonReader(std::string origin) : origin_(std::move(origin)) {}

  bool failed() const { return error_.has_value(); }
  Error takeError() { return std::move(*error_); }

  void fail(const std::string& path, const std::string& what) {
    if (!error_)
      error_ = makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                         origin_ + ": field " + path + ": " + what);
  }

  const json* object(const json& parent, const std::string& path) {
    if (!parent.is_object()) {
      fail(path, "must be an object");
      return nullptr;
    }
    return &parent;
  }

  // An object whose fields are all among `keys`; false once anything failed.
  bool object(const json& o, const std::string& path, std::initializer_list<const char*> keys) {
    if (!object(o, path)) return false;
    known(o, path, keys);
    return !failed();
  }

  void known(const json& obj, const std::string& path, std::initializer_list<const char*> keys) {
    if (!obj.is_object()) return;
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      bool found =
          std::any_of(keys.begin(), keys.end(), [&](const char* k) { return it.key() == k; });
      if (!found) fail(path + "." + it.key(), "unknown field");
    }
  }

  std::string str(const json& obj, const std::string& path, const char* key, bool required = false,
                  const std::string& fallback = "") {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) fail(path + "." + key, "is required");
      return fallback;
    }
    if (!it->is_string()) {
      fail(path + "." + key, "must be a string");
      return fallback;
    }
    return it->get<std::string>();
  }

  uint64_t num(const json& obj, const std::string& path, const char* key, bool required,
               uint64_t fallback, uint64_t min, uint64_t max) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) fail(path + "." + key, "is required");
      return fallback;
    }
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
      fail(path + "." + key, "must be a non-negative integer");
      return fallback;
    }
    uint64_t v = it->get<uint64_t>();
    if (v < min || v > max) {
      fail(path + "." + key,
           "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return fallback;
    }
    return v;
  }

  bool boolean(const json& obj, const std::string& path, const char* key, bool fallback) {
    auto it = obj.find(key);
    if (it == obj.end()) return fallback;
    if (!it->is_boolean()) {
      fail(path + "." + key, "must be true or false");
      return fallback;
    }
    return it->get<bool>();
  }

  const json* array(const json& obj, const std::string& path, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end()) return nullptr;
    if (!it->is_array()) {
      fail(path + "." + key, "must be an array");
      return nullptr;
    }
    return &*it;
  }

  std::vector<std::string> strings(const json& obj, const std::string& path, const char* key) {
    std::vector<std::string> out;
    auto it = obj.find(key);
    if (it == obj.end()) return out;
    if (!it->is_array()) {
      fail(path + "." + key, "must be an array of strings");
      return out;
    }
    for (size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string()) {
        fail(index(path + "." + key, i), "must be a string");
        return out;
      }
      out.push_back((*it)[i].get<std::string>());
    }
    return out;
  }

  // Calls `each(element, path)` for every element of the array `key`, until one fails.
  template <typename F>
  void forEach(const json& obj, const std::string& path, const char* key, F each) {
    const json* items = array(obj, path, key);
    for (size_t i = 0; items && i < items->size() && !failed(); ++i)
      each((*items)[i], index(path + "." + key, i));
  }

  template <typename E>
  E choice(const json& obj, const std::string& path, const char* key, E fallback,
           std::initializer_list<std::pair<const char*, E>> options) {
    std::string v = str(obj, path, key, false);
    if (v.empty()) return fallback;
    for (const auto& [name, value] : options)
      if (v == name) return value;
    std::string names;
    for (const auto& o : options)
      names += std::string(names.empty() ? "" : ", ") + o.first;
    fail(path + "." + key, "\"" + v + "\" is not one of: " + names);
    return fallback;
  }

  static std::string index(const std::string& path, size_t i) {
    return path + "[" + std::to_string(i) + "]";
  }

 private:
  std::string origin_;
  std::optional<Error> error_;
};

}  // namespace meshnode::proxy
