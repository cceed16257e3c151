#pragma once

#include <string>
#include <string_view>

#include "proxy/http/message.h"

namespace meshnode::proxy::http1 {

// How an HTTP/1 message body is delimited on the wire.
enum class Framing { kNone, kLength, kChunked, kClose };

// The heads are appended to `out`, so that a connection can reuse one buffer for them.
void appendResponseHead(std::string& out, const ResponseHead& head, Framing framing, bool close,
                        bool http10);
// `content_length` is what the framing announces (kLength), which may differ from the head's.
void appendRequestHead(std::string& out, const RequestHead& head, Framing framing,
                       long long content_length);
void appendBody(std::string& out, std::string_view data, Framing framing);

// RFC 9110 5.5: field values carry no CR, LF or NUL.
bool validHeaderValue(std::string_view value);
// Drops the optional whitespace around a field value (RFC 9110 5.5).
void trimValueInPlace(std::string& value);

}  // namespace meshnode::proxy::http1
