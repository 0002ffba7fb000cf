// STUB (being written): the dtype table and converters.
#include "tessera/core/dtype.h"
#include <cstring>
#include "tessera/core/error.h"
namespace tessera {
DType DType::fixed(int width, int int_bits, bool is_signed, Rounding r, Overflow o) {
  DType t(DTypeId::kFixed); t.fixed_ = {width, int_bits, is_signed, r, o}; return t;
}
DType DType::fixed(const FixedFormat& f) { DType t(DTypeId::kFixed); t.fixed_ = f; return t; }
std::string DType::name() const { return "?"; }
size_t DType::size() const { return 4; }
DTypeKind DType::kind() const { return DTypeKind::kFloat; }
double load_f64(const void* p, DType) { float f; std::memcpy(&f, p, 4); return f; }
void store_f64(double v, void* p, DType) { float f = static_cast<float>(v); std::memcpy(p, &f, 4); }
void convert(const void* s, DType, void* d, DType, size_t n) { std::memcpy(d, s, n * 4); }
}  // namespace tessera
