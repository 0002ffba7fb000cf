// NumPy's .npz archives: a zip file of .npy members (np.savez stores them, np.savez_compressed
// deflates them). Read in memory through libzip so that the fuzz target can drive it.
#include <zip.h>

#include <memory>

#include "formats.h"
#include "tessera/core/error.h"
#include "tessera/data/loaders.h"

namespace tessera {
namespace data_internal {

std::map<std::string, Tensor> parse_npz(std::string_view bytes, const std::string& name) {
  TS_CHECK(!bytes.empty(), ErrorKind::kInvalidArgument, "file '{}' is empty (expected .npz)", name);
  zip_error_t error;
  zip_error_init(&error);
  // libzip does not free a buffer it does not own (freep = 0).
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (source == nullptr) {
    std::string what = zip_error_strerror(&error);
    zip_error_fini(&error);
    throw_error(ErrorKind::kOutOfMemory, fmt::format("file '{}': {}", name, what));
  }
  zip_t* archive = zip_open_from_source(source, ZIP_RDONLY, &error);
  if (archive == nullptr) {
    std::string what = zip_error_strerror(&error);
    zip_error_fini(&error);
    zip_source_free(source);
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("file '{}': not a readable .npz (zip) archive: {}", name, what));
  }
  zip_error_fini(&error);
  std::unique_ptr<zip_t, void (*)(zip_t*)> closer(archive, [](zip_t* z) { zip_discard(z); });

  std::map<std::string, Tensor> arrays;
  zip_int64_t entries = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < entries; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    TS_CHECK(zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &st) == 0,
             ErrorKind::kInvalidArgument, "file '{}': cannot read member {}: {}", name, i,
             zip_strerror(archive));
    const zip_uint64_t kNeeded =
        ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
    TS_CHECK((st.valid & kNeeded) == kNeeded, ErrorKind::kInvalidArgument,
             "file '{}': member {} has an incomplete zip directory entry", name, i);
    std::string member = st.name;
    // np.savez writes only "<key>.npy"; anything else (directories, notes) is not an array.
    if (member.size() <= 4 || member.compare(member.size() - 4, 4, ".npy") != 0) continue;
    std::string key = member.substr(0, member.size() - 4);
    std::string where = fmt::format("{}' member '{}", name, member);
    TS_CHECK(st.comp_method == ZIP_CM_STORE || st.comp_method == ZIP_CM_DEFLATE,
             ErrorKind::kUnsupported,
             "file '{}': compression method {} is not supported (expected stored or deflated)",
             where, st.comp_method);
    TS_CHECK(!(st.valid & ZIP_STAT_ENCRYPTION_METHOD) || st.encryption_method == ZIP_EM_NONE,
             ErrorKind::kUnsupported, "file '{}': encrypted members are not supported", where);
    // The directory's size is untrusted: it cannot exceed what the compressed bytes can
    // inflate to (deflate's ratio is at most 1032:1), nor the archive for stored members.
    uint64_t bound = st.comp_method == ZIP_CM_STORE ? bytes.size() : bytes.size() * 1032 + 1024;
    TS_CHECK(st.size <= bound, ErrorKind::kInvalidArgument,
             "file '{}': the zip directory claims {} bytes, more than the archive can hold", where,
             st.size);
    TS_CHECK(!arrays.contains(key), ErrorKind::kInvalidArgument,
             "file '{}': the key '{}' occurs twice", name, key);

    zip_file_t* file = zip_fopen_index(archive, static_cast<zip_uint64_t>(i), 0);
    TS_CHECK(file != nullptr, ErrorKind::kInvalidArgument, "file '{}': cannot open: {}", where,
             zip_strerror(archive));
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> file_closer(file, zip_fclose);
    std::string data(static_cast<size_t>(st.size), '\0');
    size_t done = 0;
    while (done < data.size()) {
      zip_int64_t n = zip_fread(file, data.data() + done, data.size() - done);
      TS_CHECK(n >= 0, ErrorKind::kInvalidArgument, "file '{}': corrupt data: {}", where,
               zip_file_strerror(file));
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    TS_CHECK(done == data.size(), ErrorKind::kInvalidArgument,
             "file '{}': truncated: expected {} bytes, found {}", where, data.size(), done);
    // Reading one more byte makes libzip finish the stream and check its CRC.
    char extra;
    zip_int64_t more = zip_fread(file, &extra, 1);
    TS_CHECK(more == 0, ErrorKind::kInvalidArgument, "file '{}': corrupt data: {}", where,
             more < 0 ? zip_file_strerror(file) : "longer than its directory entry says");
    arrays.emplace(std::move(key), parse_npy(data, name + ":" + member));
  }
  return arrays;
}

}  // namespace data_internal

std::map<std::string, Tensor> read_npz(const std::string& path) {
  return data_internal::parse_npz(data_internal::read_file_bytes(path), path);
}

}  // namespace tessera
