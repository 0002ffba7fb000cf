// The conformance harness: one table of op cases (op_cases.cpp) and the machinery that runs
// each case on every registered backend and compares it with the reference backend.
//
// An OpCase says how to build a one-op graph (its inputs' shapes and value ranges, and a
// function emitting the op) and which dtypes to run it on. The checks built on it:
//   Forward.<case>_<dtype>_<backend>   backend vs ref, per-dtype tolerances (below)
//   Gradient.<case>_<backend>          autodiff on the backend vs finite differences on ref
//   Decomposition.<case>_<dtype>       a composite's decomposition vs its direct ref kernel
//   Threads.<case>_cpu                 cpu reductions bit-identical on 1 and 2 threads
//   Coverage.*                         every op has a case, cpu supports every claimed node
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tessera/backends/backend.h"
#include "tessera/ir/builder.h"

namespace tessera::ops_test {

enum class ArgKind {
  kData,   // the case's dtype
  kIndex,  // integer indices (index_dtype), values in [lo, hi]
  kBool,   // random true/false
};

// One input of a case; every input is a graph kInput, so nothing is constant-folded away.
struct Arg {
  ArgKind kind = ArgKind::kData;
  Shape shape;  // may hold kDynamic (the batch)
  // Float data: uniform in [lo, hi] (with a random sign when random_sign: |v| in [lo, hi],
  // which keeps values away from 0 for kinks and poles). Index args: integers in [lo, hi].
  double lo = -2.0;
  double hi = 2.0;
  bool random_sign = false;
  // Float data: a shuffled set of evenly spaced, distinct values in [lo, hi] (no ties for
  // max-like gradients).
  bool distinct = false;
  // Float data: rounded to a multiple of `grid` (> 0) so that comparisons see equal values.
  double grid = 0.0;
  // Integer data: the range; defaults to the dtype's full range (so arithmetic wraps).
  std::optional<int64_t> int_lo, int_hi;
  bool nonzero = false;  // integer data: never 0 (divisors)
  // Forward checks only: the first elements become NaN, +-Inf, +-0 and integer extremes.
  bool specials = false;
  DType index_dtype = kI32;
};

using EmitFn = std::function<ValueId(GraphBuilder& b, const std::vector<ValueId>& in, DType dtype)>;

struct OpCase {
  std::string name;  // readable, unique: "matmul_transpose_b"
  OpKind op;         // the op under test (kFusedElementwise: emit builds a chain to fuse)
  std::vector<Arg> args;
  EmitFn emit;
  std::vector<DType> dtypes;        // data dtypes to run; each must be supported by every backend
  std::vector<DType> extra_dtypes;  // also run (fixed point), checked only where supported
  // Widens the f32 tolerance for ops that accumulate (matmul, reductions, softmax), whose
  // f32 results legitimately differ from the double oracle by a few accumulated roundings.
  double tol_scale = 1.0;
  bool fuse = false;  // run fuse_elementwise on the built graph (kFusedElementwise cases)
  bool gradient = true;
};

const std::vector<OpCase>& op_cases();
// The convolution and pooling cases (conv_cases.cpp), part of op_cases().
std::vector<OpCase> conv_op_cases();

bool has_dynamic_batch(const OpCase& c);
// The batch sizes a case runs at: {2, 5} when it has a symbolic batch, else {1}.
std::vector<int64_t> batch_sizes(const OpCase& c);

// The one-op graph of a case: inputs x0, x1, … then the op; its result is the only output.
Graph build_graph(const OpCase& c, DType dtype);
// Seeded inputs for the graph (in Graph::inputs() order) at a batch size.
std::vector<Tensor> make_inputs(const OpCase& c, DType dtype, int64_t batch, uint64_t seed,
                                bool specials);
// Compiles `g` with compile_program on one backend and returns deep copies of the outputs.
std::vector<Tensor> run_on(const Graph& g, const std::string& backend, int64_t batch,
                           const std::vector<Tensor>& inputs);

// Compares `got` with `want` elementwise under the tolerance of their dtype (see
// harness.cpp). Returns an empty string when they agree, else a report of the worst
// mismatches.
struct Tolerance {
  double f32_rtol = 1e-5;
  double f32_atol = 1e-6;
  double half_ulps = 2;  // f16 and bf16: ulps of the reference value
  double half_atol = 0;  // f16 and bf16: absolute, in ulps of 1.0 of the type
};
// The forward tolerance of a case on a backend. cuda: f32 within 4x the cpu's (its math
// library's expf/logf/erff/tanhf are within 2 ulp, and reductions, matmul and attention
// add in another order), f16/bf16 within 3 ulps (every op computes in f32 and rounds once).
Tolerance forward_tolerance(const OpCase& c, const std::string& backend = "cpu");
std::string compare(const Tensor& want, const Tensor& got, const Tolerance& tol);

// Registers `fn` as the GoogleTest test suite.name (tests built from tables at start-up).
void register_test(const std::string& suite, const std::string& name, std::function<void()> fn);

std::vector<std::string> test_backends();  // every registered backend but "ref"
std::string dtype_tag(DType t);            // "f16", "fixed16_6", for test names

}  // namespace tessera::ops_test
