#include "tessera/core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "tessera/core/error.h"

namespace tessera {

void write_file_atomic(const std::string& path, std::string_view contents) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  // The temporary name starts with '.' so a directory listing does not show it.
  std::string tmpl = dir.string();
  tmpl.append("/.").append(target.filename().string()).append(".tmp-XXXXXX");
  int fd = mkstemp(tmpl.data());
  TS_CHECK(fd >= 0, ErrorKind::kIo, "cannot write '{}': {}", path, std::strerror(errno));
  auto fail = [&](const char* what) {
    int err = errno;
    ::close(fd);
    ::unlink(tmpl.c_str());
    throw_error(ErrorKind::kIo, fmt::format("cannot write '{}': {} failed: {}", path, what,
                                            std::strerror(err)));
  };
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write");
    }
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0) fail("chmod");
  if (::fsync(fd) != 0) fail("fsync");
  if (::close(fd) != 0) {
    ::unlink(tmpl.c_str());
    throw_error(ErrorKind::kIo, fmt::format("cannot write '{}': close failed", path));
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmpl.c_str());
    throw_error(ErrorKind::kIo,
                fmt::format("cannot write '{}': rename failed: {}", path, std::strerror(err)));
  }
}

}  // namespace tessera
