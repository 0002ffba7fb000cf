// matmul on cuBLAS. Row-major C[M,N] = op(A)[M,K] · op(B)[K,N] is column-major
// Cᵀ = op(B)ᵀ · op(A)ᵀ, so B is passed first and nothing is transposed in memory.
// Leading batch dims: an operand whose batch dims are all 1 has batch stride 0, one whose
// batch dims equal the output's has its matrix size; one strided-batched call covers both.
// Any other broadcast (e.g. [B1,1,M,K] x [1,B2,K,N]) issues one call per output matrix.
//
// Arithmetic (CudaOptions::matmul): f32 operands use CUBLAS_COMPUTE_32F ("f32"),
// _FAST_TF32 ("tf32") or _FAST_16BF ("bf16"); bf16/f16 operands accumulate in f32.
#include <climits>

#include "cuda_common.h"
#include "tessera/backends/gpu_devices.h"

namespace tessera::cuda {
namespace {

struct Geometry {
  int64_t m = 0, n = 0, k = 0;
  bool ta = false, tb = false;
  Shape batch;  // the output's batch dims
};

Geometry geometry(const Graph& g, const Node& n) {
  const Shape& a = g.type(n.inputs[0]).shape;
  const Shape& b = g.type(n.inputs[1]).shape;
  Geometry r;
  r.ta = n.attrs.get_int_or("transpose_a", 0) != 0;
  r.tb = n.attrs.get_int_or("transpose_b", 0) != 0;
  r.m = r.ta ? a[a.rank() - 1] : a[a.rank() - 2];
  r.k = r.ta ? a[a.rank() - 2] : a[a.rank() - 1];
  r.n = r.tb ? b[b.rank() - 2] : b[b.rank() - 1];
  const Shape& out = n.type.shape;
  for (int i = 0; i < out.rank() - 2; ++i) r.batch.push_back(out[i]);
  return r;
}

// Per output matrix, the element offset of an operand's matrix (its batch dims broadcast).
std::vector<int64_t> batch_offsets(const Shape& operand, const Shape& batch, int64_t matrix) {
  const int ob = operand.rank() - 2;
  Shape dims;
  for (int i = 0; i < ob; ++i) dims.push_back(operand[i]);
  Shape strides = contiguous_strides(dims);
  const int64_t count = batch.numel();
  std::vector<int64_t> r(count, 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t rem = i, off = 0;
    for (int d = batch.rank() - 1; d >= 0; --d) {
      const int64_t idx = rem % batch[d];
      rem /= batch[d];
      const int j = ob - batch.rank() + d;
      if (j >= 0 && dims[j] != 1) off += idx * strides[j];
    }
    r[i] = off * matrix;
  }
  return r;
}

// The uniform stride of offsets (0 or one matrix), if there is one.
std::optional<int64_t> uniform_stride(const std::vector<int64_t>& offsets) {
  if (offsets.size() <= 1) return 0;
  const int64_t s = offsets[1] - offsets[0];
  for (size_t i = 1; i < offsets.size(); ++i)
    if (offsets[i] - offsets[i - 1] != s) return std::nullopt;
  return s;
}

cudaDataType_t data_type(DType t) {
  return t == kF32 ? CUDA_R_32F : t == kBF16 ? CUDA_R_16BF : CUDA_R_16F;
}

}  // namespace

bool matmul_supported(const Graph& g, ValueId id, int compute_major) {
  const Node& n = g.node(id);
  const DType a = g.type(n.inputs[0]).dtype, b = g.type(n.inputs[1]).dtype;
  if (a != b || (a != kF32 && a != kBF16 && a != kF16)) return false;
  if (a == kBF16 && compute_major != 0 && compute_major < 8) return false;  // sm_80+
  if (g.type(n.inputs[0]).shape.rank() < 2 || g.type(n.inputs[1]).shape.rank() < 2) return false;
  Geometry geo = geometry(g, n);
  return geo.m <= INT_MAX && geo.n <= INT_MAX && geo.k <= INT_MAX && geo.batch.numel() <= INT_MAX;
}

Lowered lower_matmul(LowerContext& c, ValueId id) {
  const Graph& g = c.graph;
  const Node& n = g.node(id);
  const Geometry geo = geometry(g, n);
  const DType t = n.type.dtype;
  const cudaDataType_t type = data_type(t);
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  if (t == kF32 && c.options.matmul == "tf32") compute = CUBLAS_COMPUTE_32F_FAST_TF32;
  if (t == kF32 && c.options.matmul == "bf16") compute = CUBLAS_COMPUTE_32F_FAST_16BF;
  const int m = static_cast<int>(geo.m), nn = static_cast<int>(geo.n), k = static_cast<int>(geo.k);
  const int lda = geo.ta ? m : k, ldb = geo.tb ? k : nn;
  const cublasOperation_t op_a = geo.ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = geo.tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const std::vector<int64_t> oa =
      batch_offsets(g.type(n.inputs[0]).shape, geo.batch, geo.m * geo.k);
  const std::vector<int64_t> ob =
      batch_offsets(g.type(n.inputs[1]).shape, geo.batch, geo.k * geo.n);
  const std::optional<int64_t> sa = uniform_stride(oa), sb = uniform_stride(ob);
  const int64_t batch = geo.batch.numel();
  const size_t es = t.size();
  const char* a = static_cast<const char*>(c.ptr[n.inputs[0]]);
  const char* b = static_cast<const char*>(c.ptr[n.inputs[1]]);
  char* y = static_cast<char*>(c.ptr[id]);
  cublasHandle_t h = c.cublas;
  const std::string where = g.describe(id);
  const int64_t mn = geo.m * geo.n;
  return {"cublas gemm", [=](const LaunchEnv& e) {
            const float one = 1.f, zero = 0.f;
            if (mn == 0 || batch == 0) return;
            if (k == 0) {  // an empty sum: zeros (cuBLAS may skip the write)
              check_cuda(cudaMemsetAsync(y, 0, static_cast<size_t>(mn * batch) * es, e.stream),
                         "cudaMemsetAsync", where);
              return;
            }
            if (sa && sb) {
              check_cublas(
                  cublasGemmStridedBatchedEx(h, op_b, op_a, nn, m, k, &one, b, type, ldb, *sb, a,
                                             type, lda, *sa, &zero, y, type, nn, mn,
                                             static_cast<int>(batch), compute, CUBLAS_GEMM_DEFAULT),
                  "cublasGemmStridedBatchedEx", where);
              return;
            }
            for (int64_t i = 0; i < batch; ++i)
              check_cublas(cublasGemmEx(h, op_b, op_a, nn, m, k, &one, b + ob[i] * es, type, ldb,
                                        a + oa[i] * es, type, lda, &zero, y + i * mn * es, type, nn,
                                        compute, CUBLAS_GEMM_DEFAULT),
                           "cublasGemmEx", where);
          }};
}

}  // namespace tessera::cuda
