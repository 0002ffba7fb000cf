// Writing files so that a crash never leaves a half-written one: the data goes to a
// temporary file in the same directory, is fsync'ed, then renamed over the target.
//
//   write_file_atomic("report.json", json.dump(2));   // throws Error(kIo) naming the path
#pragma once

#include <string>
#include <string_view>

namespace tessera {

void write_file_atomic(const std::string& path, std::string_view contents);

}  // namespace tessera
