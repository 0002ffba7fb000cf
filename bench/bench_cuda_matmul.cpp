// Tessera's cuda matmul against cuBLAS called directly, on the same GPU, shapes and
// arithmetic (f32, tf32, bf16). Ours is the matmul node of a compiled one-node graph, timed
// by Executable::profile (CUDA events around the node); the direct call is
// cublasGemmStridedBatchedEx with the same arguments, timed with CUDA events. Prints one
// line per shape and mode with both medians and their ratio (direct / ours: 1.0 = no
// overhead; the goal is >= 0.9). Without a GPU, or in a build without CUDA, prints
// "no GPU: skipped" and exits 0.
//
//   bench_cuda_matmul [--reps 20]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tessera/backends/cuda/cuda_backend.h"
#include "tessera/backends/gpu_devices.h"

#ifdef TESSERA_HAVE_CUDA
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "tessera/core/rng.h"
#include "tessera/ir/builder.h"
#endif

#ifdef TESSERA_HAVE_CUDA
namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace
#endif

int main(int argc, char** argv) {
  [[maybe_unused]] int reps = 20;
  for (int i = 1; i + 1 < argc; i += 2)
    if (std::string(argv[i]) == "--reps") reps = std::max(1, std::atoi(argv[i + 1]));
  if (!tessera::kHaveCudaBackend || tessera::gpu_devices().empty()) {
    std::printf("no GPU: skipped (%s)\n", tessera::kHaveCudaBackend
                                              ? "the CUDA runtime finds no device"
                                              : "this build has no CUDA backend");
    return 0;
  }
#ifdef TESSERA_HAVE_CUDA
  using namespace tessera;
  struct ShapeCase {
    int64_t batch, m, n, k;
  };
  const std::vector<ShapeCase> shapes = {{1, 1024, 1024, 1024}, {1, 4096, 4096, 4096},
                                         {1, 8192, 768, 768},   {1, 8192, 3072, 768},
                                         {1, 8192, 50257, 768}, {48, 1024, 1024, 64}};
  std::printf("# %s; medians of %d runs\n", gpu_devices()[0].name.c_str(), reps);
  std::printf("%-6s %-24s %12s %12s %8s %10s\n", "mode", "shape (b x m x n x k)", "ours ms",
              "cublas ms", "ratio", "ours TF/s");
  cublasHandle_t h;
  cublasCreate(&h);
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  for (const std::string mode : {"f32", "tf32", "bf16"}) {
    for (const ShapeCase& s : shapes) {
      // bf16 mode: bf16 operands (what a mixed_bfloat16 model multiplies).
      const DType t = mode == "bf16" ? kBF16 : kF32;
      GraphBuilder b;
      Shape sa = s.batch > 1 ? Shape{s.batch, s.m, s.k} : Shape{s.m, s.k};
      Shape sb = s.batch > 1 ? Shape{s.batch, s.k, s.n} : Shape{s.k, s.n};
      ValueId a = b.input("a", t, sa), bb = b.input("b", t, sb);
      b.output(b.matmul(a, bb));
      Graph g = b.finish();
      std::unique_ptr<Backend> be = make_cuda_backend({.matmul = mode == "bf16" ? "f32" : mode});
      std::unique_ptr<Executable> exe = be->compile(g, {});
      Rng rng(1);
      Tensor ta = Tensor::zeros(t, sa), tb = Tensor::zeros(t, sb);
      rng.fill_uniform(ta, -1, 1);
      rng.fill_uniform(tb, -1, 1);
      std::vector<Tensor> in = {ta, tb};
      std::vector<double> ours;
      exe->profile(in);  // warm-up
      for (int r = 0; r < reps; ++r) ours.push_back(exe->profile(in).back().seconds);

      const size_t es = t.size();
      void *da, *db, *dc;
      cudaMalloc(&da, ta.nbytes());
      cudaMalloc(&db, tb.nbytes());
      cudaMalloc(&dc, static_cast<size_t>(s.batch * s.m * s.n) * es);
      cudaMemcpy(da, ta.raw_data(), ta.nbytes(), cudaMemcpyHostToDevice);
      cudaMemcpy(db, tb.raw_data(), tb.nbytes(), cudaMemcpyHostToDevice);
      const cudaDataType_t dt = t == kF32 ? CUDA_R_32F : CUDA_R_16BF;
      const cublasComputeType_t ct =
          mode == "tf32" ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
      const float one = 1, zero = 0;
      std::vector<double> direct;
      for (int r = 0; r <= reps; ++r) {
        cudaEventRecord(e0);
        cublasGemmStridedBatchedEx(h, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(s.n),
                                   static_cast<int>(s.m), static_cast<int>(s.k), &one, db, dt,
                                   static_cast<int>(s.n), s.k * s.n, da, dt, static_cast<int>(s.k),
                                   s.m * s.k, &zero, dc, dt, static_cast<int>(s.n), s.m * s.n,
                                   static_cast<int>(s.batch), ct, CUBLAS_GEMM_DEFAULT);
        cudaEventRecord(e1);
        cudaEventSynchronize(e1);
        float ms = 0;
        cudaEventElapsedTime(&ms, e0, e1);
        if (r > 0) direct.push_back(ms * 1e-3);
      }
      cudaFree(da);
      cudaFree(db);
      cudaFree(dc);
      const double mo = median(ours), md = median(direct);
      const double flops =
          2.0 * static_cast<double>(s.batch * s.m) * static_cast<double>(s.n * s.k);
      std::printf("%-6s %4lld x %5lld x %5lld x %5lld %12.4f %12.4f %8.3f %10.1f\n", mode.c_str(),
                  static_cast<long long>(s.batch), static_cast<long long>(s.m),
                  static_cast<long long>(s.n), static_cast<long long>(s.k), mo * 1e3, md * 1e3,
                  md / mo, flops / mo * 1e-12);
    }
  }
  cublasDestroy(h);
#endif
  return 0;
}
