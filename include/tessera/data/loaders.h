// Readers and writers for the file formats datasets come in. Every reader checks sizes and
// headers and throws Error naming the file, the record and what was expected; none trusts
// a length field before checking it against the file.
//
//   Tensor images = read_idx("train-images-idx3-ubyte.gz", /*normalize=*/true);  // f32 [0,1]
//   Tensor a = read_npy("x.npy");
//   write_npy("pred.npy", a);                                   // atomic
//   Dataset d = read_csv_dataset("iris.csv", {.label_column = "species"});
//   Dataset text = load_text_bytes(default_text_path(), {.context = 128});  // next-byte pairs
#pragma once

#include <map>
#include <string>

#include "tessera/data/dataset.h"

namespace tessera {

// IDX (the MNIST family), gzip-compressed (detected by its magic bytes) or raw. u8 data
// becomes i32 (labels) or, with `normalize`, f32 in [0, 1]; i8 stays i8, i16 and i32 become
// i32, f32 and f64 become f32 (`normalize` only affects u8). The payload must match the
// header's dimensions exactly.
Tensor read_idx(const std::string& path, bool normalize = false);

// NPY v1/v2/v3 (little-endian f2/f4/f8/i1/i2/i4/i8/u1/b1, C order) and NPZ (stored or
// deflated; keys are the member names without ".npy", other members are ignored). f64
// becomes f32, u1 and i2 become i32, f2 stays f16. Fortran order is an Error (unsupported).
Tensor read_npy(const std::string& path);
std::map<std::string, Tensor> read_npz(const std::string& path);
// Writes NPY v1.0 atomically (temporary file, fsync, rename) for f32, f16, i8, i32, i64 and
// bool; bf16 and fixed point have no NPY type and throw (cast first).
void write_npy(const std::string& path, const Tensor& t);

struct CsvOptions {
  bool header = true;
  std::string label_column;  // name (with a header) or 0-based index; empty = last column
  char delimiter = ',';
  bool integer_labels = true;  // labels as i32 class ids (else f32 targets)
};
// RFC 4180 style: "quoted" fields ("" inside is a quote; may span lines), LF or CRLF, blank
// lines skipped, a UTF-8 BOM ignored. Every other column becomes an f32 feature x [n, c-1];
// the label column gives y [n]. Non-numeric or empty fields, ragged rows and non-integer
// labels (with integer_labels) are errors naming file:line:column and the text.
Dataset read_csv_dataset(const std::string& path, const CsvOptions& options = {});

// Byte-level text for next-token (language-model) training: each byte is a token id in
// [0, 256). Sample i is the window of `context` bytes starting at byte i * stride: x [n,
// context] i32 holds the window, y [n, context] i32 the same window shifted by one byte (the
// next-byte targets), so n = (file bytes - context - 1) / stride + 1 and a trailing
// remainder shorter than a stride is dropped. stride 0 means stride = context: windows do
// not overlap as inputs (each byte is an input once), the usual split of a corpus into
// training sequences; a smaller stride gives overlapping windows (more, correlated samples).
// Hold out validation text with Dataset::split (the last windows, the end of the file).
struct TextOptions {
  int64_t context = 128;  // bytes per sample (the model's sequence length), >= 1
  int64_t stride = 0;     // bytes between window starts; 0: context
};
// Errors name the file and the value: a missing file (kNotFound), an unreadable one (kIo),
// an empty file or one shorter than context + 1 bytes, context < 1 or stride < 0
// (kInvalidArgument). Nothing is returned on error.
Dataset load_text_bytes(const std::string& path, const TextOptions& options = {});
// The demo text every Debian system has: /usr/share/common-licenses/GPL-3 (35 KB of
// English; base-files installs it).
std::string default_text_path();

// Fashion-MNIST from Debian's dataset-fashion-mnist (`dir`, else default_fashion_mnist_dir()):
// split "train" (60000) or "test" (10000); x f32 [n, 28, 28] in [0, 1], y i32 [n] in [0, 10).
// The files are <split>-{images-idx3,labels-idx1}-ubyte.gz (t10k- for test; unpacked copies
// are accepted too). A missing file is Error(kNotFound) saying how to install the package.
Dataset load_fashion_mnist(const std::string& split, const std::string& dir = {});
// $TESSERA_DATA_DIR/fashion-mnist when that variable is set, else
// /usr/share/datasets/fashion-mnist.
std::string default_fashion_mnist_dir();

}  // namespace tessera
