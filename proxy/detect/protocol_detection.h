#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace meshnode::proxy {

enum class Protocol { kNeedMore, kHttp1, kHttp2, kTls, kOpaque };

const char* toString(Protocol p);

// Classifies the first bytes a client sent: the HTTP/2 prior-knowledge preface, an HTTP/1.x
// request line, a TLS ClientHello record, or anything else (opaque TCP). kNeedMore asks for
// more bytes; callers stop asking at their detection limit and treat the stream as opaque.
Protocol detectProtocol(std::string_view data);

// The server_name of a complete TLS ClientHello. Returns kNeedMore while the record is
// incomplete, kTls with *sni set (possibly empty when absent), or kOpaque when malformed.
Protocol extractSni(std::string_view data, std::string* sni);

// The ALPN protocols a complete TLS ClientHello offers, in order; empty when it offers none
// or is malformed. PERMISSIVE inbound ports use it to tell mesh mTLS ("istio-*") from a
// client's own TLS.
std::vector<std::string> clientHelloAlpn(std::string_view data);

inline constexpr size_t kMaxDetectionBytes = 16 * 1024;

}  // namespace meshnode::proxy
