#include "tessera/core/tensor.h"

#include <cstdlib>
#include <cstring>

#include "tessera/core/error.h"

namespace tessera {

Buffer::Buffer(size_t bytes) : size_(bytes) {
  size_t rounded = (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
  if (rounded == 0) rounded = kBufferAlignment;
  data_ = std::aligned_alloc(kBufferAlignment, rounded);
  TS_CHECK(data_ != nullptr, ErrorKind::kOutOfMemory, "cannot allocate {} bytes", bytes);
  std::memset(data_, 0, rounded);
}

Buffer::~Buffer() { std::free(data_); }

Tensor::Tensor(std::shared_ptr<Buffer> buffer, size_t offset_bytes, Shape shape,
               Shape strides, DType dtype)
    : buffer_(std::move(buffer)),
      offset_(offset_bytes),
      shape_(shape),
      strides_(strides),
      dtype_(dtype) {
  TS_CHECK(shape_.is_static(), ErrorKind::kInvalidArgument,
           "a tensor needs a concrete shape, got {}", shape_.str());
  TS_CHECK(strides_.rank() == shape_.rank(), ErrorKind::kInvalidArgument,
           "strides {} do not match shape {}", strides_.str(), shape_.str());
}

Tensor Tensor::zeros(DType dtype, const Shape& shape) {
  TS_CHECK(shape.is_static(), ErrorKind::kInvalidArgument,
           "a tensor needs a concrete shape, got {}", shape.str());
  auto buffer = std::make_shared<Buffer>(static_cast<size_t>(shape.numel()) * dtype.size());
  return Tensor(std::move(buffer), 0, shape, contiguous_strides(shape), dtype);
}

Tensor Tensor::full(DType dtype, const Shape& shape, double value) {
  Tensor t = zeros(dtype, shape);
  int64_t n = t.numel();
  if (n == 0) return t;
  t.set(0, value);
  char* p = static_cast<char*>(t.raw_data());
  size_t es = dtype.size();
  for (int64_t i = 1; i < n; ++i) std::memcpy(p + i * es, p, es);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype) { return full(dtype, Shape{}, value); }

bool Tensor::is_contiguous() const { return strides_ == contiguous_strides(shape_); }

namespace {
// Byte offset of the element at a flat row-major index.
size_t element_offset(const Shape& shape, const Shape& strides, int64_t flat, size_t es) {
  int64_t off = 0;
  for (int i = shape.rank() - 1; i >= 0; --i) {
    int64_t d = shape[i];
    off += (flat % d) * strides[i];
    flat /= d;
  }
  return static_cast<size_t>(off) * es;
}
}  // namespace

double Tensor::get(int64_t flat_index) const {
  size_t es = dtype_.size();
  size_t off = is_contiguous() ? flat_index * es : element_offset(shape_, strides_, flat_index, es);
  return load_f64(static_cast<const char*>(raw_data()) + off, dtype_);
}

void Tensor::set(int64_t flat_index, double value) {
  size_t es = dtype_.size();
  size_t off = is_contiguous() ? flat_index * es : element_offset(shape_, strides_, flat_index, es);
  store_f64(value, static_cast<char*>(raw_data()) + off, dtype_);
}

Tensor Tensor::clone() const {
  Tensor t = zeros(dtype_, shape_);
  t.copy_from(*this);
  return t;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::reshape(const Shape& shape) const {
  TS_CHECK(shape.numel() == numel(), ErrorKind::kInvalidArgument,
           "cannot reshape a tensor of shape {} to {}", shape_.str(), shape.str());
  TS_CHECK(is_contiguous(), ErrorKind::kInvalidArgument,
           "reshape needs a contiguous tensor, got strides {}", strides_.str());
  return Tensor(buffer_, offset_, shape, contiguous_strides(shape), dtype_);
}

Tensor Tensor::to(DType dtype) const {
  Tensor t = zeros(dtype, shape_);
  t.copy_from(*this);
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  TS_CHECK(src.shape() == shape_, ErrorKind::kInvalidArgument,
           "copy from shape {} into shape {}", src.shape().str(), shape_.str());
  if (src.is_contiguous() && is_contiguous()) {
    if (src.dtype() == dtype_) {
      std::memcpy(raw_data(), src.raw_data(), nbytes());
    } else {
      convert(src.raw_data(), src.dtype(), raw_data(), dtype_, static_cast<size_t>(numel()));
    }
    return;
  }
  int64_t n = numel();
  size_t ses = src.dtype().size(), des = dtype_.size();
  for (int64_t i = 0; i < n; ++i) {
    const char* s = static_cast<const char*>(src.raw_data()) +
                    element_offset(src.shape(), src.strides(), i, ses);
    char* d = static_cast<char*>(raw_data()) + element_offset(shape_, strides_, i, des);
    convert(s, src.dtype(), d, dtype_, 1);
  }
}

std::vector<float> Tensor::to_f32_vector() const {
  std::vector<float> v(static_cast<size_t>(numel()));
  for (int64_t i = 0; i < numel(); ++i) v[i] = static_cast<float>(get(i));
  return v;
}

std::string Tensor::str(int max_elements) const {
  std::string s = fmt::format("Tensor({}, {}, [", dtype_.name(), shape_.str());
  int64_t n = numel();
  for (int64_t i = 0; i < n && i < max_elements; ++i) {
    if (i) s += ", ";
    s += fmt::format("{:g}", get(i));
  }
  if (n > max_elements) s += ", ...";
  return s + "])";
}

}  // namespace tessera
