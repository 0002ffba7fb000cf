// The dtype traits table, DType construction and names. Parsing lives in dtype_parse.cpp,
// the converters in half.cpp, fixed_point.cpp, scalar_convert.cpp and bulk_convert.cpp.
#include "tessera/core/dtype.h"

#include <array>

#include "dtype_internal.h"
#include "mode_names.h"
#include "tessera/core/error.h"

namespace tessera {
namespace {

// Indexed by DTypeId; the static_assert below keeps it in step with the enum.
constexpr std::array<DTypeTraits, kDTypeIdCount> kTraits{{
    {DTypeId::kF32, "f32", 4, DTypeKind::kFloat},
    {DTypeId::kF16, "f16", 2, DTypeKind::kFloat},
    {DTypeId::kBF16, "bf16", 2, DTypeKind::kFloat},
    {DTypeId::kI8, "i8", 1, DTypeKind::kInt},
    {DTypeId::kI32, "i32", 4, DTypeKind::kInt},
    {DTypeId::kI64, "i64", 8, DTypeKind::kInt},
    {DTypeId::kBool, "bool", 1, DTypeKind::kBool},
    {DTypeId::kFixed, "fixed", 0, DTypeKind::kFixed},
}};

constexpr bool table_in_order() {
  for (int i = 0; i < kDTypeIdCount; ++i)
    if (static_cast<int>(kTraits[i].id) != i) return false;
  return true;
}
static_assert(table_in_order(), "kTraits rows must follow the DTypeId order");
static_assert(static_cast<int>(DTypeId::kFixed) + 1 == kDTypeIdCount);

}  // namespace

const DTypeTraits& dtype_traits(DTypeId id) {
  auto i = static_cast<size_t>(id);
  TS_CHECK(i < kTraits.size(), ErrorKind::kInvalidArgument, "invalid dtype id {}", i);
  return kTraits[i];
}

namespace detail {
size_t fixed_storage_bytes(int width) {
  if (width <= 8) return 1;
  if (width <= 16) return 2;
  if (width <= 32) return 4;
  return 8;
}
}  // namespace detail

DType DType::fixed(int width, int int_bits, bool is_signed, Rounding rounding, Overflow overflow) {
  return fixed(FixedFormat{width, int_bits, is_signed, rounding, overflow});
}

DType DType::fixed(const FixedFormat& format) {
  TS_CHECK(format.width >= 1 && format.width <= 64, ErrorKind::kInvalidArgument,
           "fixed-point width {} is outside 1…64", format.width);
  TS_CHECK(
      format.int_bits >= detail::kMinFixedIntBits && format.int_bits <= detail::kMaxFixedIntBits,
      ErrorKind::kInvalidArgument, "fixed-point integer bits {} are outside {}…{}", format.int_bits,
      detail::kMinFixedIntBits, detail::kMaxFixedIntBits);
  auto r = static_cast<int>(format.rounding);
  auto o = static_cast<int>(format.overflow);
  TS_CHECK(r >= 0 && r < kRoundingCount, ErrorKind::kInvalidArgument,
           "invalid fixed-point rounding mode {}", r);
  TS_CHECK(o >= 0 && o < kOverflowCount, ErrorKind::kInvalidArgument,
           "invalid fixed-point overflow mode {}", o);
  DType t(DTypeId::kFixed);
  t.fixed_ = format;
  return t;
}

std::string DType::name() const {
  if (id_ != DTypeId::kFixed) return dtype_traits(id_).name;
  const FixedFormat& f = fixed_;
  std::string s = fmt::format("{}fixed<{},{}", f.is_signed ? "" : "u", f.width, f.int_bits);
  // The defaults (trn, wrap) are left out, as ap_fixed<W,I> leaves them out.
  if (f.rounding != Rounding::kTruncate || f.overflow != Overflow::kWrap)
    s +=
        fmt::format(",{},{}", detail::rounding_name(f.rounding), detail::overflow_name(f.overflow));
  return s + ">";
}

size_t DType::size() const {
  if (id_ == DTypeId::kFixed) return detail::fixed_storage_bytes(fixed_.width);
  return dtype_traits(id_).size;
}

DTypeKind DType::kind() const { return dtype_traits(id_).kind; }

}  // namespace tessera
