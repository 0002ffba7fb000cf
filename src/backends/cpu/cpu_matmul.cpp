// matmul through OpenBLAS sgemm. Transposes map to CblasTrans; broadcast batch dims become a
// list of sgemm calls (or one tall sgemm when b has no batch and a is plain row-major).
// f16/bf16 operands are converted to f32 (in parallel), multiplied with f32 accumulation
// and rounded once.
//
// Determinism: OpenBLAS picks different kernels (and summation orders) for different thread
// counts, so results would change with the pool size. Instead OpenBLAS always runs single
// threaded and Tessera's pool runs a list of tiles — column or row blocks of each product —
// whose boundaries depend only on the shapes. Every output element is then computed by the
// same call on any thread count (DESIGN.md: same seed, same result, any thread count).
#include <cblas.h>

#include <algorithm>

#include "cpu_internal.h"
#include "tessera/core/error.h"
#include "tessera/ir/graph.h"

namespace tessera::cpu {
namespace {

// OpenBLAS's own threads stay off: the pool runs the tiles. Set before every call because
// other code in the process (a benchmark, a user) may change it.
void single_threaded_blas() {
  if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
}

// One sgemm call: rows [r0, r1) and columns [c0, c1) of one product of the batch.
struct Tile {
  int64_t batch;
  int64_t r0, r1, c0, c1;
};

// Splits an M x N x K product along its larger output dimension into blocks of at least
// kMinTileMacs multiply-adds and 128 rows or columns, at most kMaxTiles of them. Depends on
// the shape only.
constexpr int64_t kMinTileMacs = int64_t{1} << 22;
constexpr int64_t kMaxTiles = 8;

int64_t tile_count(int64_t m, int64_t n, int64_t k) {
  int64_t by_work = m * n * k / kMinTileMacs;
  int64_t by_size = std::max(m, n) / 128;  // narrow blocks waste sgemm's packing
  return std::clamp<int64_t>(std::min(by_work, by_size), 1, kMaxTiles);
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

// f16/bf16 <-> f32 of whole operands, split across the pool (mixed-precision training
// converts every activation and weight operand of every matmul).
void convert_parallel(const void* src, DType from, void* dst, DType to, int64_t n) {
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
  const size_t fs = from.size(), ts = to.size();
  pool().parallel_for(n, kCheapGrain, [&](int64_t b, int64_t e) {
    convert(s + b * fs, from, d + b * ts, to, static_cast<size_t>(e - b));
  });
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

// C[m, n] = op(A)[m, k] · op(B)[k, n] where m == 1 or n == 1, through sgemv. Row-major
// storage: A is [m, k] (or [k, m] transposed) with leading dimension lda; B likewise.
void matrix_vector(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool tr_a,
                   const float* b, int64_t ldb, bool tr_b, float* c) {
  auto i = [](int64_t v) { return static_cast<int>(v); };
  if (m == 1) {
    // c[n] = op(B)^T · a, with a's k elements strided by lda when A is stored [k, 1].
    int inc_a = tr_a ? i(lda) : 1;
    if (tr_b) cblas_sgemv(CblasRowMajor, CblasNoTrans, i(n), i(k), 1.0f, b, i(ldb), a, inc_a,
                          0.0f, c, 1);
    else cblas_sgemv(CblasRowMajor, CblasTrans, i(k), i(n), 1.0f, b, i(ldb), a, inc_a, 0.0f,
                     c, 1);
    return;
  }
  // n == 1: c[m] = op(A) · b, with b's k elements strided by ldb when B is stored [k, 1].
  int inc_b = tr_b ? 1 : i(ldb);
  if (tr_a) cblas_sgemv(CblasRowMajor, CblasTrans, i(k), i(m), 1.0f, a, i(lda), b, inc_b, 0.0f,
                        c, 1);
  else cblas_sgemv(CblasRowMajor, CblasNoTrans, i(m), i(k), 1.0f, a, i(lda), b, inc_b, 0.0f,
                   c, 1);
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
    convert_parallel(ta.raw_data(), t, fa, kF32, ta.numel());
    convert_parallel(tb.raw_data(), t, fb, kF32, tb.numel());
    a = fa;
    b = fb;
    c = scratch<13>(static_cast<size_t>(out_n));
  }
  if (K == 0) {
    std::fill(c, c + out_n, 0.0f);
  } else {
    single_threaded_blas();
    const int64_t batches = out_n / (M * N);
    const bool b_unbatched = tb.numel() == K * N;
    const bool a_full = ta.numel() == batches * M * K;
    // [..., M, K] x [K, N]: one tall product, the best shape for sgemm.
    const bool tall = batches > 1 && b_unbatched && a_full && !tr_a;
    const int64_t pm = tall ? batches * M : M;  // rows of each product
    const int64_t products = tall ? 1 : batches;
    // A product with one row or one column is a matrix-vector product: sgemv reads the
    // matrix once, where sgemm would first copy (pack) all of it — 4x slower for the
    // batch-1 inference of an MLP layer. One call per product keeps results thread-count
    // independent.
    const bool vector_product = pm == 1 || N == 1;
    const int64_t tiles = vector_product ? 1 : tile_count(pm, N, K);
    const bool split_rows = pm > N;
    const int64_t extent = split_rows ? pm : N;
    const BatchIndex bi = make_batch_index(os, as, bs);

    auto run_tile = [&](int64_t task) {
      Tile tl{task / tiles, 0, pm, 0, N};
      int64_t t0 = extent * (task % tiles) / tiles, t1 = extent * (task % tiles + 1) / tiles;
      if (split_rows) tl.r0 = t0, tl.r1 = t1;
      else tl.c0 = t0, tl.c1 = t1;
      int64_t oa = 0, ob = 0;
      if (!tall) offsets(bi, tl.batch, &oa, &ob);
      const float* pa = a + oa + (tr_a ? tl.r0 : tl.r0 * lda);
      const float* pb = b + ob + (tr_b ? tl.c0 * ldb : tl.c0);
      float* pc = c + tl.batch * M * N + tl.r0 * N + tl.c0;
      if (vector_product) {
        matrix_vector(pm, N, K, pa, lda, tr_a, pb, ldb, tr_b, pc);
        return;
      }
      cblas_sgemm(CblasRowMajor, tr_a ? CblasTrans : CblasNoTrans,
                  tr_b ? CblasTrans : CblasNoTrans, static_cast<int>(tl.r1 - tl.r0),
                  static_cast<int>(tl.c1 - tl.c0), static_cast<int>(K), 1.0f, pa,
                  static_cast<int>(lda), pb, static_cast<int>(ldb), 0.0f, pc,
                  static_cast<int>(N));
    };
    const int64_t tasks = products * tiles;
    // Small products are grouped so each chunk of the pool has enough work.
    const int64_t macs_per_task = std::max<int64_t>(1, pm * N * K / tiles);
    pool().parallel_for(tasks, std::max<int64_t>(1, kMinTileMacs / macs_per_task),
                        [&](int64_t s0, int64_t s1) {
                          for (int64_t i = s0; i < s1; ++i) run_tile(i);
                        });
  }
  if (t != kF32) convert_parallel(c, kF32, args.output.raw_data(), t, out_n);
}

}  // namespace tessera::cpu
