#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace meshnode::security {

// base64url without padding (RFC 4648 section 5, as JWS uses it).
std::string base64UrlEncode(std::string_view bytes);
// Strict: only the url-safe alphabet, no padding, no whitespace, and the unused low bits of
// the last character must be zero, so every byte string has exactly one accepted encoding.
std::optional<std::string> base64UrlDecode(std::string_view text);

}  // namespace meshnode::security
