#include "security/jwt_claims.h"

#include <nlohmann/json.hpp>

namespace meshnode::security {

using json = nlohmann::json;

JwtClaims::JwtClaims(std::shared_ptr<const nlohmann::json> claims) : claims_(std::move(claims)) {}

namespace {

const json* find(const json* root, const std::vector<std::string>& path) {
  const json* node = root;
  for (const std::string& key : path) {
    if (node == nullptr || !node->is_object()) return nullptr;
    auto it = node->find(key);
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return path.empty() ? nullptr : node;
}

std::optional<std::string> scalarText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean() || v.is_number()) return v.dump();
  return std::nullopt;
}

std::string stringClaim(const json* root, const char* name) {
  const json* v = find(root, {name});
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

}  // namespace

std::vector<std::string> JwtClaims::strings(const std::vector<std::string>& path) const {
  std::vector<std::string> out;
  const json* v = find(claims_.get(), path);
  if (v == nullptr) return out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    for (const json& item : *v) {
      if (item.is_string()) out.push_back(item.get<std::string>());
    }
  }
  return out;
}

std::optional<std::string> JwtClaims::headerValue(const std::vector<std::string>& path) const {
  const json* v = find(claims_.get(), path);
  if (v == nullptr) return std::nullopt;
  if (v->is_array()) {
    std::string out;
    for (const json& item : *v) {
      auto text = scalarText(item);
      if (!text) continue;
      if (!out.empty()) out += ',';
      out += *text;
    }
    return out;
  }
  return scalarText(*v);
}

std::string JwtClaims::issuer() const {
  return stringClaim(claims_.get(), "iss");
}
std::string JwtClaims::subject() const {
  return stringClaim(claims_.get(), "sub");
}
std::string JwtClaims::presenter() const {
  return stringClaim(claims_.get(), "azp");
}
std::vector<std::string> JwtClaims::audiences() const {
  return strings({"aud"});
}
std::string JwtClaims::principal() const {
  return empty() ? std::string() : issuer() + "/" + subject();
}

std::vector<std::string> splitClaimPath(std::string_view dotted) {
  std::vector<std::string> out;
  while (true) {
    size_t dot = dotted.find('.');
    out.emplace_back(dotted.substr(0, dot));
    if (dot == std::string_view::npos) break;
    dotted.remove_prefix(dot + 1);
  }
  return out;
}

}  // namespace meshnode::security
