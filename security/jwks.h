#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/openssl.h"
#include "common/result.h"

namespace meshnode::security {

enum class JwkKind { kRsa, kEcP256, kEcP384, kEd25519 };

struct Jwk {
  std::string kid;  // may be empty
  std::string alg;  // may be empty: then any alg of the key's kind
  JwkKind kind = JwkKind::kRsa;
  ossl::EvpPkeyPtr key;
};

// A JSON Web Key Set (RFC 7517) reduced to the public keys a JWT can be verified with.
// Immutable; shared by workers as std::shared_ptr<const Jwks>.
class Jwks {
 public:
  // Accepts {"keys":[...]} or a single JWK object. Keys of types the mesh does not verify
  // with ("oct", "use":"enc", other curves) are skipped; a malformed key of a supported type
  // is an error naming `source` and the key's index. RSA keys under 2048 bits are refused.
  static Result<std::shared_ptr<const Jwks>> parse(std::string_view json, std::string_view source);

  const std::vector<Jwk>& keys() const { return keys_; }

 private:
  struct Tag {
    explicit Tag() = default;
  };

 public:
  explicit Jwks(Tag) {}

 private:
  std::vector<Jwk> keys_;
};

}  // namespace meshnode::security
