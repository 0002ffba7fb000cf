// Reading whole files and inflating gzip streams, for the dataset parsers.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "formats.h"
#include "tessera/core/error.h"

namespace tessera::data_internal {

std::string read_file_bytes(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    TS_CHECK(err != ENOENT && err != ENOTDIR, ErrorKind::kNotFound, "file '{}' does not exist",
             path);
    throw_error(ErrorKind::kIo, fmt::format("cannot open '{}': {}", path, std::strerror(err)));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  TS_CHECK(::fstat(fd, &st) == 0, ErrorKind::kIo, "cannot stat '{}': {}", path,
           std::strerror(errno));
  TS_CHECK(!S_ISDIR(st.st_mode), ErrorKind::kIo, "cannot read '{}': it is a directory", path);
  std::string bytes;
  // Regular files report their size; pipes and the like grow the buffer as they go.
  bytes.resize(S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : size_t{1} << 16);
  size_t done = 0;
  for (;;) {
    if (done == bytes.size()) bytes.resize(bytes.size() * 2 + 4096);
    ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_error(ErrorKind::kIo, fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

bool is_gzip(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

std::string gunzip(std::string_view bytes, const std::string& name) {
  z_stream zs{};
  // 15 + 16: gzip wrapper only (the caller has seen its magic).
  TS_CHECK(inflateInit2(&zs, 15 + 16) == Z_OK, ErrorKind::kOutOfMemory,
           "file '{}': cannot initialise zlib", name);
  struct Ender {
    z_stream* zs;
    ~Ender() { inflateEnd(zs); }
  } ender{&zs};

  // The trailer's ISIZE (size mod 2^32 of the last member) is a good first guess for the
  // output size; it is only a hint, bounded by deflate's maximum ratio (1032:1), so a
  // corrupt trailer cannot make us allocate much more than the data can really produce.
  size_t guess = bytes.size() * 4;
  if (bytes.size() >= 18) {
    const auto* t = reinterpret_cast<const unsigned char*>(bytes.data() + bytes.size() - 4);
    size_t isize = t[0] | (t[1] << 8) | (t[2] << 16) | (static_cast<size_t>(t[3]) << 24);
    if (isize > 0 && isize / 1032 <= bytes.size()) guess = isize;
  }
  std::string out;
  out.resize(guess + 1);  // +1 so a correct guess ends with room to spare, not a regrow

  size_t produced = 0;
  size_t consumed = 0;
  constexpr size_t kChunk = size_t{1} << 30;  // z_stream counts in 32-bit uInt
  for (;;) {
    if (produced == out.size()) out.resize(out.size() * 2);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + consumed));
    zs.avail_in = static_cast<uInt>(std::min(bytes.size() - consumed, kChunk));
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(std::min(out.size() - produced, kChunk));
    uInt in_before = zs.avail_in, out_before = zs.avail_out;
    int rc = inflate(&zs, Z_NO_FLUSH);
    consumed += in_before - zs.avail_in;
    produced += out_before - zs.avail_out;
    if (rc == Z_STREAM_END) {
      // Concatenated members are legal gzip (`cat a.gz b.gz`); trailing zero padding is
      // tolerated as gzip(1) does.
      std::string_view rest = bytes.substr(consumed);
      if (rest.find_first_not_of('\0') == std::string_view::npos) break;
      TS_CHECK(is_gzip(rest), ErrorKind::kInvalidArgument,
               "file '{}': unexpected data after the gzip stream at byte {}", name, consumed);
      TS_CHECK(inflateReset(&zs) == Z_OK, ErrorKind::kInternal, "file '{}': zlib reset", name);
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && consumed == bytes.size()) {
      throw_error(ErrorKind::kInvalidArgument,
                  fmt::format("file '{}': the gzip stream is truncated (after {} compressed "
                              "bytes, {} inflated)",
                              name, consumed, produced));
    }
    if (rc == Z_MEM_ERROR) {
      throw_error(ErrorKind::kOutOfMemory, fmt::format("file '{}': zlib out of memory", name));
    }
    TS_CHECK(rc == Z_OK || rc == Z_BUF_ERROR, ErrorKind::kInvalidArgument,
             "file '{}': corrupt gzip data at compressed byte {}: {}", name, consumed,
             zs.msg ? zs.msg : "inflate failed");
  }
  out.resize(produced);
  return out;
}

}  // namespace tessera::data_internal
