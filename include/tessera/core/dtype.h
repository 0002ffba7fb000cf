// Value types and the one traits table that every backend, simulator and file format uses.
//
// A DType is a small value: an id, plus a FixedFormat when the id is kFixed. All
// conversions between types go through the functions declared here; there is no second
// conversion routine anywhere in Tessera.
//
//   DType q = DType::fixed(16, 6);                 // ap_fixed<16,6> (AP_TRN, AP_WRAP)
//   DType s = DType::fixed(8, 3, true, Rounding::kHalfEven, Overflow::kSaturate);
//   uint16_t h = 0; store_f32(0.1f, &h, kF16);     // round-to-nearest-even
//   float back = load_f32(&h, kF16);
//   convert(src, kF32, dst, kBF16, n);              // bulk, bit-exact
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tessera {

enum class DTypeId : uint8_t { kF32, kF16, kBF16, kI8, kI32, kI64, kBool, kFixed };
inline constexpr int kDTypeIdCount = 8;

enum class DTypeKind : uint8_t { kFloat, kInt, kBool, kFixed };

// Quantization (rounding) modes, named after Xilinx ap_fixed's. "Half" modes decide ties.
enum class Rounding : uint8_t {
  kTruncate,      // AP_TRN: toward -inf (drop bits)
  kTruncateZero,  // AP_TRN_ZERO: toward zero
  kHalfUp,        // AP_RND: ties toward +inf
  kHalfZero,      // AP_RND_ZERO: ties toward zero
  kHalfAway,      // AP_RND_INF: ties away from zero
  kHalfDown,      // AP_RND_MIN_INF: ties toward -inf
  kHalfEven,      // AP_RND_CONV: ties to even
};
inline constexpr int kRoundingCount = 7;

enum class Overflow : uint8_t {
  kWrap,               // AP_WRAP: keep the low W bits
  kSaturate,           // AP_SAT: clamp to [min, max]
  kSaturateZero,       // AP_SAT_ZERO: overflow gives 0
  kSymmetricSaturate,  // AP_SAT_SYM: clamp to [-max, max] (signed)
};
inline constexpr int kOverflowCount = 4;

// Fixed point value = raw * 2^-(width - int_bits). `int_bits` counts the sign bit for
// signed formats, as ap_fixed<W,I> does, and may be negative or exceed `width`.
// Storage is the narrowest of 1, 2, 4, 8 bytes holding `width` bits, as a
// sign-extended (signed) or zero-extended (unsigned) two's-complement integer.
struct FixedFormat {
  int width = 16;     // 1 … 64
  int int_bits = 6;   // -1024 … 1024
  bool is_signed = true;
  Rounding rounding = Rounding::kTruncate;
  Overflow overflow = Overflow::kWrap;

  int frac_bits() const { return width - int_bits; }
  bool operator==(const FixedFormat&) const = default;
};

class DType {
 public:
  constexpr DType() = default;
  constexpr DType(DTypeId id) : id_(id) {}  // NOLINT: implicit by design (kF32 etc.)

  // Throws Error(kInvalidArgument) when width is outside 1…64.
  static DType fixed(int width, int int_bits, bool is_signed = true,
                     Rounding rounding = Rounding::kTruncate,
                     Overflow overflow = Overflow::kWrap);
  static DType fixed(const FixedFormat& format);

  // Inverse of name(): "f32", "bf16", "i8", "bool", "fixed<16,6>",
  // "ufixed<8,3,rnd_conv,sat>". Throws Error naming the text when it is not a dtype.
  static DType parse(std::string_view text);

  constexpr DTypeId id() const { return id_; }
  const FixedFormat& fixed_format() const { return fixed_; }  // valid when id() == kFixed
  std::string name() const;
  size_t size() const;  // bytes per element
  DTypeKind kind() const;
  bool is_float() const { return kind() == DTypeKind::kFloat; }
  bool is_int() const { return kind() == DTypeKind::kInt; }

  bool operator==(const DType& o) const {
    return id_ == o.id_ && (id_ != DTypeId::kFixed || fixed_ == o.fixed_);
  }

 private:
  DTypeId id_ = DTypeId::kF32;
  FixedFormat fixed_{};
};

inline constexpr DType kF32{DTypeId::kF32};
inline constexpr DType kF16{DTypeId::kF16};
inline constexpr DType kBF16{DTypeId::kBF16};
inline constexpr DType kI8{DTypeId::kI8};
inline constexpr DType kI32{DTypeId::kI32};
inline constexpr DType kI64{DTypeId::kI64};
inline constexpr DType kBool{DTypeId::kBool};

// One row per DTypeId. For kFixed, size is 0 here: it depends on the width (DType::size()).
struct DTypeTraits {
  DTypeId id;
  const char* name;
  size_t size;
  DTypeKind kind;
};
const DTypeTraits& dtype_traits(DTypeId id);

// --- Scalar converters --------------------------------------------------------------
// f32 <-> any. Float to int: NaN gives 0, values are truncated toward zero and saturate
// at the integer range; integers narrowed to a smaller integer type saturate too. Float to bool: nonzero (NaN included) is true. To f16/bf16: round
// to nearest even, Inf and NaN kept (NaN quieted), f16 subnormals exact, overflow to Inf.
// To fixed: the format's rounding and overflow modes; NaN gives 0, +-Inf saturate.
float load_f32(const void* p, DType t);
void store_f32(float v, void* p, DType t);

// f64 / i64 views, exact for every value of every type that fits (i64 and wide fixed
// through load_i64 / the raw integer). Used by reference kernels and integer math.
double load_f64(const void* p, DType t);
void store_f64(double v, void* p, DType t);
int64_t load_i64(const void* p, DType t);  // ints and bool exact; floats as by store rules
void store_i64(int64_t v, void* p, DType t);

// Raw access to a fixed-point element's integer (sign- or zero-extended).
int64_t load_fixed_raw(const void* p, const FixedFormat& f);
void store_fixed_raw(int64_t raw, void* p, const FixedFormat& f);  // raw must fit
// Quantizes a real number into `f` (rounding, then overflow handling): the raw integer.
int64_t quantize_fixed(long double v, const FixedFormat& f);
long double fixed_to_real(int64_t raw, const FixedFormat& f);
// Converts a raw value from one fixed format to another exactly on the integers, with `to`'s
// rounding and overflow modes (what assigning one ap_fixed to another does).
int64_t requantize_fixed(int64_t raw, const FixedFormat& from, const FixedFormat& to);

// --- Bit-level half types -----------------------------------------------------------
uint16_t f32_to_f16_bits(float v);
float f16_bits_to_f32(uint16_t h);
uint16_t f32_to_bf16_bits(float v);
float bf16_bits_to_f32(uint16_t h);

// --- Bulk conversion ----------------------------------------------------------------
// Converts n contiguous elements. The result of each element equals the scalar path:
// exact, and for fixed -> fixed exact on the raw integers (no detour through float).
void convert(const void* src, DType src_type, void* dst, DType dst_type, size_t n);

}  // namespace tessera
