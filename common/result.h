#pragma once

#include <string>
#include <utility>
#include <variant>

namespace meshnode {

// Which party an error is blamed on; it decides what is logged and what a peer is told.
enum class Side { kDownstream, kUpstream, kConfig, kSystem, kInternal };

enum class ErrorCode {
  kInvalidArgument,
  kNotFound,
  kParse,
  kProtocol,
  kTimeout,
  kRefused,
  kReset,
  kLimit,
  kIo,
  kUnsupported,
  kInternal,
};

const char* toString(Side side);
const char* toString(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  Side side = Side::kInternal;
  bool retryable = false;
  std::string detail;

  // "upstream refused: connect 198.18.0.2:80: Connection refused (retryable)"
  std::string describe() const;
};

inline Error makeError(ErrorCode code, Side side, std::string detail, bool retryable = false) {
  return Error{code, side, retryable, std::move(detail)};
}

// A value or the Error that prevented it. Errors are values on the data path; nothing throws.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }
  Error&& takeError() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  Error&& takeError() && { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace meshnode
