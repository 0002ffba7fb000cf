// The scalar converters: every type to and from f32, f64 and i64, and one element of any
// type to any other (the reference for the bulk path in bulk_convert.cpp).
//
// Each conversion rounds once from the exact source value: f16/bf16 results of wide
// sources (i32, i64, f64, fixed) go through round_to_odd_f32, never through a second
// nearest-even rounding.
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "dtype_internal.h"
#include "tessera/core/dtype.h"
#include "tessera/core/error.h"

namespace tessera {
namespace {

template <typename T>
T read(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <typename T>
void write(void* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

// NaN -> 0, truncation toward zero, saturation at the range of T.
template <typename T>
T float_to_int(double v) {
  if (std::isnan(v)) return 0;
  constexpr double kLimit = -static_cast<double>(std::numeric_limits<T>::min());  // 2^(b-1)
  if (v >= kLimit) return std::numeric_limits<T>::max();
  if (v <= -kLimit) return std::numeric_limits<T>::min();
  return static_cast<T>(v);
}

template <typename T>
T saturate_i64(int64_t v) {
  if (v > std::numeric_limits<T>::max()) return std::numeric_limits<T>::max();
  if (v < std::numeric_limits<T>::min()) return std::numeric_limits<T>::min();
  return static_cast<T>(v);
}

// A fixed-point value truncated toward zero and saturated to an integer type.
int64_t fixed_to_int(int64_t raw, const FixedFormat& from, const FixedFormat& as_int) {
  return detail::requantize_fixed(raw, from, as_int);
}

// The exact value of a fixed-point element rounded once into a non-fixed type.
void store_fixed_value(int64_t raw, const FixedFormat& from, void* p, DType t) {
  switch (t.id()) {
    case DTypeId::kF32:
      write(p, static_cast<float>(fixed_to_real(raw, from)));
      return;
    case DTypeId::kF16:
      write(p, detail::real_to_f16_bits(fixed_to_real(raw, from)));
      return;
    case DTypeId::kBF16:
      write(p, detail::real_to_bf16_bits(fixed_to_real(raw, from)));
      return;
    case DTypeId::kI8:
      write(p, static_cast<int8_t>(fixed_to_int(raw, from, detail::kI8AsFixed)));
      return;
    case DTypeId::kI32:
      write(p, static_cast<int32_t>(fixed_to_int(raw, from, detail::kI32AsFixed)));
      return;
    case DTypeId::kI64:
      write(p, fixed_to_int(raw, from, detail::kI64AsFixed));
      return;
    case DTypeId::kBool:
      write(p, static_cast<uint8_t>(raw != 0));
      return;
    case DTypeId::kFixed:
      store_fixed_raw(detail::requantize_fixed(raw, from, t.fixed_format()), p, t.fixed_format());
      return;
  }
}

}  // namespace

float load_f32(const void* p, DType t) {
  switch (t.id()) {
    case DTypeId::kF32:
      return read<float>(p);
    case DTypeId::kF16:
      return f16_bits_to_f32(read<uint16_t>(p));
    case DTypeId::kBF16:
      return bf16_bits_to_f32(read<uint16_t>(p));
    case DTypeId::kI8:
      return static_cast<float>(read<int8_t>(p));
    case DTypeId::kI32:
      return static_cast<float>(read<int32_t>(p));
    case DTypeId::kI64:
      return static_cast<float>(read<int64_t>(p));
    case DTypeId::kBool:
      return read<uint8_t>(p) != 0 ? 1.0f : 0.0f;
    case DTypeId::kFixed:
      return static_cast<float>(
          fixed_to_real(load_fixed_raw(p, t.fixed_format()), t.fixed_format()));
  }
  return 0.0f;
}

void store_f32(float v, void* p, DType t) {
  switch (t.id()) {
    case DTypeId::kF32:
      write(p, v);
      return;
    case DTypeId::kF16:
      write(p, f32_to_f16_bits(v));
      return;
    case DTypeId::kBF16:
      write(p, f32_to_bf16_bits(v));
      return;
    case DTypeId::kI8:
      write(p, float_to_int<int8_t>(v));
      return;
    case DTypeId::kI32:
      write(p, float_to_int<int32_t>(v));
      return;
    case DTypeId::kI64:
      write(p, float_to_int<int64_t>(v));
      return;
    case DTypeId::kBool:
      write(p, static_cast<uint8_t>(v != 0.0f || std::isnan(v)));
      return;
    case DTypeId::kFixed:
      store_fixed_raw(quantize_fixed(v, t.fixed_format()), p, t.fixed_format());
      return;
  }
}

double load_f64(const void* p, DType t) {
  switch (t.id()) {
    case DTypeId::kF32:
    case DTypeId::kF16:
    case DTypeId::kBF16:
    case DTypeId::kBool:
      return load_f32(p, t);
    case DTypeId::kI8:
      return read<int8_t>(p);
    case DTypeId::kI32:
      return read<int32_t>(p);
    case DTypeId::kI64:
      return static_cast<double>(read<int64_t>(p));
    case DTypeId::kFixed:
      return static_cast<double>(
          fixed_to_real(load_fixed_raw(p, t.fixed_format()), t.fixed_format()));
  }
  return 0.0;
}

void store_f64(double v, void* p, DType t) {
  switch (t.id()) {
    case DTypeId::kF32:
      write(p, static_cast<float>(v));
      return;
    case DTypeId::kF16:
      write(p,
            std::isnan(v) ? f32_to_f16_bits(static_cast<float>(v)) : detail::real_to_f16_bits(v));
      return;
    case DTypeId::kBF16:
      write(p,
            std::isnan(v) ? f32_to_bf16_bits(static_cast<float>(v)) : detail::real_to_bf16_bits(v));
      return;
    case DTypeId::kI8:
      write(p, float_to_int<int8_t>(v));
      return;
    case DTypeId::kI32:
      write(p, float_to_int<int32_t>(v));
      return;
    case DTypeId::kI64:
      write(p, float_to_int<int64_t>(v));
      return;
    case DTypeId::kBool:
      write(p, static_cast<uint8_t>(v != 0.0 || std::isnan(v)));
      return;
    case DTypeId::kFixed:
      store_fixed_raw(quantize_fixed(v, t.fixed_format()), p, t.fixed_format());
      return;
  }
}

int64_t load_i64(const void* p, DType t) {
  switch (t.id()) {
    case DTypeId::kF32:
    case DTypeId::kF16:
    case DTypeId::kBF16:
      return float_to_int<int64_t>(load_f32(p, t));
    case DTypeId::kI8:
      return read<int8_t>(p);
    case DTypeId::kI32:
      return read<int32_t>(p);
    case DTypeId::kI64:
      return read<int64_t>(p);
    case DTypeId::kBool:
      return read<uint8_t>(p) != 0 ? 1 : 0;
    case DTypeId::kFixed:
      return fixed_to_int(load_fixed_raw(p, t.fixed_format()), t.fixed_format(),
                          detail::kI64AsFixed);
  }
  return 0;
}

void store_i64(int64_t v, void* p, DType t) {
  switch (t.id()) {
    case DTypeId::kF32:
      write(p, static_cast<float>(v));
      return;  // one rounding
    case DTypeId::kF16:
      write(p, detail::real_to_f16_bits(static_cast<long double>(v)));
      return;
    case DTypeId::kBF16:
      write(p, detail::real_to_bf16_bits(static_cast<long double>(v)));
      return;
    case DTypeId::kI8:
      write(p, saturate_i64<int8_t>(v));
      return;
    case DTypeId::kI32:
      write(p, saturate_i64<int32_t>(v));
      return;
    case DTypeId::kI64:
      write(p, v);
      return;
    case DTypeId::kBool:
      write(p, static_cast<uint8_t>(v != 0));
      return;
    case DTypeId::kFixed: {
      const FixedFormat& f = t.fixed_format();
      bool negative = v < 0;
      uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
      store_fixed_raw(detail::quantize_scaled(negative, magnitude, f.frac_bits(), f), p, f);
      return;
    }
  }
}

namespace detail {

void convert_element(const void* src, DType src_type, void* dst, DType dst_type) {
  switch (src_type.kind()) {
    case DTypeKind::kFloat:
      store_f32(load_f32(src, src_type), dst, dst_type);
      return;
    case DTypeKind::kInt:
    case DTypeKind::kBool:
      store_i64(load_i64(src, src_type), dst, dst_type);
      return;
    case DTypeKind::kFixed: {
      const FixedFormat& f = src_type.fixed_format();
      store_fixed_value(load_fixed_raw(src, f), f, dst, dst_type);
      return;
    }
  }
}

}  // namespace detail
}  // namespace tessera
