// Elementwise fusion: a chain of f32 elementwise ops becomes one kFusedElementwise node whose
// FusedProgram a backend runs tile by tile, so intermediates never touch memory.
//
//   Graph fused = fuse_elementwise(graph);   // bias-add + gelu + mul … -> one node
//   const FusedProgram& p = *fused.node(id).fused;
//   // registers [0, p.num_inputs) are the node's inputs (broadcast to the output shape);
//   // instruction i writes register p.num_inputs + i; the last register is the result.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/ir/graph.h"

namespace tessera {

struct FusedInstr {
  OpKind op;  // a unary (float) or binary arithmetic op
  int32_t a = -1;
  int32_t b = -1;  // binary ops only
};

struct FusedProgram {
  int num_inputs = 0;
  std::vector<FusedInstr> instrs;
  int num_registers() const { return num_inputs + static_cast<int>(instrs.size()); }
  std::string str() const;  // "r2 = mul(r0, r1); r3 = relu(r2)"
};

// Ops a fused program may contain: f32 -> f32 unary and binary arithmetic.
bool is_fusible(OpKind op);

// The most inputs a fused node reads: backends hold them in fixed arrays (the cpu
// backend's broadcast loop). fuse_elementwise stops growing a group there.
inline constexpr int kMaxFusedInputs = 16;

// Groups maximal chains of fusible f32 nodes whose intermediates have one user and are not
// graph outputs or update values, up to kMaxFusedInputs inputs per group. Groups of one
// node are left alone.
Graph fuse_elementwise(const Graph& g);

}  // namespace tessera
