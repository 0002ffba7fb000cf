// The one error model of Tessera.
//
// Every failure that a user can cause (bad shapes, a corrupt file, an unsupported op)
// is a `tessera::Error` whose message names the file, node, field or value at fault.
// `TS_CHECK` states always-on invariants; it formats its message only on failure.
//
//   TS_CHECK(a.rank() == 2, ErrorKind::kInvalidArgument,
//            "matmul '{}': expected a rank-2 input, got {}", name, a.str());
//   throw Error(ErrorKind::kNotFound, fmt::format("file '{}' does not exist", path));
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace tessera {

enum class ErrorKind {
  kInvalidArgument,
  kNotFound,
  kIo,
  kUnsupported,
  kOutOfMemory,
  kInternal,
};

std::string_view error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message);
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// Throws Error(kind, fmt::format(...)). Kept out of line so call sites stay small.
[[noreturn]] void throw_error(ErrorKind kind, std::string message);

}  // namespace tessera

#define TS_CHECK(cond, kind, ...)                                          \
  do {                                                                     \
    if (!(cond)) [[unlikely]] {                                            \
      ::tessera::throw_error((kind), ::fmt::format(__VA_ARGS__));         \
    }                                                                      \
  } while (0)

// An internal invariant: a failure here is a Tessera bug, not a user error.
#define TS_ASSERT(cond)                                                              \
  do {                                                                               \
    if (!(cond)) [[unlikely]] {                                                      \
      ::tessera::throw_error(::tessera::ErrorKind::kInternal,                        \
                             ::fmt::format("internal error: {} ({}:{})", #cond,      \
                                           __FILE__, __LINE__));                     \
    }                                                                                \
  } while (0)
