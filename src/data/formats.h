// Internal to the data module: the parsers behind loaders.h, working on bytes in memory so
// that the fuzz targets (tests/fuzz/*_fuzz.cpp) and the corpus-replay unit test can drive
// them without touching the file system. `name` is what error messages call the input.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "tessera/core/tensor.h"
#include "tessera/data/dataset.h"
#include "tessera/data/loaders.h"

namespace tessera::data_internal {

// The whole file; Error(kNotFound) when it does not exist, Error(kIo) when unreadable.
std::string read_file_bytes(const std::string& path);

// gzip streams start with 0x1f 0x8b.
bool is_gzip(std::string_view bytes);
// Inflates one or more concatenated gzip members; Error(kInvalidArgument) naming `name`
// when the stream is corrupt or truncated.
std::string gunzip(std::string_view bytes, const std::string& name);

// IDX payload (already decompressed).
Tensor parse_idx(std::string_view bytes, const std::string& name, bool normalize);

Tensor parse_npy(std::string_view bytes, const std::string& name);
std::string encode_npy(const Tensor& t, const std::string& name);
std::map<std::string, Tensor> parse_npz(std::string_view bytes, const std::string& name);

Dataset parse_csv(std::string_view text, const std::string& name, const CsvOptions& options);

// Next-byte windows of raw bytes (load_text_bytes without the file).
Dataset parse_text_bytes(std::string_view bytes, const std::string& name,
                         const TextOptions& options);

}  // namespace tessera::data_internal
