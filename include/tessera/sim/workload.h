// The simulators' view of a graph: every node lowered to the work a hardware unit does — a
// GEMM for the matrix unit, a vector operation (elementwise, reduction, softmax,
// normalization) or a memory movement — with its shapes, dtypes and bytes. Simulators
// never see layers, optimizers or datasets, only this (and the graph it came from).
//
//   Workload w = lower_to_workload(model.train_graph(), {.batch = 32});
//   for (const WorkOp& op : w.ops)
//     if (op.kind == WorkKind::kGemm) fmt::print("{} {}x{}x{}\n", op.name, op.gemm.m, ...);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/core/dtype.h"
#include "tessera/ir/graph.h"

namespace tessera::sim {

enum class WorkKind : uint8_t {
  kGemm,    // the matrix unit: `gemm.batch` independent (m x k) * (k x n) products
  kVector,  // the vector unit: elementwise, reductions, softmax, normalization
  kMemory,  // data movement only (transpose, concat, pad, gather, slices, copies)
  kNone,    // no work on the device: leaves, reshapes (metadata), constants
};

// Which part of a step a node belongs to, from its scope (GraphBuilder::set_scope): nodes
// under "<layer>/grad" are backward, under "optimizer" the update, under "loss" the loss.
enum class Phase : uint8_t { kForward, kLoss, kBackward, kUpdate };
const char* phase_name(Phase p);  // "forward", "loss", "backward", "update"

struct GemmShape {
  int64_t batch = 1;  // independent products (batched matmul, attention heads, conv groups)
  int64_t m = 0;      // rows of the output (for a layer: samples x output pixels)
  int64_t n = 0;      // columns of the output (output features / channels)
  int64_t k = 0;      // the reduction
  int64_t macs() const { return batch * m * n * k; }
};

// A convolution as SCALE-Sim and the papers describe it (NHWC, HWIO), kept alongside its
// GEMM view (im2col: m = n*p*q, k = r*s*c/groups, n = filters/groups, batch = groups).
struct ConvShape {
  int64_t n = 0, h = 0, w = 0, c = 0;  // input: batch, height, width, channels
  int64_t r = 0, s = 0;                // filter height, width
  int64_t filters = 0;                 // output channels
  int64_t p = 0, q = 0;                // output height, width
  int64_t stride_h = 1, stride_w = 1;
  int64_t groups = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;  // explicit zero padding
};

enum class VectorKind : uint8_t {
  kElementwise,     // add, mul, relu, casts, optimizer arithmetic, …
  kTranscendental,  // exp, log, tanh, sigmoid, gelu, erf, sqrt, pow (slower on most units)
  kReduction,       // sum, mean, max over axes
  kSoftmax,         // softmax, log_softmax, cross-entropy
  kNormalization,   // layer/RMS norm and their backward
  kPooling,         // max/avg pooling windows and their gradients
};

struct WorkOp {
  ValueId node = kNoValue;  // in the graph that was lowered
  std::string name;         // node name; "<node>.qk" etc. when a node lowers to several ops
  std::string layer;        // first component of the node's scope; "" when it has none
  Phase phase = Phase::kForward;
  OpKind op = OpKind::kInput;
  WorkKind kind = WorkKind::kNone;

  GemmShape gemm;          // kGemm
  bool is_conv = false;    // kGemm from a convolution: `conv` holds its geometry
  ConvShape conv;

  VectorKind vector = VectorKind::kElementwise;  // kVector
  int64_t elements = 0;    // kVector: elements produced (reductions: elements read)
  double vector_ops = 0;   // kVector: arithmetic operations (flops) per the op table's cost

  DType input_dtype = kF32;   // of the data inputs (the first float input)
  DType output_dtype = kF32;
  double bytes_read = 0;      // all inputs, at their dtypes
  double bytes_written = 0;   // the output
  double weight_bytes = 0;    // the part of bytes_read that is parameters or constants

  int64_t macs() const { return kind == WorkKind::kGemm ? gemm.macs() : 0; }
  double flops() const { return kind == WorkKind::kGemm ? 2.0 * gemm.macs() : vector_ops; }
};

struct Workload {
  std::string name;        // the model's or graph's name, for reports
  bool training = false;   // the graph has parameter updates (a training step)
  int64_t batch = 1;
  std::vector<WorkOp> ops;
  int64_t parameter_count = 0;   // elements of trainable parameters
  double parameter_bytes = 0;    // all parameters, at their dtypes
  double gradient_bytes = 0;     // trainable parameters' gradients (all-reduced per step)

  int64_t macs() const;
  double flops() const;
};

struct LowerOptions {
  int64_t batch = 1;       // the value of the symbolic batch dimension
  std::string name;        // Workload::name
};

// Specializes `g` to the batch and lowers every node. Throws Error(kUnsupported) naming the
// node when an op has no lowering (none today: composites fall back to their
// decomposition's work).
Workload lower_to_workload(const Graph& g, const LowerOptions& options);

// The layer and phase a node name's scope gives ("dense_1/grad/matmul_40" -> dense_1,
// backward; "optimizer/add_90" -> optimizer, update).
std::string layer_of(const std::string& node_name);
Phase phase_of(const std::string& node_name);

}  // namespace tessera::sim
