#include "agent/dns/message.h"

#include <algorithm>

namespace meshnode::agent::dns {
namespace {

constexpr int kMaxPointerJumps = 64;
constexpr size_t kMaxNameLength = 255;

Error malformed(const std::string& what) {
  return makeError(ErrorCode::kParse, Side::kDownstream, "malformed DNS message: " + what);
}

// A bounds-checked cursor over a message.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> wire) : wire_(wire) {}

  size_t offset() const { return off_; }
  bool u16(uint16_t& v) {
    if (wire_.size() - off_ < 2) return false;
    v = static_cast<uint16_t>((wire_[off_] << 8) | wire_[off_ + 1]);
    off_ += 2;
    return true;
  }
  bool u32(uint32_t& v) {
    uint16_t hi = 0, lo = 0;
    if (!u16(hi) || !u16(lo)) return false;
    v = (static_cast<uint32_t>(hi) << 16) | lo;
    return true;
  }
  bool skip(size_t n) {
    if (wire_.size() - off_ < n) return false;
    off_ += n;
    return true;
  }

  // Reads a possibly compressed name; pointers must point backwards, so loops cannot form.
  Status name(std::string& out) {
    out.clear();
    size_t pos = off_;
    size_t end_of_name = 0;  // where the cursor resumes after the first pointer
    size_t wire_length = 1;
    int jumps = 0;
    for (;;) {
      if (pos >= wire_.size()) return malformed("name runs past the end");
      uint8_t len = wire_[pos];
      if ((len & 0xC0) == 0xC0) {
        if (pos + 1 >= wire_.size()) return malformed("truncated compression pointer");
        size_t target = (static_cast<size_t>(len & 0x3F) << 8) | wire_[pos + 1];
        if (target >= pos) return malformed("compression pointer points forward");
        if (++jumps > kMaxPointerJumps) return malformed("too many compression pointers");
        if (end_of_name == 0) end_of_name = pos + 2;
        pos = target;
        continue;
      }
      if ((len & 0xC0) != 0) return malformed("reserved label type");
      if (len == 0) {
        off_ = end_of_name != 0 ? end_of_name : pos + 1;
        return {};
      }
      wire_length += len + 1u;
      if (wire_length > kMaxNameLength) return malformed("name longer than 255 bytes");
      if (pos + 1 + len > wire_.size()) return malformed("label runs past the end");
      if (!out.empty()) out += '.';
      for (size_t i = 0; i < len; ++i) {
        char c = static_cast<char>(wire_[pos + 1 + i]);
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        out += c;
      }
      pos += 1 + len;
    }
  }

 private:
  std::span<const uint8_t> wire_;
  size_t off_ = 0;
};

Status readHeader(Reader& r, Header& h) {
  if (!r.u16(h.id) || !r.u16(h.flags) || !r.u16(h.qdcount) || !r.u16(h.ancount) ||
      !r.u16(h.nscount) || !r.u16(h.arcount)) {
    return malformed("shorter than a header");
  }
  return {};
}

Status readQuestion(Reader& r, Question& q) {
  if (auto s = r.name(q.name); !s) return s;
  if (!r.u16(q.type) || !r.u16(q.klass)) return malformed("truncated question");
  return {};
}

void appendU16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void appendU32(std::vector<uint8_t>& out, uint32_t v) {
  appendU16(out, static_cast<uint16_t>(v >> 16));
  appendU16(out, static_cast<uint16_t>(v));
}

// Flags of a reply: QR, the query's opcode and RD, RA since we recurse for the client.
uint16_t replyFlags(uint16_t query_flags, uint8_t rcode, bool authoritative) {
  uint16_t flags = 0x8000 | (query_flags & 0x7800) | (query_flags & 0x0100) | 0x0080;
  if (authoritative) flags |= 0x0400;
  return static_cast<uint16_t>(flags | (rcode & 0xF));
}

}  // namespace

void writeU16(std::vector<uint8_t>& out, size_t offset, uint16_t v) {
  out[offset] = static_cast<uint8_t>(v >> 8);
  out[offset + 1] = static_cast<uint8_t>(v);
}

void writeU32(std::vector<uint8_t>& out, size_t offset, uint32_t v) {
  writeU16(out, offset, static_cast<uint16_t>(v >> 16));
  writeU16(out, offset + 2, static_cast<uint16_t>(v));
}

Result<Header> parseHeader(std::span<const uint8_t> wire) {
  Reader r(wire);
  Header h;
  if (auto s = readHeader(r, h); !s) return std::move(s).takeError();
  return h;
}

Result<Query> parseQuery(std::span<const uint8_t> wire) {
  if (wire.size() > kMaxMessage) return malformed("longer than 65535 bytes");
  Reader r(wire);
  Query q;
  if (auto s = readHeader(r, q.header); !s) return std::move(s).takeError();
  if (q.header.response()) return malformed("a response, not a query");
  if (q.header.qdcount != 1) return malformed("question count is not 1");
  if (q.header.ancount != 0) return malformed("a query with answers");
  if (auto s = readQuestion(r, q.question); !s) return std::move(s).takeError();
  q.question_end = r.offset();
  // Skip authority records, then look for OPT among the additional ones for the UDP size.
  for (uint32_t i = 0; i < uint32_t{q.header.nscount} + q.header.arcount; ++i) {
    std::string name;
    uint16_t type = 0, klass = 0, rdlength = 0;
    uint32_t ttl = 0;
    if (auto s = r.name(name); !s) return std::move(s).takeError();
    if (!r.u16(type) || !r.u16(klass) || !r.u32(ttl) || !r.u16(rdlength) || !r.skip(rdlength)) {
      return malformed("truncated record");
    }
    if (type == kTypeOpt && i >= q.header.nscount) {
      q.udp_limit = std::clamp<size_t>(klass, kClassicUdpLimit, 4096);
    }
  }
  return q;
}

Result<ResponseInfo> parseResponse(std::span<const uint8_t> wire) {
  if (wire.size() > kMaxMessage) return malformed("longer than 65535 bytes");
  Reader r(wire);
  ResponseInfo info;
  if (auto s = readHeader(r, info.header); !s) return std::move(s).takeError();
  if (!info.header.response()) return malformed("a query, not a response");
  if (info.header.qdcount != 1) return malformed("question count is not 1");
  if (auto s = readQuestion(r, info.question); !s) return std::move(s).takeError();
  std::optional<uint32_t> min_answer, min_authority;
  uint32_t total = uint32_t{info.header.ancount} + info.header.nscount + info.header.arcount;
  for (uint32_t i = 0; i < total; ++i) {
    std::string name;
    uint16_t type = 0, klass = 0, rdlength = 0;
    uint32_t ttl = 0;
    if (auto s = r.name(name); !s) return std::move(s).takeError();
    if (!r.u16(type) || !r.u16(klass)) return malformed("truncated record");
    size_t ttl_offset = r.offset();
    if (!r.u32(ttl) || !r.u16(rdlength) || !r.skip(rdlength)) {
      return malformed("truncated record");
    }
    if (type == kTypeOpt) continue;
    info.ttl_offsets.push_back(ttl_offset);
    if (i < info.header.ancount) {
      min_answer = std::min(ttl, min_answer.value_or(ttl));
    } else if (i < uint32_t{info.header.ancount} + info.header.nscount) {
      min_authority = std::min(ttl, min_authority.value_or(ttl));
    }
  }
  info.min_ttl = info.header.ancount > 0 ? min_answer : min_authority;
  return info;
}

std::vector<uint8_t> buildReply(const Query& query, std::span<const uint8_t> wire, uint8_t rcode,
                                bool authoritative, const std::vector<Record>& answers) {
  std::vector<uint8_t> out;
  out.reserve(query.question_end + answers.size() * 28);
  appendU16(out, query.header.id);
  appendU16(out, replyFlags(query.header.flags, rcode, authoritative));
  appendU16(out, 1);
  appendU16(out, static_cast<uint16_t>(answers.size()));
  appendU16(out, 0);
  appendU16(out, 0);
  out.insert(out.end(), wire.begin() + kHeaderSize, wire.begin() + query.question_end);
  for (const Record& rec : answers) {
    appendU16(out, 0xC000 | kHeaderSize);  // the question's name
    appendU16(out, rec.type);
    appendU16(out, kClassIn);
    appendU32(out, rec.ttl);
    appendU16(out, static_cast<uint16_t>(rec.rdata.size()));
    out.insert(out.end(), rec.rdata.begin(), rec.rdata.end());
  }
  return out;
}

std::vector<uint8_t> buildHeaderOnlyReply(uint16_t id, uint16_t query_flags, uint8_t rcode) {
  std::vector<uint8_t> out;
  appendU16(out, id);
  appendU16(out, replyFlags(query_flags, rcode, false));
  for (int i = 0; i < 4; ++i)
    appendU16(out, 0);
  return out;
}

std::vector<uint8_t> truncateReply(const Query& query, std::span<const uint8_t> wire,
                                   std::span<const uint8_t> reply) {
  std::vector<uint8_t> out(reply.begin(), reply.begin() + kHeaderSize);
  out.insert(out.end(), wire.begin() + kHeaderSize, wire.begin() + query.question_end);
  writeU16(out, 0, query.header.id);
  out[2] |= 0x02;  // TC
  writeU16(out, 4, 1);
  for (size_t off = 6; off < kHeaderSize; off += 2)
    writeU16(out, off, 0);
  return out;
}

Result<std::vector<uint8_t>> encodeName(std::string_view name) {
  std::vector<uint8_t> out;
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    size_t len = dot - start;
    if (len == 0 || len > 63) {
      return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                       "bad DNS name \"" + std::string(name) + "\"");
    }
    out.push_back(static_cast<uint8_t>(len));
    out.insert(out.end(), name.begin() + start, name.begin() + dot);
    start = dot + 1;
  }
  out.push_back(0);
  if (out.size() > kMaxNameLength) {
    return makeError(ErrorCode::kInvalidArgument, Side::kConfig,
                     "DNS name longer than 255 bytes: " + std::string(name));
  }
  return out;
}

}  // namespace meshnode::agent::dns
