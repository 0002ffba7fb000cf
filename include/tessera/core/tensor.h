// Tensors: data, not graph nodes. A shared 64-byte-aligned buffer, a byte offset, a shape,
// strides in elements and a dtype. Copies of a Tensor share the buffer (like a view);
// clone() copies the data.
//
//   Tensor t = Tensor::zeros(kF32, {2, 3});
//   t.data<float>()[4] = 1.f;
//   Tensor u = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
//   Tensor h = u.to(kF16);                  // converted through the dtype table
//   std::vector<float> v = h.to_f32_vector();
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "tessera/core/dtype.h"
#include "tessera/core/shape.h"

namespace tessera {

inline constexpr size_t kBufferAlignment = 64;

// Owns one 64-byte-aligned, zero-initialized block. Never resized.
class Buffer {
 public:
  explicit Buffer(size_t bytes);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() {
    touch();
    return data_;
  }
  const void* data() const { return data_; }
  size_t size() const { return size_; }

  // Changes whenever a mutable pointer to the data is handed out (data(), and through it
  // Tensor::raw_data(), data<T>(), set(), copy_from()): copies kept elsewhere (a GPU's
  // copy of a parameter) compare it with the value they saw to know whether the host data
  // may have changed since. Reads through const access leave it alone.
  uint64_t generation() const { return generation_.load(std::memory_order_relaxed); }
  void touch() {
    generation_.store(generation_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
  std::atomic<uint64_t> generation_{0};
};

class Tensor {
 public:
  Tensor() = default;
  Tensor(std::shared_ptr<Buffer> buffer, size_t offset_bytes, Shape shape, Shape strides,
         DType dtype);

  static Tensor zeros(DType dtype, const Shape& shape);  // contiguous, fresh buffer
  static Tensor full(DType dtype, const Shape& shape, double value);
  static Tensor scalar(double value, DType dtype = kF32);  // rank 0
  // Values are stored through the dtype table (store_f64), so any dtype works.
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape,
                            DType dtype = kF32);

  bool defined() const { return buffer_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int rank() const { return shape_.rank(); }
  int64_t numel() const { return shape_.numel(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_.size(); }
  size_t offset_bytes() const { return offset_; }
  const std::shared_ptr<Buffer>& buffer() const { return buffer_; }
  bool is_contiguous() const;

  void* raw_data() { return static_cast<char*>(buffer_->data()) + offset_; }
  const void* raw_data() const {
    return static_cast<const char*>(std::as_const(*buffer_).data()) + offset_;
  }
  template <typename T>
  T* data() { return static_cast<T*>(raw_data()); }
  template <typename T>
  const T* data() const { return static_cast<const T*>(raw_data()); }

  // Element access by flat row-major index (respects strides), through the dtype table.
  double get(int64_t flat_index) const;
  void set(int64_t flat_index, double value);

  Tensor clone() const;       // contiguous deep copy
  Tensor contiguous() const;  // *this when already contiguous, else clone()
  Tensor reshape(const Shape& shape) const;  // a view; requires contiguity
  Tensor to(DType dtype) const;              // converted contiguous copy
  std::vector<float> to_f32_vector() const;
  void copy_from(const Tensor& src);  // same shape; converts dtype if needed

  std::string str(int max_elements = 16) const;

 private:
  std::shared_ptr<Buffer> buffer_;
  size_t offset_ = 0;
  Shape shape_;
  Shape strides_;
  DType dtype_;
};

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, DType dtype) {
  Tensor t = zeros(dtype, shape);
  int64_t n = t.numel();
  for (int64_t i = 0; i < n && i < static_cast<int64_t>(values.size()); ++i)
    t.set(i, static_cast<double>(values[i]));
  return t;
}

}  // namespace tessera
