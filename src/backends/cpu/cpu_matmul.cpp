// matmul through OpenBLAS sgemm. Transposes map to CblasTrans; broadcast batch dims become a
// loop of sgemm calls (or one tall sgemm when b has no batch and a is plain row-major).
// f16/bf16 operands are converted to f32 panels, multiplied with f32 accumulation and
// rounded once. OpenBLAS's thread count is kept equal to Tessera's pool so the two do not
// oversubscribe the cores.
#include <cblas.h>

#include <atomic>

#include "cpu_internal.h"
#include "tessera/core/error.h"
#include "tessera/ir/graph.h"

namespace tessera::cpu {
namespace {

void sync_blas_threads() {
  static std::atomic<int> blas_threads{0};
  int want = pool().num_threads();
  if (blas_threads.load(std::memory_order_relaxed) != want) {
    openblas_set_num_threads(want);
    blas_threads.store(want, std::memory_order_relaxed);
  }
}

// Broadcast batch offsets (in elements) of an operand with shape `s` (rank >= 2) against the
// output batch shape.
struct BatchIndex {
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t sa[kMaxRank] = {};
  int64_t sb[kMaxRank] = {};
};

BatchIndex make_batch_index(const Shape& out, const Shape& a, const Shape& b) {
  BatchIndex bi;
  bi.rank = out.rank() - 2;
  auto fill = [&](const Shape& s, int64_t* st) {
    int64_t stride = s[s.rank() - 1] * s[s.rank() - 2];
    for (int i = bi.rank - 1; i >= 0; --i) {
      int j = s.rank() - 2 - (bi.rank - i);
      int64_t d = j >= 0 ? s[j] : 1;
      st[i] = d == 1 ? 0 : stride;
      stride *= d;
    }
  };
  for (int i = 0; i < bi.rank; ++i) bi.dims[i] = out[i];
  fill(a, bi.sa);
  fill(b, bi.sb);
  return bi;
}

void offsets(const BatchIndex& bi, int64_t batch, int64_t* oa, int64_t* ob) {
  *oa = *ob = 0;
  for (int i = bi.rank - 1; i >= 0; --i) {
    int64_t idx = batch % bi.dims[i];
    batch /= bi.dims[i];
    *oa += idx * bi.sa[i];
    *ob += idx * bi.sb[i];
  }
}

}  // namespace

void matmul_kernel(const KernelArgs& args) {
  const Tensor& ta = args.inputs[0];
  const Tensor& tb = args.inputs[1];
  const Shape& as = ta.shape();
  const Shape& bs = tb.shape();
  const Shape& os = args.output.shape();
  const bool tr_a = args.node.attrs.get_int_or("transpose_a", 0) != 0;
  const bool tr_b = args.node.attrs.get_int_or("transpose_b", 0) != 0;
  const int64_t M = os[os.rank() - 2], N = os[os.rank() - 1];
  const int64_t K = as[as.rank() - (tr_a ? 2 : 1)];
  const int64_t lda = as[as.rank() - 1], ldb = bs[bs.rank() - 1];
  const int64_t out_n = args.output.numel();
  if (out_n == 0) return;

  const DType t = ta.dtype();
  const float* a = ta.data<float>();
  const float* b = tb.data<float>();
  float* c = args.output.data<float>();
  if (t != kF32) {
    float* fa = scratch<11>(static_cast<size_t>(ta.numel()));
    float* fb = scratch<12>(static_cast<size_t>(tb.numel()));
    convert(ta.raw_data(), t, fa, kF32, static_cast<size_t>(ta.numel()));
    convert(tb.raw_data(), t, fb, kF32, static_cast<size_t>(tb.numel()));
    a = fa;
    b = fb;
    c = scratch<13>(static_cast<size_t>(out_n));
  }
  if (K == 0) {
    std::fill(c, c + out_n, 0.0f);
  } else {
    sync_blas_threads();
    const CBLAS_TRANSPOSE opa = tr_a ? CblasTrans : CblasNoTrans;
    const CBLAS_TRANSPOSE opb = tr_b ? CblasTrans : CblasNoTrans;
    const int64_t batches = out_n / (M * N);
    const bool b_unbatched = tb.numel() == K * N;
    const bool a_full = ta.numel() == batches * M * K;
    if (batches > 1 && b_unbatched && a_full && !tr_a) {
      // [..., M, K] x [K, N]: one tall product, the best shape for sgemm.
      cblas_sgemm(CblasRowMajor, opa, opb, static_cast<int>(batches * M), static_cast<int>(N),
                  static_cast<int>(K), 1.0f, a, static_cast<int>(lda), b,
                  static_cast<int>(ldb), 0.0f, c, static_cast<int>(N));
    } else {
      BatchIndex bi = make_batch_index(os, as, bs);
      auto one = [&](int64_t i) {
        int64_t oa, ob;
        offsets(bi, i, &oa, &ob);
        cblas_sgemm(CblasRowMajor, opa, opb, static_cast<int>(M), static_cast<int>(N),
                    static_cast<int>(K), 1.0f, a + oa, static_cast<int>(lda), b + ob,
                    static_cast<int>(ldb), 0.0f, c + i * M * N, static_cast<int>(N));
      };
      // Many small products: spread them over the pool (each sgemm then runs single
      // threaded inside OpenBLAS, below its own threading threshold).
      if (batches > 1 && M * N * K < (1 << 18)) {
        pool().parallel_for(batches, std::max<int64_t>(1, (1 << 18) / (M * N * K)),
                            [&](int64_t s, int64_t e) {
                              for (int64_t i = s; i < e; ++i) one(i);
                            });
      } else {
        for (int64_t i = 0; i < batches; ++i) one(i);
      }
    }
  }
  if (t != kF32) convert(c, kF32, args.output.raw_data(), t, static_cast<size_t>(out_n));
}

}  // namespace tessera::cpu
