#include "common/result.h"

namespace meshnode {

const char* toString(Side side) {
  switch (side) {
    case Side::kDownstream:
      return "downstream";
    case Side::kUpstream:
      return "upstream";
    case Side::kConfig:
      return "config";
    case Side::kSystem:
      return "system";
    case Side::kInternal:
      return "internal";
  }
  return "unknown";
}

const char* toString(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kParse:
      return "parse error";
    case ErrorCode::kProtocol:
      return "protocol error";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kRefused:
      return "refused";
    case ErrorCode::kReset:
      return "reset";
    case ErrorCode::kLimit:
      return "limit exceeded";
    case ErrorCode::kIo:
      return "i/o error";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kInternal:
      return "internal error";
  }
  return "unknown";
}

std::string Error::describe() const {
  std::string out = toString(side);
  out += ' ';
  out += toString(code);
  if (!detail.empty()) {
    out += ": ";
    out += detail;
  }
  if (retryable) out += " (retryable)";
  return out;
}

}  // namespace meshnode
