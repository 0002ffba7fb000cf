#include "tessera/core/shape.h"

#include <algorithm>

#include "tessera/core/error.h"

namespace tessera {

Shape::Shape(std::initializer_list<int64_t> dims)
    : Shape(std::span<const int64_t>(dims.begin(), dims.size())) {}

Shape::Shape(std::span<const int64_t> dims) {
  TS_CHECK(dims.size() <= kMaxRank, ErrorKind::kInvalidArgument,
           "shape of rank {} exceeds the maximum rank {}", dims.size(), kMaxRank);
  for (int64_t d : dims) {
    TS_CHECK(d >= 0 || d == kDynamic, ErrorKind::kInvalidArgument,
             "invalid dimension {} (expected >= 0, or -1 for the batch)", d);
    dims_[rank_++] = d;
  }
}

int Shape::normalize_axis(int axis) const {
  int a = axis < 0 ? axis + rank_ : axis;
  TS_CHECK(a >= 0 && a < rank_, ErrorKind::kInvalidArgument,
           "axis {} is out of range for shape {}", axis, str());
  return a;
}

int64_t Shape::dim(int axis) const { return dims_[normalize_axis(axis)]; }

void Shape::push_back(int64_t d) {
  TS_CHECK(rank_ < kMaxRank, ErrorKind::kInvalidArgument, "shape {} cannot grow past rank {}",
           str(), kMaxRank);
  dims_[rank_++] = d;
}

bool Shape::is_static() const {
  return std::none_of(begin(), end(), [](int64_t d) { return d == kDynamic; });
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int64_t d : dims()) {
    TS_CHECK(d != kDynamic, ErrorKind::kInvalidArgument,
             "shape {} has a symbolic batch dimension; its size is unknown", str());
    n *= d;
  }
  return n;
}

Shape Shape::with_batch(int64_t n) const {
  Shape s = *this;
  for (int i = 0; i < rank_; ++i)
    if (s.dims_[i] == kDynamic) s.dims_[i] = n;
  return s;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i) s += ", ";
    s += dims_[i] == kDynamic ? std::string("N") : std::to_string(dims_[i]);
  }
  return s + "]";
}

bool Shape::operator==(const Shape& o) const {
  return rank_ == o.rank_ && std::equal(begin(), end(), o.begin());
}

Shape contiguous_strides(const Shape& shape) {
  Shape s = shape;
  int64_t stride = 1;
  for (int i = shape.rank() - 1; i >= 0; --i) {
    s[i] = stride;
    stride *= std::max<int64_t>(shape[i], 1);
  }
  return s;
}

bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out) {
  int rank = std::max(a.rank(), b.rank());
  Shape r;
  for (int i = 0; i < rank; ++i) {
    int ia = a.rank() - rank + i, ib = b.rank() - rank + i;
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    int64_t d;
    if (da == db) d = da;
    else if (da == 1) d = db;
    else if (db == 1) d = da;
    else return false;
    r.push_back(d);
  }
  *out = r;
  return true;
}

}  // namespace tessera
