// Lowering graphs to workloads: GEMM shapes of matmul, the conv ops and attention; the unit
// of every other op; scopes to layers and phases; MACs of whole models and training steps.
#include "tessera/sim/workload.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tessera/core/error.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/fusion.h"
#include "tessera/ir/op_table.h"
#include "tessera/ir/passes.h"
#include "tessera/nn/conv_layers.h"
#include "tessera/nn/gpt.h"
#include "tessera/nn/layers.h"
#include "tessera/train/model.h"

namespace tessera::sim {
namespace {

Tensor zeros(const Shape& s) { return Tensor::zeros(kF32, s); }

// The one op lowered from node `name` (or named `name`).
const WorkOp& op_named(const Workload& w, const std::string& name) {
  auto it =
      std::find_if(w.ops.begin(), w.ops.end(), [&](const WorkOp& op) { return op.name == name; });
  if (it == w.ops.end()) throw Error(ErrorKind::kNotFound, "no op " + name);
  return *it;
}

void expect_gemm(const WorkOp& op, int64_t batch, int64_t m, int64_t n, int64_t k) {
  EXPECT_EQ(op.kind, WorkKind::kGemm) << op.name;
  EXPECT_EQ(op.gemm.batch, batch) << op.name;
  EXPECT_EQ(op.gemm.m, m) << op.name;
  EXPECT_EQ(op.gemm.n, n) << op.name;
  EXPECT_EQ(op.gemm.k, k) << op.name;
}

TEST(Scopes, LayerAndPhaseFromNodeNames) {
  EXPECT_EQ(layer_of("dense_1/matmul_40"), "dense_1");
  EXPECT_EQ(layer_of("dense_1/grad/matmul_40"), "dense_1");
  EXPECT_EQ(layer_of("matmul_3"), "");
  EXPECT_EQ(layer_of("block/attn/matmul_3"), "block");
  EXPECT_EQ(phase_of("dense_1/matmul_40"), Phase::kForward);
  EXPECT_EQ(phase_of("dense_1/grad/matmul_40"), Phase::kBackward);
  EXPECT_EQ(phase_of("block/attn/grad/add_3"), Phase::kBackward);
  EXPECT_EQ(phase_of("loss/cross_entropy_7"), Phase::kLoss);
  EXPECT_EQ(phase_of("loss/grad/mul_9"), Phase::kBackward);
  EXPECT_EQ(phase_of("optimizer/add_90"), Phase::kUpdate);
  EXPECT_EQ(phase_of("matmul_3"), Phase::kForward);
  EXPECT_EQ(phase_of("grad"), Phase::kForward);
  EXPECT_EQ(phase_of("dense/grad"), Phase::kForward);  // "grad" is the op's own name here
  EXPECT_EQ(phase_of("dense/relu_4/recompute"), Phase::kBackward);  // checkpointing's copies
  EXPECT_EQ(layer_of("dense/relu_4/recompute"), "dense");
  EXPECT_STREQ(phase_name(Phase::kUpdate), "update");
}

TEST(LowerMatMul, DenseLayerShapesBytesAndDtypes) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 784});
  ValueId w = b.parameter("w", zeros({784, 64}));
  b.output(b.emit(OpKind::kMatMul, {x, w}, {}, "fc/matmul"));
  Workload wl = lower_to_workload(b.finish(), {.batch = 8, .name = "fc"});
  ASSERT_EQ(wl.ops.size(), 1u);  // leaves are not work
  const WorkOp& op = wl.ops[0];
  expect_gemm(op, 1, 8, 64, 784);
  EXPECT_EQ(op.layer, "fc");
  EXPECT_EQ(op.phase, Phase::kForward);
  EXPECT_EQ(op.op, OpKind::kMatMul);
  EXPECT_EQ(op.macs(), 8 * 64 * 784);
  EXPECT_DOUBLE_EQ(op.flops(), 2.0 * 8 * 64 * 784);
  EXPECT_DOUBLE_EQ(op.bytes_read, (8 * 784 + 784 * 64) * 4.0);
  EXPECT_DOUBLE_EQ(op.bytes_written, 8 * 64 * 4.0);
  EXPECT_DOUBLE_EQ(op.weight_bytes, 784 * 64 * 4.0);
  EXPECT_EQ(op.input_dtype, kF32);
  EXPECT_EQ(op.output_dtype, kF32);
  EXPECT_EQ(wl.name, "fc");
  EXPECT_EQ(wl.batch, 8);
  EXPECT_FALSE(wl.training);
  EXPECT_EQ(wl.macs(), 8 * 64 * 784);
}

TEST(LowerMatMul, TransposesAndBatchDims) {
  GraphBuilder b;
  ValueId at = b.input("at", kF32, {5, 3});  // [K, M]
  ValueId bb = b.input("b", kF32, {5, 7});   // [K, N]
  ValueId bt = b.input("bt", kF32, {7, 5});  // [N, K]
  ValueId a = b.input("a", kF32, {3, 5});    // [M, K]
  ValueId ba = b.input("ba", kF32, {kDynamic, 4, 3, 5});
  ValueId bb4 = b.input("bb4", kF32, {kDynamic, 4, 5, 7});
  ValueId seq = b.input("seq", kF32, {kDynamic, 6, 5});
  ValueId bk = b.input("bk", kF32, {kDynamic, 5, 7});
  ValueId bf16a = b.input("bf16a", kBF16, {3, 5});
  ValueId bf16b = b.input("bf16b", kBF16, {5, 7});
  b.output(b.emit(OpKind::kMatMul, {at, bb}, Attrs().set("transpose_a", int64_t{1}), "ta"));
  b.output(b.emit(OpKind::kMatMul, {a, bt}, Attrs().set("transpose_b", int64_t{1}), "tb"));
  b.output(b.emit(OpKind::kMatMul, {at, bt},
                  Attrs().set("transpose_a", int64_t{1}).set("transpose_b", int64_t{1}), "tab"));
  b.output(b.emit(OpKind::kMatMul, {ba, bb4}, {}, "batched"));
  b.output(b.emit(OpKind::kMatMul, {seq, bb}, {}, "shared_rhs"));  // Dense over a sequence
  b.output(b.emit(OpKind::kMatMul, {a, bk}, {}, "broadcast_lhs"));
  b.output(b.emit(OpKind::kMatMul, {bf16a, bf16b}, {}, "bf16"));
  Workload w = lower_to_workload(b.finish(), {.batch = 2});
  expect_gemm(op_named(w, "ta"), 1, 3, 7, 5);
  expect_gemm(op_named(w, "tb"), 1, 3, 7, 5);
  expect_gemm(op_named(w, "tab"), 1, 3, 7, 5);
  expect_gemm(op_named(w, "batched"), 8, 3, 7, 5);
  expect_gemm(op_named(w, "shared_rhs"), 1, 12, 7, 5);  // the batch folds into m
  expect_gemm(op_named(w, "broadcast_lhs"), 2, 3, 7, 5);
  EXPECT_EQ(op_named(w, "bf16").input_dtype, kBF16);
  EXPECT_EQ(op_named(w, "bf16").output_dtype, kBF16);
  EXPECT_DOUBLE_EQ(op_named(w, "bf16").bytes_read, (15 + 35) * 2.0);
  // Every lowered matmul has the op table's flops.
  for (const WorkOp& op : w.ops) {
    EXPECT_EQ(op.layer, "") << op.name;
    EXPECT_EQ(op.macs(), op.gemm.batch * op.gemm.m * op.gemm.n * op.gemm.k);
  }
  EXPECT_EQ(op_named(w, "batched").macs(), 2 * 4 * 3 * 7 * 5);
}

struct ConvCase {
  Workload w;
  ConvCase(int64_t groups, std::vector<int64_t> dilations) {
    GraphBuilder b;
    const int64_t c = 4, oc = 8;
    ValueId x = b.input("x", kF32, {kDynamic, 9, 9, c});
    ValueId k = b.parameter("conv/kernel", zeros({3, 3, c / groups, oc}));
    std::vector<int64_t> strides{2, 2}, pads{1, 1, 1, 1};
    ValueId y = b.conv2d(x, k, strides, pads, dilations, groups);
    b.graph().mutable_node(y).name = "conv/conv2d";
    ValueId dx = b.conv2d_backprop_input(y, k, Shape{9, 9, c}, strides, pads, dilations, groups);
    b.graph().mutable_node(dx).name = "conv/grad/dx";
    ValueId dw = b.conv2d_backprop_filter(x, y, Shape{3, 3, c / groups, oc}, strides, pads,
                                          dilations, groups);
    b.graph().mutable_node(dw).name = "conv/grad/dw";
    b.output(dx);
    b.output(dw);
    w = lower_to_workload(b.finish(), {.batch = 2});
  }
};

TEST(LowerConv, StridePadIm2colViewsAndBackprops) {
  ConvCase cc(1, {1, 1});
  // P = Q = (9 + 2 - 3) / 2 + 1 = 5; m = N·P·Q = 50, k = R·S·C = 36, n = OC = 8.
  const WorkOp& f = op_named(cc.w, "conv/conv2d");
  expect_gemm(f, 1, 50, 8, 36);
  EXPECT_TRUE(f.is_conv);
  EXPECT_EQ(f.conv.n, 2);
  EXPECT_EQ(f.conv.h, 9);
  EXPECT_EQ(f.conv.w, 9);
  EXPECT_EQ(f.conv.c, 4);
  EXPECT_EQ(f.conv.r, 3);
  EXPECT_EQ(f.conv.s, 3);
  EXPECT_EQ(f.conv.filters, 8);
  EXPECT_EQ(f.conv.p, 5);
  EXPECT_EQ(f.conv.q, 5);
  EXPECT_EQ(f.conv.stride_h, 2);
  EXPECT_EQ(f.conv.stride_w, 2);
  EXPECT_EQ(f.conv.pad_top, 1);
  EXPECT_EQ(f.conv.pad_right, 1);
  EXPECT_EQ(f.conv.groups, 1);
  EXPECT_DOUBLE_EQ(f.weight_bytes, 3 * 3 * 4 * 8 * 4.0);
  EXPECT_EQ(f.phase, Phase::kForward);
  // backprop_input: dcol = dy · Wᵀ; backprop_filter: dW = colᵀ · dy.
  const WorkOp& dx = op_named(cc.w, "conv/grad/dx");
  expect_gemm(dx, 1, 50, 36, 8);
  EXPECT_EQ(dx.phase, Phase::kBackward);
  EXPECT_EQ(dx.conv.p, 5);
  const WorkOp& dw = op_named(cc.w, "conv/grad/dw");
  expect_gemm(dw, 1, 36, 8, 50);
  EXPECT_EQ(f.macs(), dx.macs());
  EXPECT_EQ(f.macs(), dw.macs());
  // The op table agrees: 2 flops per MAC.
  EXPECT_EQ(f.macs(), 2 * 5 * 5 * 8 * 3 * 3 * 4);
}

TEST(LowerConv, GroupsAndDilation) {
  ConvCase cc(2, {2, 2});
  // Dilated 3x3 spans 5: P = (9 + 2 - 5) / 2 + 1 = 4. Per group: k = 3·3·2, n = 4.
  const WorkOp& f = op_named(cc.w, "conv/conv2d");
  expect_gemm(f, 2, 2 * 4 * 4, 4, 18);
  EXPECT_EQ(f.conv.groups, 2);
  EXPECT_EQ(f.conv.dilation_h, 2);
  EXPECT_EQ(f.conv.dilation_w, 2);
  EXPECT_EQ(f.conv.p, 4);
  expect_gemm(op_named(cc.w, "conv/grad/dx"), 2, 32, 18, 4);
  expect_gemm(op_named(cc.w, "conv/grad/dw"), 2, 18, 4, 32);
}

TEST(LowerAttention, ThreeOpsWithHeadsAsBatch) {
  GraphBuilder b;
  ValueId q = b.input("q", kF32, {kDynamic, 2, 4, 8});
  ValueId k = b.input("k", kF32, {kDynamic, 2, 6, 8});
  ValueId v = b.input("v", kF32, {kDynamic, 2, 6, 16});
  ValueId len = b.input("len", kI32, {});
  ValueId y = b.attention(q, k, v, /*causal=*/true, std::nullopt, len);
  b.graph().mutable_node(y).name = "mha/attention_9";
  b.output(y);
  Graph g = b.finish();
  Workload w = lower_to_workload(g, {.batch = 3});
  ASSERT_EQ(w.ops.size(), 3u);
  const WorkOp& qk = w.ops[0];
  const WorkOp& sm = w.ops[1];
  const WorkOp& pv = w.ops[2];
  EXPECT_EQ(qk.name, "mha/attention_9.qk");
  EXPECT_EQ(sm.name, "mha/attention_9.softmax");
  EXPECT_EQ(pv.name, "mha/attention_9.pv");
  expect_gemm(qk, 6, 4, 6, 8);
  expect_gemm(pv, 6, 4, 16, 6);
  EXPECT_EQ(sm.kind, WorkKind::kVector);
  EXPECT_EQ(sm.vector, VectorKind::kSoftmax);
  EXPECT_EQ(sm.elements, 6 * 4 * 6);
  for (const WorkOp& op : w.ops) {
    EXPECT_EQ(op.layer, "mha");
    EXPECT_EQ(op.op, OpKind::kAttention);
    EXPECT_EQ(op.node, y);
  }
  // The three ops' flops are the op table's for the node.
  Graph s = specialize(g, 3);
  EXPECT_DOUBLE_EQ(w.flops(), op_info(OpKind::kAttention).cost(s, s.node(y)).flops);
  // The scores travel between the ops: written by qk, read and written by the softmax, read
  // by pv.
  EXPECT_DOUBLE_EQ(qk.bytes_read, 3 * 2 * (4 + 6) * 8 * 4.0);
  EXPECT_DOUBLE_EQ(qk.bytes_written, 3 * 2 * 4 * 6 * 4.0);
  EXPECT_DOUBLE_EQ(sm.bytes_read, 3 * 2 * 4 * 6 * 4.0 + 4.0);  // + kv_len
  EXPECT_DOUBLE_EQ(pv.bytes_read, 3 * 2 * 4 * 6 * 4.0 + 3 * 2 * 6 * 16 * 4.0);
  EXPECT_DOUBLE_EQ(pv.bytes_written, 3 * 2 * 4 * 16 * 4.0);
}

TEST(LowerVector, UnitsOfTheOtherOps) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 4, 4, 6});
  ValueId gamma = b.parameter("g", Tensor::full(kF32, {6}, 1.0));
  ValueId beta = b.parameter("b", zeros({6}));
  auto named = [&](ValueId id, const char* name) {
    b.graph().mutable_node(id).name = name;
    b.output(id);
    return id;
  };
  named(b.add(x, x), "add");
  named(b.exp(x), "exp");
  named(b.cast(x, kBF16), "cast");
  named(b.compare(OpKind::kLess, x, x), "less");
  named(b.reduce_sum(x, {1, 2}), "sum");
  named(b.softmax(x, -1), "softmax");
  named(b.layer_norm(x, gamma, beta), "ln");
  named(b.max_pool2d(x, {2, 2}, {2, 2}), "pool");
  named(b.reshape(x, Shape{kDynamic, 96}), "reshape");
  named(b.permute(x, {0, 3, 1, 2}), "permute");
  named(b.pad(x, {0, 1, 1, 0}, {0, 1, 1, 0}), "pad");
  Workload w = lower_to_workload(b.finish(), {.batch = 2});
  const double n = 2 * 4 * 4 * 6;
  EXPECT_EQ(op_named(w, "add").vector, VectorKind::kElementwise);
  EXPECT_EQ(op_named(w, "add").elements, n);
  EXPECT_DOUBLE_EQ(op_named(w, "add").vector_ops, n);
  EXPECT_DOUBLE_EQ(op_named(w, "add").flops(), n);
  EXPECT_EQ(op_named(w, "exp").vector, VectorKind::kTranscendental);
  EXPECT_EQ(op_named(w, "cast").vector, VectorKind::kElementwise);
  EXPECT_EQ(op_named(w, "cast").input_dtype, kF32);
  EXPECT_EQ(op_named(w, "cast").output_dtype, kBF16);
  EXPECT_DOUBLE_EQ(op_named(w, "cast").bytes_written, n * 2);
  EXPECT_EQ(op_named(w, "less").kind, WorkKind::kVector);
  EXPECT_EQ(op_named(w, "less").output_dtype, kBool);
  EXPECT_EQ(op_named(w, "sum").vector, VectorKind::kReduction);
  EXPECT_EQ(op_named(w, "sum").elements, n);  // elements read
  EXPECT_EQ(op_named(w, "softmax").vector, VectorKind::kSoftmax);
  EXPECT_DOUBLE_EQ(op_named(w, "softmax").vector_ops, 5 * n);
  EXPECT_EQ(op_named(w, "ln").vector, VectorKind::kNormalization);
  EXPECT_DOUBLE_EQ(op_named(w, "ln").weight_bytes, 12 * 4.0);
  const WorkOp& pool = op_named(w, "pool");
  EXPECT_EQ(pool.vector, VectorKind::kPooling);
  EXPECT_EQ(pool.elements, 2 * 2 * 2 * 6);
  EXPECT_FALSE(pool.is_conv);
  EXPECT_EQ(pool.conv.r, 2);
  EXPECT_EQ(pool.conv.p, 2);
  EXPECT_EQ(op_named(w, "reshape").kind, WorkKind::kNone);
  EXPECT_EQ(op_named(w, "reshape").bytes_read, 0);
  EXPECT_EQ(op_named(w, "permute").kind, WorkKind::kMemory);
  EXPECT_DOUBLE_EQ(op_named(w, "permute").bytes_read, n * 4);
  EXPECT_DOUBLE_EQ(op_named(w, "permute").flops(), 0);
  EXPECT_EQ(op_named(w, "pad").kind, WorkKind::kMemory);
  EXPECT_EQ(w.macs(), 0);
  EXPECT_EQ(w.parameter_count, 12);  // parameters are trainable by default
  EXPECT_DOUBLE_EQ(w.parameter_bytes, 12 * 4.0);
  EXPECT_DOUBLE_EQ(w.gradient_bytes, 0);  // no training step
}

TEST(LowerVector, FusedNodeIsTranscendentalWhenItsProgramIs) {
  GraphBuilder b;
  ValueId x = b.input("x", kF32, {kDynamic, 16});
  ValueId y = b.input("y", kF32, {kDynamic, 16});
  b.output(b.mul(b.add(x, y), y));          // plain arithmetic
  b.output(b.mul(b.tanh(b.add(x, x)), y));  // holds a tanh
  Graph fused = fuse_elementwise(b.finish());
  Workload w = lower_to_workload(fused, {.batch = 4});
  std::vector<VectorKind> kinds;
  for (const WorkOp& op : w.ops) {
    ASSERT_EQ(op.op, OpKind::kFusedElementwise) << op.name;
    EXPECT_EQ(op.elements, 64);
    kinds.push_back(op.vector);
  }
  ASSERT_EQ(kinds.size(), 2u);
  EXPECT_EQ(kinds[0], VectorKind::kElementwise);
  EXPECT_EQ(kinds[1], VectorKind::kTranscendental);
  EXPECT_DOUBLE_EQ(w.ops[1].vector_ops, 3 * 64);
}

// A KV-cache append updates a parameter, but not a trainable one: still inference.
TEST(LowerWorkload, CacheUpdatesAreNotTraining) {
  GraphBuilder b;
  ValueId cache = b.parameter("attn/cache", zeros({2, 8, 4}), /*trainable=*/false);
  ValueId kv = b.input("kv", kF32, {2, 1, 4});
  ValueId pos = b.input("pos", kI32, {});
  ValueId appended = b.update_slice(cache, kv, pos, 1);
  b.graph().mutable_node(appended).name = "attn/append";
  ValueId window = b.dynamic_slice(appended, pos, 1, 3);
  b.graph().mutable_node(window).name = "attn/window";
  b.output(window);
  b.update(cache, appended);
  Workload w = lower_to_workload(b.finish(), {.batch = 1});
  EXPECT_FALSE(w.training);
  EXPECT_EQ(w.parameter_count, 0);
  EXPECT_DOUBLE_EQ(w.parameter_bytes, 64 * 4.0);
  EXPECT_DOUBLE_EQ(w.gradient_bytes, 0);
  EXPECT_EQ(op_named(w, "attn/append").kind, WorkKind::kMemory);
  EXPECT_DOUBLE_EQ(op_named(w, "attn/append").weight_bytes, 64 * 4.0);
  EXPECT_EQ(op_named(w, "attn/window").kind, WorkKind::kMemory);
  EXPECT_DOUBLE_EQ(op_named(w, "attn/window").bytes_written, 2 * 3 * 4 * 4.0);
}

TEST(LowerWorkload, BadBatchIsAnError) {
  GraphBuilder b;
  b.output(b.relu(b.input("x", kF32, {kDynamic, 3})));
  Graph g = b.finish();
  try {
    lower_to_workload(g, {.batch = 0});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("batch"), std::string::npos) << e.what();
  }
}

// mnist-mlp: Flatten -> Dense 256 relu -> Dense 128 relu -> Dense 10 softmax on 28x28.
Sequential mnist_mlp() {
  Sequential m({Flatten("flatten"), Dense(256, {.activation = "relu", .name = "hidden1"}),
                Dense(128, {.activation = "relu", .name = "hidden2"}),
                Dense(10, {.activation = "softmax", .name = "logits"})},
               "mnist-mlp", 1);
  m.build(Shape{28, 28});
  return m;
}

TEST(LowerModel, MnistMlpInferenceMacsAreTheHandCount) {
  Sequential m = mnist_mlp();
  Workload w = lower_to_workload(m.predict_graph(), {.batch = 32, .name = "mnist-mlp"});
  EXPECT_EQ(w.macs(), 32 * (784 * 256 + 256 * 128 + 128 * 10));
  std::vector<std::string> gemm_layers;
  for (const WorkOp& op : w.ops) {
    EXPECT_EQ(op.phase, Phase::kForward) << op.name;
    if (op.kind == WorkKind::kGemm) gemm_layers.push_back(op.layer);
  }
  EXPECT_EQ(gemm_layers, (std::vector<std::string>{"hidden1", "hidden2", "logits"}));
  auto first_gemm = std::find_if(w.ops.begin(), w.ops.end(),
                                 [](const WorkOp& op) { return op.kind == WorkKind::kGemm; });
  ASSERT_NE(first_gemm, w.ops.end());
  expect_gemm(*first_gemm, 1, 32, 256, 784);
  EXPECT_EQ(w.parameter_count, 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
  EXPECT_FALSE(w.training);
}

TEST(LowerModel, TrainingStepHasEveryPhaseNamedAfterTheLayers) {
  Sequential m({Dense(64, {.activation = "relu", .input_shape = Shape{32}, .name = "hidden"}),
                Dense(10, {.activation = "softmax", .name = "out"})},
               "seed", 1);
  m.compile({.optimizer = "adam", .loss = "sparse_categorical_crossentropy"});
  const int64_t n = 16;
  Workload w = lower_to_workload(m.train_graph(), {.batch = n, .name = "seed"});
  EXPECT_TRUE(w.training);
  std::map<Phase, int64_t> macs;
  std::map<Phase, int> ops;
  std::map<std::string, int> backward_gemms;
  for (const WorkOp& op : w.ops) {
    macs[op.phase] += op.macs();
    ++ops[op.phase];
    if (op.phase == Phase::kBackward && op.kind == WorkKind::kGemm) ++backward_gemms[op.layer];
    if (op.phase == Phase::kUpdate) {
      EXPECT_EQ(op.layer, "optimizer") << op.name;
    }
    if (op.phase == Phase::kLoss) {
      EXPECT_EQ(op.layer, "loss") << op.name;
    }
    if (op.phase == Phase::kForward && op.kind == WorkKind::kGemm) {
      EXPECT_TRUE(op.layer == "hidden" || op.layer == "out") << op.name;
    }
  }
  for (Phase p : {Phase::kForward, Phase::kLoss, Phase::kBackward, Phase::kUpdate})
    EXPECT_GT(ops[p], 0) << phase_name(p);
  const int64_t forward = n * (32 * 64 + 64 * 10);
  EXPECT_EQ(macs[Phase::kForward], forward);
  // Backward: every weight gradient (the forward's MACs again) and the input gradient of
  // every layer but the first (nothing needs d loss / d x): about twice the forward pass
  // for deep stacks, 1 + 640/2688 of it here.
  EXPECT_EQ(macs[Phase::kBackward], forward + n * 64 * 10);
  EXPECT_EQ(macs[Phase::kLoss], 0);
  EXPECT_EQ(macs[Phase::kUpdate], 0);
  EXPECT_EQ(backward_gemms["hidden"], 1);  // dW only
  EXPECT_EQ(backward_gemms["out"], 2);     // dW and dx
  const int64_t params = 32 * 64 + 64 + 64 * 10 + 10;
  EXPECT_EQ(w.parameter_count, params);
  EXPECT_DOUBLE_EQ(w.gradient_bytes, params * 4.0);
  EXPECT_GE(w.parameter_bytes, 3 * params * 4.0);  // weights + Adam's two moments
}

// Activation checkpointing's recomputed copies are backward work: the forward pass costs
// the same with and without it.
TEST(LowerModel, RecomputedNodesCountAsBackward) {
  auto phase_macs = [](bool recompute) {
    Sequential m({Dense(64, {.activation = "gelu", .input_shape = Shape{32}, .name = "a"}),
                  Dense(64, {.activation = "gelu", .name = "b"}),
                  Dense(10, {.activation = "softmax", .name = "c"})},
                 "deep", 1);
    m.compile(
        {.optimizer = "sgd", .loss = "sparse_categorical_crossentropy", .recompute = recompute});
    Workload w = lower_to_workload(m.train_graph(), {.batch = 8});
    std::map<Phase, double> flops;
    int copies = 0;
    for (const WorkOp& op : w.ops) {
      flops[op.phase] += op.flops();
      copies += op.name.ends_with("/recompute");
    }
    return std::make_pair(flops, copies);
  };
  auto [plain, plain_copies] = phase_macs(false);
  auto [checkpointed, copies] = phase_macs(true);
  EXPECT_EQ(plain_copies, 0);
  EXPECT_GT(copies, 0);
  EXPECT_DOUBLE_EQ(checkpointed[Phase::kForward], plain[Phase::kForward]);
  EXPECT_GT(checkpointed[Phase::kBackward], plain[Phase::kBackward]);
}

// The lowered ops' flops add up to the op table's over the specialized graph: nothing is
// dropped or counted twice, whatever ops a whole step holds.
double op_table_flops(const Graph& g, int64_t batch) {
  Graph s = specialize(g, batch);
  double total = 0;
  for (ValueId id = 0; id < s.size(); ++id)
    if (op_info(s.node(id).op).op_class != OpClass::kLeaf)
      total += op_info(s.node(id).op).cost(s, s.node(id)).flops;
  return total;
}

std::map<OpKind, int> op_counts(const Workload& w) {
  std::map<OpKind, int> n;
  for (const WorkOp& op : w.ops) ++n[op.op];
  return n;
}

TEST(LowerModel, CnnTrainingStepUnderMixedPrecision) {
  Sequential m({Conv2D(8, {3, 3},
                       {.strides = {2, 2},
                        .padding = "same",
                        .activation = "relu",
                        .input_shape = Shape{12, 12, 3},
                        .name = "conv"}),
                MaxPool2D({2, 2}, {.name = "pool"}), Flatten("flatten"),
                Dense(10, {.activation = "softmax", .name = "logits"})},
               "cnn", 1);
  m.compile({.optimizer = "sgd",
             .loss = "sparse_categorical_crossentropy",
             .dtype_policy = "mixed_bfloat16"});
  const int64_t n = 4;
  Workload w = lower_to_workload(m.train_graph(), {.batch = n});
  EXPECT_DOUBLE_EQ(w.flops(), op_table_flops(m.train_graph(), n));
  std::map<OpKind, int> count = op_counts(w);
  EXPECT_EQ(count[OpKind::kConv2D], 1);
  EXPECT_EQ(count[OpKind::kConv2DBackpropFilter], 1);
  EXPECT_EQ(count[OpKind::kConv2DBackpropInput], 0);  // the first layer needs no dx
  EXPECT_EQ(count[OpKind::kMaxPool2DGrad], 1);
  const WorkOp& conv = *std::find_if(w.ops.begin(), w.ops.end(),
                                     [](const WorkOp& op) { return op.op == OpKind::kConv2D; });
  // "same", stride 2 on 12x12: 6x6 outputs.
  expect_gemm(conv, 1, n * 6 * 6, 8, 3 * 3 * 3);
  EXPECT_EQ(conv.layer, "conv");
  EXPECT_EQ(conv.input_dtype, kBF16);  // the policy's compute dtype
  EXPECT_EQ(conv.conv.pad_top + conv.conv.pad_bottom, 1);
  EXPECT_TRUE(w.training);
  EXPECT_DOUBLE_EQ(w.gradient_bytes, (3 * 3 * 3 * 8 + 8 + 3 * 3 * 8 * 10 + 10) * 4.0);
}

// Without dropout the blocks use the attention op; with it (on the probabilities) they spell
// attention out in primitives and draw masks.
TEST(LowerModel, GptTrainingSteps) {
  for (double dropout : {0.0, 0.1}) {
    SCOPED_TRACE(dropout);
    GptConfig c;
    c.vocab_size = 64;
    c.context = 16;
    c.d_model = 32;
    c.num_heads = 2;
    c.num_layers = 2;
    c.dropout = dropout;
    Model m(make_gpt(c));
    m.compile({.optimizer = "adamw", .loss = "sparse_categorical_crossentropy"});
    const int64_t n = 3;
    Workload w = lower_to_workload(m.train_graph(), {.batch = n, .name = "gpt"});
    EXPECT_DOUBLE_EQ(w.flops(), op_table_flops(m.train_graph(), n));
    std::map<OpKind, int> count = op_counts(w);
    EXPECT_EQ(count[OpKind::kRandomUniform] > 0, dropout > 0);
    EXPECT_GT(count[OpKind::kLayerNorm], 0);
    EXPECT_GT(count[OpKind::kLayerNormGradInput], 0);
    EXPECT_GT(count[OpKind::kGather], 0);
    EXPECT_GT(count[OpKind::kScatterAdd], 0);  // the embedding's gradient
    int qk = 0;
    for (const WorkOp& op : w.ops) {
      if (op.op == OpKind::kAttention && op.phase == Phase::kForward && op.name.ends_with(".qk")) {
        expect_gemm(op, n * 2, 16, 16, 16);
        ++qk;
      }
    }
    EXPECT_EQ(qk, dropout > 0 ? 0 : 2);  // one per block
    std::map<Phase, int64_t> macs;
    for (const WorkOp& op : w.ops) macs[op.phase] += op.macs();
    EXPECT_GT(macs[Phase::kBackward], macs[Phase::kForward]);
    EXPECT_EQ(macs[Phase::kUpdate], 0);
  }
}

}  // namespace
}  // namespace tessera::sim
