// Readers and writers for the file formats datasets come in. Every reader checks sizes and
// headers and throws Error naming the file, the record and what was expected; none trusts
// a length field before checking it against the file.
//
//   Tensor images = read_idx("train-images-idx3-ubyte.gz", /*normalize=*/true);  // f32 [0,1]
//   Tensor a = read_npy("x.npy");
//   write_npy("pred.npy", a);                                   // atomic
//   Dataset d = read_csv_dataset("iris.csv", {.label_column = "species"});
#pragma once

#include <map>
#include <string>

#include "tessera/data/dataset.h"

namespace tessera {

// IDX (the MNIST family), gzip-compressed or raw. u8 data becomes i32 (labels) or, with
// `normalize`, f32 in [0, 1]; i8/i16/i32/f32/f64 map to the nearest Tessera dtype.
Tensor read_idx(const std::string& path, bool normalize = false);

// NPY v1/v2/v3 (little-endian f2/f4/f8/i1/i2/i4/i8/u1/b1, C order) and NPZ (stored or
// deflated). f64 becomes f32, u1 and i2 become i32.
Tensor read_npy(const std::string& path);
std::map<std::string, Tensor> read_npz(const std::string& path);
void write_npy(const std::string& path, const Tensor& t);

struct CsvOptions {
  bool header = true;
  std::string label_column;   // name (with a header) or 0-based index; empty = last column
  char delimiter = ',';
  bool integer_labels = true;  // labels as i32 class ids (else f32 targets)
};
// Every other column becomes an f32 feature; non-numeric fields are errors (file:line:col).
Dataset read_csv_dataset(const std::string& path, const CsvOptions& options = {});

// Fashion-MNIST from Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist, or
// `dir`): split "train" (60000) or "test" (10000); x f32 [n, 28, 28] in [0, 1], y i32 [n].
Dataset load_fashion_mnist(const std::string& split, const std::string& dir = {});
std::string default_fashion_mnist_dir();

}  // namespace tessera
