// layer_norm, rms_norm and their *_grad_input ops on the cpu: threaded over rows (each row
// is computed by one thread with a fixed summation order, so results do not depend on the
// thread count), with the row kernels of cpu_norm.h. f16/bf16 rows are converted to f32,
// computed, and rounded once.
#include "cpu_norm.h"

#include <cmath>

#include "cpu_internal.h"
#include "tessera/ir/graph.h"

namespace tessera::cpu {
namespace {

// Shifted one-pass statistics of a row: mean and 1/sqrt(var + eps).
struct RowStats {
  float mean, rstd;
};

RowStats layer_stats(const float* x, float eps, int64_t n) {
  const float k = x[0];
  float s1[8] = {}, s2[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) {
      float d = x[i + j] - k;
      s1[j] += d;
      s2[j] += d * d;
    }
  for (int j = 0; i < n; ++i, ++j) {
    float d = x[i] - k;
    s1[j] += d;
    s2[j] += d * d;
  }
  float a = 0, b = 0;
  for (int j = 0; j < 8; ++j) a += s1[j], b += s2[j];
  const float inv_n = 1.0f / static_cast<float>(n);
  const float shift = a * inv_n;
  const float var = std::fmax(b * inv_n - shift * shift, 0.0f);
  return {k + shift, 1.0f / std::sqrt(var + eps)};
}

float rms_rstd(const float* x, float eps, int64_t n) {
  float s[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += x[i + j] * x[i + j];
  for (int j = 0; i < n; ++i, ++j) s[j] += x[i] * x[i];
  float t = 0;
  for (int j = 0; j < 8; ++j) t += s[j];
  return 1.0f / std::sqrt(t / static_cast<float>(n) + eps);
}

void layer_norm_row(const float* x, const float* gamma, const float* beta, float eps, float* y,
                    int64_t n) {
  RowStats s = layer_stats(x, eps, n);
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - s.mean) * s.rstd * gamma[i] + beta[i];
}

void rms_norm_row(const float* x, const float* gamma, float eps, float* y, int64_t n) {
  const float r = rms_rstd(x, eps, n);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * r * gamma[i];
}

void layer_norm_grad_row(const float* x, const float* gamma, const float* dy, float eps, float* dx,
                         int64_t n) {
  RowStats s = layer_stats(x, eps, n);
  float sg = 0, sgx = 0;
  for (int64_t i = 0; i < n; ++i) {
    float g = dy[i] * gamma[i];
    sg += g;
    sgx += g * (x[i] - s.mean) * s.rstd;
  }
  const float inv_n = 1.0f / static_cast<float>(n);
  const float a = sg * inv_n, b = sgx * inv_n;
  for (int64_t i = 0; i < n; ++i) {
    float xh = (x[i] - s.mean) * s.rstd;
    dx[i] = (dy[i] * gamma[i] - a - xh * b) * s.rstd;
  }
}

void rms_norm_grad_row(const float* x, const float* gamma, const float* dy, float eps, float* dx,
                       int64_t n) {
  const float r = rms_rstd(x, eps, n);
  float sgx = 0;
  for (int64_t i = 0; i < n; ++i) sgx += dy[i] * gamma[i] * x[i];
  const float b = sgx * r * r / static_cast<float>(n);  // mean(g·x̂) · rstd
  for (int64_t i = 0; i < n; ++i) dx[i] = (dy[i] * gamma[i] - x[i] * b) * r;
}

}  // namespace

const NormRowKernels& scalar_norm_rows() {
  static const NormRowKernels k = {layer_norm_row, rms_norm_row, layer_norm_grad_row,
                                   rms_norm_grad_row};
  return k;
}

void norm_kernel(const KernelArgs& args) {
  const Tensor& x = args.inputs[0];
  const OpKind op = args.node.op;
  const bool layer = op == OpKind::kLayerNorm || op == OpKind::kLayerNormGradInput;
  const bool backward = op == OpKind::kLayerNormGradInput || op == OpKind::kRmsNormGradInput;
  const float eps = static_cast<float>(args.node.attrs.get_float("epsilon"));
  const int64_t c = x.shape()[x.rank() - 1];
  const int64_t rows = c == 0 ? 0 : x.numel() / c;
  if (rows == 0) return;
  const NormRowKernels& k =
      &f32_kernels() == &avx2_f32_kernels() ? avx2_norm_rows() : scalar_norm_rows();
  const DType t = x.dtype();
  const bool f32 = t == kF32;

  // gamma (and beta) in f32: converted once, on this thread, before the rows run.
  auto params_f32 = [&](int i, float* buf) -> const float* {
    const Tensor& p = args.inputs[static_cast<size_t>(i)];
    if (f32) return p.data<float>();
    convert(p.raw_data(), t, buf, kF32, static_cast<size_t>(c));
    return buf;
  };
  const float* gamma = params_f32(1, scratch<30>(static_cast<size_t>(c)));
  const float* beta =
      layer && !backward ? params_f32(2, scratch<31>(static_cast<size_t>(c))) : nullptr;
  const char* xb = static_cast<const char*>(x.raw_data());
  const char* dyb = backward ? static_cast<const char*>(args.inputs[2].raw_data()) : nullptr;
  char* yb = static_cast<char*>(args.output.raw_data());
  const size_t row_bytes = static_cast<size_t>(c) * t.size();

  auto run_row = [&](const float* xr, const float* dyr, float* yr) {
    if (!backward) {
      if (layer)
        k.layer_norm(xr, gamma, beta, eps, yr, c);
      else
        k.rms_norm(xr, gamma, eps, yr, c);
    } else if (layer) {
      k.layer_norm_grad(xr, gamma, dyr, eps, yr, c);
    } else {
      k.rms_norm_grad(xr, gamma, dyr, eps, yr, c);
    }
  };
  const int64_t grain = std::max<int64_t>(1, 16384 / c);
  pool().parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    if (f32) {
      for (int64_t r = r0; r < r1; ++r)
        run_row(reinterpret_cast<const float*>(xb + r * row_bytes),
                dyb ? reinterpret_cast<const float*>(dyb + r * row_bytes) : nullptr,
                reinterpret_cast<float*>(yb + r * row_bytes));
      return;
    }
    float* xr = scratch<32>(static_cast<size_t>(c));
    float* dyr = backward ? scratch<33>(static_cast<size_t>(c)) : nullptr;
    float* yr = scratch<34>(static_cast<size_t>(c));
    for (int64_t r = r0; r < r1; ++r) {
      convert(xb + r * row_bytes, t, xr, kF32, static_cast<size_t>(c));
      if (dyr) convert(dyb + r * row_bytes, t, dyr, kF32, static_cast<size_t>(c));
      run_row(xr, dyr, yr);
      convert(yr, kF32, yb + r * row_bytes, t, static_cast<size_t>(c));
    }
  });
}

}  // namespace tessera::cpu
