// Byte-level text datasets for next-token training: every byte is a token id in [0, 256),
// and each sample is a window of `context` bytes with the window shifted by one byte as its
// targets. Bytes cannot be corrupt, so the only bad inputs are missing, unreadable, empty or
// too-short files and bad options; each error names the file and the value at fault.
#include <cstdint>

#include "formats.h"
#include "tessera/core/error.h"
#include "tessera/data/loaders.h"

namespace tessera {
namespace data_internal {

Dataset parse_text_bytes(std::string_view bytes, const std::string& name,
                         const TextOptions& options) {
  const int64_t context = options.context;
  TS_CHECK(context >= 1, ErrorKind::kInvalidArgument,
           "text '{}': context must be >= 1 byte, got {}", name, context);
  TS_CHECK(options.stride >= 0, ErrorKind::kInvalidArgument,
           "text '{}': stride must be >= 1 byte (or 0 for the context, {}), got {}", name, context,
           options.stride);
  const int64_t stride = options.stride == 0 ? context : options.stride;
  // One window needs context inputs and the byte after them as the last target (unsigned:
  // a context of INT64_MAX must not overflow in the message).
  const uint64_t needed = static_cast<uint64_t>(context) + 1;
  TS_CHECK(!bytes.empty(), ErrorKind::kInvalidArgument,
           "text '{}' is empty: next-byte training needs at least context + 1 = {} bytes", name,
           needed);
  const auto size = static_cast<int64_t>(bytes.size());
  TS_CHECK(size > context, ErrorKind::kInvalidArgument,
           "text '{}' has {} bytes, shorter than context + 1 = {} (one window of {} inputs and "
           "its next-byte targets); use a longer text or a smaller context",
           name, size, needed, context);
  const int64_t windows = (size - context - 1) / stride + 1;
  // x and y are [windows, context] i32 each; refuse sizes whose byte count overflows
  // before asking the allocator (an overlapping stride multiplies the text's size).
  int64_t elements = 0, total_bytes = 0;
  TS_CHECK(!__builtin_mul_overflow(windows, context, &elements) &&
               !__builtin_mul_overflow(elements, int64_t{8}, &total_bytes),
           ErrorKind::kOutOfMemory,
           "text '{}': {} windows of {} bytes (stride {}) do not fit in memory", name, windows,
           context, stride);

  Dataset d;
  d.name = name;
  d.x = Tensor::zeros(kI32, {windows, context});
  d.y = Tensor::zeros(kI32, {windows, context});
  int32_t* x = d.x.data<int32_t>();
  int32_t* y = d.y.data<int32_t>();
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  for (int64_t w = 0; w < windows; ++w) {
    const unsigned char* src = b + w * stride;
    int32_t* xr = x + w * context;
    int32_t* yr = y + w * context;
    for (int64_t t = 0; t < context; ++t) {
      xr[t] = src[t];
      yr[t] = src[t + 1];
    }
  }
  return d;
}

}  // namespace data_internal

Dataset load_text_bytes(const std::string& path, const TextOptions& options) {
  // The options are checked before the file is read, so a bad context is reported as such
  // even for a missing file.
  TS_CHECK(options.context >= 1, ErrorKind::kInvalidArgument,
           "text '{}': context must be >= 1 byte, got {}", path, options.context);
  TS_CHECK(options.stride >= 0, ErrorKind::kInvalidArgument,
           "text '{}': stride must be >= 1 byte (or 0 for the context, {}), got {}", path,
           options.context, options.stride);
  std::string bytes;
  try {
    bytes = data_internal::read_file_bytes(path);
  } catch (const Error& e) {
    // read_file_bytes names the file already; say what it was wanted for.
    throw Error(e.kind(), fmt::format("text: {}", e.what()));
  }
  return data_internal::parse_text_bytes(bytes, path, options);
}

std::string default_text_path() { return "/usr/share/common-licenses/GPL-3"; }

}  // namespace tessera
