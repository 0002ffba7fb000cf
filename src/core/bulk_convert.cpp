// convert(): bulk conversion, element for element equal to detail::convert_element, and
// fast for the pairs that cast kernels and data loading hit: f32 <-> f16 (F16C), f32 <->
// bf16, f32 <-> i32 (AVX2), f32 <-> i8 / i64 / bool, and same-type copies. The vector
// routines are compiled for AVX2/F16C through target attributes and picked at run time,
// so the library still runs on any x86-64 (and builds on other targets without them).
#include <cstring>
#include <limits>

#include "dtype_internal.h"
#include "tessera/core/cpu_features.h"
#include "tessera/core/dtype.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TESSERA_X86_DISPATCH 1
#include <immintrin.h>
#else
#define TESSERA_X86_DISPATCH 0
#endif

namespace tessera {
namespace {

// --- Portable loops (the tails of the vector loops, and non-x86 machines) ------------

void f32_to_f16_scalar(const float* s, uint16_t* d, size_t n) {
  for (size_t i = 0; i < n; ++i) d[i] = f32_to_f16_bits(s[i]);
}
void f16_to_f32_scalar(const uint16_t* s, float* d, size_t n) {
  for (size_t i = 0; i < n; ++i) d[i] = f16_bits_to_f32(s[i]);
}
void f32_to_bf16_scalar(const float* s, uint16_t* d, size_t n) {
  for (size_t i = 0; i < n; ++i) d[i] = f32_to_bf16_bits(s[i]);
}
void bf16_to_f32_scalar(const uint16_t* s, float* d, size_t n) {
  for (size_t i = 0; i < n; ++i) d[i] = bf16_bits_to_f32(s[i]);
}

// Float -> int without branches the vectorizer dislikes: NaN -> 0, clamp, truncate.
template <typename T>
void f32_to_int_scalar(const float* s, T* d, size_t n) {
  // The clamp bounds are exact floats (-2^(b-1) and the largest float below 2^(b-1)), so
  // clamping then truncating equals float_to_int's saturation.
  constexpr float kLo = static_cast<float>(std::numeric_limits<T>::min());
  constexpr float kHiExclusive = -kLo;
  for (size_t i = 0; i < n; ++i) {
    float v = s[i];
    T r;
    if (v != v)
      r = 0;
    else if (v >= kHiExclusive)
      r = std::numeric_limits<T>::max();
    else if (v <= kLo)
      r = std::numeric_limits<T>::min();
    else
      r = static_cast<T>(v);
    d[i] = r;
  }
}

template <typename T>
void int_to_f32_scalar(const T* s, float* d, size_t n) {
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<float>(s[i]);
}

#if TESSERA_X86_DISPATCH

#define TESSERA_AVX2 __attribute__((target("avx2,f16c")))

TESSERA_AVX2 void f32_to_f16_f16c(const float* s, uint16_t* d, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(s + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), h);
  }
  f32_to_f16_scalar(s + i, d + i, n - i);
}

TESSERA_AVX2 void f16_to_f32_f16c(const uint16_t* s, float* d, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    _mm256_storeu_ps(d + i, _mm256_cvtph_ps(h));
  }
  f16_to_f32_scalar(s + i, d + i, n - i);
}

// Eight f32 -> bf16 (in the low 16 bits of each 32-bit lane), as f32_to_bf16_bits does.
TESSERA_AVX2 inline __m256i bf16_round8(__m256 v) {
  __m256i x = _mm256_castps_si256(v);
  __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
  __m256i rounded = _mm256_add_epi32(x, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), lsb));
  __m256i quiet = _mm256_or_si256(x, _mm256_set1_epi32(0x00400000));
  __m256i is_nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  return _mm256_srli_epi32(_mm256_blendv_epi8(rounded, quiet, is_nan), 16);
}

TESSERA_AVX2 void f32_to_bf16_avx2(const float* s, uint16_t* d, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i a = bf16_round8(_mm256_loadu_ps(s + i));
    __m256i b = bf16_round8(_mm256_loadu_ps(s + i + 8));
    // packus works within 128-bit lanes: [a0-3 b0-3 | a4-7 b4-7] -> reorder the quadwords.
    __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), packed);
  }
  f32_to_bf16_scalar(s + i, d + i, n - i);
}

TESSERA_AVX2 void bf16_to_f32_avx2(const uint16_t* s, float* d, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    __m256 v = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    __m256 is_nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    __m256 quiet_bit = _mm256_and_ps(is_nan, _mm256_castsi256_ps(_mm256_set1_epi32(0x00400000)));
    _mm256_storeu_ps(d + i, _mm256_or_ps(v, quiet_bit));
  }
  bf16_to_f32_scalar(s + i, d + i, n - i);
}

// Eight f32 -> i32 with NaN -> 0 and saturation (cvttps gives INT32_MIN for NaN and for
// every out-of-range value, which is right only for large negative ones).
TESSERA_AVX2 inline __m256i f32_to_i32_8(__m256 v) {
  __m256i r = _mm256_cvttps_epi32(v);
  __m256 too_big = _mm256_cmp_ps(v, _mm256_set1_ps(2147483648.0f), _CMP_GE_OQ);
  r = _mm256_blendv_epi8(r, _mm256_set1_epi32(std::numeric_limits<int32_t>::max()),
                         _mm256_castps_si256(too_big));
  __m256 ordered = _mm256_cmp_ps(v, v, _CMP_ORD_Q);
  return _mm256_and_si256(r, _mm256_castps_si256(ordered));
}

TESSERA_AVX2 void f32_to_i32_avx2(const float* s, int32_t* d, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), f32_to_i32_8(_mm256_loadu_ps(s + i)));
  f32_to_int_scalar(s + i, d + i, n - i);
}

TESSERA_AVX2 void f32_to_i8_avx2(const float* s, int8_t* d, size_t n) {
  size_t i = 0;
  const __m256 lo = _mm256_set1_ps(-128.0f), hi = _mm256_set1_ps(127.0f);
  auto clamp = [&](__m256 v) TESSERA_AVX2 {
    __m256 ordered = _mm256_cmp_ps(v, v, _CMP_ORD_Q);
    v = _mm256_and_ps(v, ordered);  // NaN -> +0
    return _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(v, lo), hi));
  };
  for (; i + 32 <= n; i += 32) {
    __m256i a = clamp(_mm256_loadu_ps(s + i)), b = clamp(_mm256_loadu_ps(s + i + 8));
    __m256i c = clamp(_mm256_loadu_ps(s + i + 16)), e = clamp(_mm256_loadu_ps(s + i + 24));
    // Two in-lane packs leave 4-byte groups in the order a0 b0 c0 e0 a1 b1 c1 e1.
    __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, e));
    bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), bytes);
  }
  f32_to_int_scalar(s + i, d + i, n - i);
}

// The plain loops again, compiled for AVX2 so that the vectorizer uses 256-bit registers.
TESSERA_AVX2 void i32_to_f32_avx2(const int32_t* s, float* d, size_t n) {
  int_to_f32_scalar(s, d, n);
}
TESSERA_AVX2 void i8_to_f32_avx2(const int8_t* s, float* d, size_t n) {
  int_to_f32_scalar(s, d, n);
}

#undef TESSERA_AVX2
#endif  // TESSERA_X86_DISPATCH

// The fast pairs; false when (src, dst) is not one of them.
bool convert_fast(const void* src, DTypeId s, void* dst, DTypeId d, size_t n) {
  const auto* sf = static_cast<const float*>(src);
  auto* df = static_cast<float*>(dst);
  const CpuFeatures& cpu = cpu_features();
  if (s == DTypeId::kF32) {
    switch (d) {
      case DTypeId::kF16:
#if TESSERA_X86_DISPATCH
        if (cpu.f16c && cpu.avx2) return f32_to_f16_f16c(sf, static_cast<uint16_t*>(dst), n), true;
#endif
        return f32_to_f16_scalar(sf, static_cast<uint16_t*>(dst), n), true;
      case DTypeId::kBF16:
#if TESSERA_X86_DISPATCH
        if (cpu.avx2) return f32_to_bf16_avx2(sf, static_cast<uint16_t*>(dst), n), true;
#endif
        return f32_to_bf16_scalar(sf, static_cast<uint16_t*>(dst), n), true;
      case DTypeId::kI32:
#if TESSERA_X86_DISPATCH
        if (cpu.avx2) return f32_to_i32_avx2(sf, static_cast<int32_t*>(dst), n), true;
#endif
        return f32_to_int_scalar(sf, static_cast<int32_t*>(dst), n), true;
      case DTypeId::kI8:
#if TESSERA_X86_DISPATCH
        if (cpu.avx2) return f32_to_i8_avx2(sf, static_cast<int8_t*>(dst), n), true;
#endif
        return f32_to_int_scalar(sf, static_cast<int8_t*>(dst), n), true;
      case DTypeId::kI64:
        return f32_to_int_scalar(sf, static_cast<int64_t*>(dst), n), true;
      case DTypeId::kBool: {
        auto* db = static_cast<uint8_t*>(dst);
        for (size_t i = 0; i < n; ++i) db[i] = !(sf[i] == 0.0f);  // NaN is true
        return true;
      }
      default:
        return false;
    }
  }
  if (d == DTypeId::kF32) {
    switch (s) {
      case DTypeId::kF16:
#if TESSERA_X86_DISPATCH
        if (cpu.f16c && cpu.avx2) return f16_to_f32_f16c(static_cast<const uint16_t*>(src), df, n), true;
#endif
        return f16_to_f32_scalar(static_cast<const uint16_t*>(src), df, n), true;
      case DTypeId::kBF16:
#if TESSERA_X86_DISPATCH
        if (cpu.avx2) return bf16_to_f32_avx2(static_cast<const uint16_t*>(src), df, n), true;
#endif
        return bf16_to_f32_scalar(static_cast<const uint16_t*>(src), df, n), true;
      case DTypeId::kI32:
#if TESSERA_X86_DISPATCH
        if (cpu.avx2) return i32_to_f32_avx2(static_cast<const int32_t*>(src), df, n), true;
#endif
        return int_to_f32_scalar(static_cast<const int32_t*>(src), df, n), true;
      case DTypeId::kI8:
#if TESSERA_X86_DISPATCH
        if (cpu.avx2) return i8_to_f32_avx2(static_cast<const int8_t*>(src), df, n), true;
#endif
        return int_to_f32_scalar(static_cast<const int8_t*>(src), df, n), true;
      case DTypeId::kI64:
        return int_to_f32_scalar(static_cast<const int64_t*>(src), df, n), true;
      case DTypeId::kBool: {
        const auto* sb = static_cast<const uint8_t*>(src);
        for (size_t i = 0; i < n; ++i) df[i] = sb[i] != 0 ? 1.0f : 0.0f;
        return true;
      }
      default:
        return false;
    }
  }
  return false;
}

}  // namespace

void convert(const void* src, DType src_type, void* dst, DType dst_type, size_t n) {
  if (n == 0) return;
  if (src_type == dst_type) {
    if (src != dst) std::memmove(dst, src, n * src_type.size());
    return;
  }
  if (convert_fast(src, src_type.id(), dst, dst_type.id(), n)) return;
  const auto* s = static_cast<const char*>(src);
  auto* d = static_cast<char*>(dst);
  size_t ss = src_type.size(), ds = dst_type.size();
  for (size_t i = 0; i < n; ++i)
    detail::convert_element(s + i * ss, src_type, d + i * ds, dst_type);
}

}  // namespace tessera
