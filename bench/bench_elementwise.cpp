// Elementwise kernels (GB/s of input + output traffic), AVX2 against the scalar fallback, and
// a five-op elementwise chain (x*w + b -> gelu -> *scale -> + x) fused against unfused.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "tessera/backends/cpu/cpu_backend.h"
#include "tessera/backends/scheduler.h"
#include "tessera/core/tensor.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/fusion.h"
#include "tessera/ir/op_table.h"

namespace tessera {
namespace {

constexpr int64_t kRows = 256, kCols = 4096;  // 1 Mi elements, 4 MiB per f32 tensor
// The chain runs on a tensor larger than the last-level cache (32 MiB per f32 tensor), where
// unfused intermediates go to memory.
constexpr int64_t kChainRows = 2048, kChainCols = 4096;

Tensor filled(const Shape& s, float scale) {
  Tensor t = Tensor::zeros(kF32, s);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    p[i] = (static_cast<float>((i * 13 + 5) % 101) - 50) * scale;
  return t;
}

// One node over x [kRows, kCols] (and y of `other` shape for binary ops).
void run_op(benchmark::State& state, OpKind op, const Shape& other, bool scalar_path) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kRows, kCols});
  std::vector<Tensor> in = {filled({kRows, kCols}, 0.05f)};
  ValueId y = x;
  if (other.rank() > 0 || op_info(op).op_class == OpClass::kBinary) {
    ValueId z = b.input("y", kF32, other);
    in.push_back(filled(other, 0.03f));
    y = b.emit(op, {x, z});
  } else {
    y = b.emit(op, {x});
  }
  b.output(y);
  Program p = compile_program(b.finish(), {});
  bool prev = cpu_force_scalar(scalar_path);
  p.run(in);
  for (auto _ : state) benchmark::DoNotOptimize(p.run(in)[0].raw_data());
  cpu_force_scalar(prev);
  int64_t bytes = 0;
  for (const Tensor& t : in) bytes += static_cast<int64_t>(t.nbytes());
  bytes += kRows * kCols * 4;
  state.SetBytesProcessed(state.iterations() * bytes);
}

void BM_Add(benchmark::State& s) { run_op(s, OpKind::kAdd, {kRows, kCols}, s.range(0)); }
void BM_BiasAdd(benchmark::State& s) { run_op(s, OpKind::kAdd, {kCols}, s.range(0)); }
void BM_MulScalar(benchmark::State& s) { run_op(s, OpKind::kMul, {}, s.range(0)); }
void BM_Relu(benchmark::State& s) { run_op(s, OpKind::kRelu, {}, s.range(0)); }
void BM_Exp(benchmark::State& s) { run_op(s, OpKind::kExp, {}, s.range(0)); }
void BM_Tanh(benchmark::State& s) { run_op(s, OpKind::kTanh, {}, s.range(0)); }
void BM_Gelu(benchmark::State& s) { run_op(s, OpKind::kGelu, {}, s.range(0)); }

// Arg 0: AVX2 (when the machine has it); 1: the scalar fallback.
#define ELEMENTWISE(fn) BENCHMARK(fn)->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMicrosecond)
ELEMENTWISE(BM_Add);
ELEMENTWISE(BM_BiasAdd);
ELEMENTWISE(BM_MulScalar);
ELEMENTWISE(BM_Relu);
ELEMENTWISE(BM_Exp);
ELEMENTWISE(BM_Tanh);
ELEMENTWISE(BM_Gelu);

// ---- the chain ---------------------------------------------------------------------------

enum class Chain { kUnfused, kFusionPass, kHandFused };

// act = 0: gelu (compute-heavy, fusion saves little); 1: relu (memory-bound: fusion saves
// the traffic of four intermediate tensors).
Graph chain_graph(Chain how, int act) {
  const OpKind activation = act == 0 ? OpKind::kGelu : OpKind::kRelu;
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kChainRows, kChainCols});
  ValueId w = b.parameter("w", filled({kChainCols}, 0.01f));
  ValueId bias = b.parameter("b", filled({kChainCols}, 0.02f));
  ValueId scale = b.parameter("scale", Tensor::scalar(0.8));
  if (how != Chain::kHandFused) {
    ValueId h = b.mul(x, w);
    h = b.add(h, bias);
    h = b.emit(activation, {h});
    h = b.mul(h, scale);
    b.output(b.add(h, x));
    return b.finish();
  }
  // The same program as one node, built by hand.
  auto prog = std::make_shared<FusedProgram>();
  prog->num_inputs = 4;  // r0 = x, r1 = w, r2 = b, r3 = scale
  prog->instrs = {{OpKind::kMul, 0, 1}, {OpKind::kAdd, 4, 2}, {activation, 5},
                  {OpKind::kMul, 6, 3}, {OpKind::kAdd, 7, 0}};
  Graph g = b.finish();
  Node n;
  n.op = OpKind::kFusedElementwise;
  n.inputs = {x, w, bias, scale};
  n.name = "chain";
  n.type = {kF32, {kChainRows, kChainCols}};
  n.fused = prog;
  g.outputs().push_back(g.add_node(std::move(n)));
  return g;
}

void BM_Chain(benchmark::State& state) {
  const Chain how = static_cast<Chain>(state.range(0));
  ProgramOptions o;
  o.compile.fuse_elementwise = how == Chain::kFusionPass;
  Program p = compile_program(chain_graph(how, static_cast<int>(state.range(1))), o);
  std::vector<Tensor> in = {filled({kChainRows, kChainCols}, 0.05f)};
  p.run(in);
  for (auto _ : state) benchmark::DoNotOptimize(p.run(in)[0].raw_data());
  state.SetBytesProcessed(state.iterations() * kChainRows * kChainCols * 8);
  // Program::graph() is the graph before the backend's passes: count what fusion makes of it.
  int fused = 0;
  Graph g = how == Chain::kFusionPass ? fuse_elementwise(p.graph()) : p.graph();
  for (const Node& n : g.nodes()) fused += n.op == OpKind::kFusedElementwise;
  state.counters["fused_nodes"] = fused;
}
// First argument: 0 unfused (fuse_elementwise=false), 1 the fusion pass, 2 a hand-built
// fused node. Second: 0 gelu, 1 relu.
BENCHMARK(BM_Chain)
    ->ArgsProduct({{0, 1, 2}, {0, 1}})
    ->ArgNames({"how", "relu"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tessera

BENCHMARK_MAIN();
