// Shapes: up to kMaxRank dimensions held inline (no heap), with one symbolic dimension.
//
// kDynamic (-1) stands for the batch size "N" while a graph is built; executables are
// compiled for a concrete N and every -1 in shapes and shape attributes becomes N.
//
//   Shape s{kDynamic, 784};     // [N, 784]
//   s.str();                    // "[N, 784]"
//   s.with_batch(32).numel();   // 25088
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace tessera {

inline constexpr int kMaxRank = 8;
inline constexpr int64_t kDynamic = -1;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(std::span<const int64_t> dims);

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[i]; }
  int64_t& operator[](int i) { return dims_[i]; }
  // Negative axes count from the end (-1 is the last). Throws on out-of-range axes.
  int64_t dim(int axis) const;
  int normalize_axis(int axis) const;

  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + rank_; }
  std::span<const int64_t> dims() const { return {dims_.data(), static_cast<size_t>(rank_)}; }
  std::vector<int64_t> to_vector() const { return {begin(), end()}; }

  void push_back(int64_t d);
  bool is_static() const;  // no kDynamic dimension
  int64_t numel() const;   // product of dims; throws if dynamic
  Shape with_batch(int64_t n) const;  // every kDynamic replaced by n
  std::string str() const;

  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }

 private:
  std::array<int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

// Row-major contiguous strides, in elements.
Shape contiguous_strides(const Shape& shape);

// Numpy broadcasting of two shapes; a kDynamic dim broadcasts with 1 or kDynamic.
// Returns false when the shapes do not broadcast.
bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out);

}  // namespace tessera
