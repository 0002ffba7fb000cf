// The op case table: one or more cases per op. Coverage.EveryOpHasACase fails for an op
// without one, so a new op cannot skip the harness.
//
// Shapes are small and odd (3, 5, 7) so that vector tails and remainders are exercised, and
// include broadcasting, rank 0 and the symbolic batch (kDynamic). Value ranges keep each op
// in its domain (log on positives, indices in range) and, for gradients, away from kinks.
#include <cstdint>
#include <optional>

#include "harness.h"
#include "tessera/core/error.h"
#include "tessera/ir/op_table.h"

namespace tessera::ops_test {
namespace {

constexpr int64_t N = kDynamic;
constexpr int64_t kWhole = INT32_MAX;  // a slice end that takes the batch axis whole

Arg data(Shape s, double lo = -2, double hi = 2) { return Arg{.shape = s, .lo = lo, .hi = hi}; }
Arg away(Shape s, double lo, double hi) {  // |v| in [lo, hi], random sign
  return Arg{.shape = s, .lo = lo, .hi = hi, .random_sign = true};
}
Arg index(Shape s, int64_t lo, int64_t hi, DType t = kI32) {
  return Arg{.kind = ArgKind::kIndex,
             .shape = s,
             .lo = static_cast<double>(lo),
             .hi = static_cast<double>(hi),
             .index_dtype = t};
}
Arg boolean(Shape s) { return Arg{.kind = ArgKind::kBool, .shape = s}; }
Arg with_specials(Arg a) {
  a.specials = true;
  return a;
}

std::vector<DType> all_dtypes() { return {kF32, kF16, kBF16, kI8, kI32, kI64, kBool}; }
std::vector<DType> fixed_dtypes() {
  return {DType::fixed(16, 6), DType::fixed(8, 3, false, Rounding::kHalfEven, Overflow::kSaturate),
          DType::fixed(12, 4, true, Rounding::kHalfAway, Overflow::kSymmetricSaturate)};
}

class Table {
 public:
  OpCase& add(std::string name, OpKind op, std::vector<Arg> args, EmitFn emit) {
    OpCase c;
    c.name = std::move(name);
    c.op = op;
    c.args = std::move(args);
    c.emit = std::move(emit);
    c.dtypes = op_dtypes(op);
    cases_.push_back(std::move(c));
    return cases_.back();
  }
  std::vector<OpCase> take() { return std::move(cases_); }
  void append(std::vector<OpCase> more) {
    for (OpCase& c : more) cases_.push_back(std::move(c));
  }

 private:
  std::vector<OpCase> cases_;
};

void add_unary(Table& t) {
  struct U {
    OpKind op;
    Arg arg;
  };
  // Domains: log/sqrt/rsqrt on positives; abs/relu away from their kink at 0.
  const U unary[] = {
      {OpKind::kNeg, with_specials(data({3, 5}))},
      {OpKind::kAbs, with_specials(away({3, 5}, 0.1, 2))},
      {OpKind::kRelu, with_specials(away({3, 5}, 0.1, 2))},
      {OpKind::kExp, data({3, 5}, -3, 3)},
      {OpKind::kLog, data({3, 5}, 0.2, 4)},
      {OpKind::kSqrt, data({3, 5}, 0.2, 4)},
      {OpKind::kRsqrt, data({3, 5}, 0.2, 4)},
      {OpKind::kTanh, data({3, 5}, -3, 3)},
      {OpKind::kSigmoid, data({3, 5}, -5, 5)},
      {OpKind::kGelu, data({3, 5}, -3, 3)},
      {OpKind::kErf, data({3, 5}, -2, 2)},
  };
  for (const U& u : unary) {
    OpKind op = u.op;
    t.add(op_name(op), op, {u.arg}, [op](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
      return b.emit(op, {in[0]});
    });
  }
  auto exp = [](GraphBuilder& b, const std::vector<ValueId>& in, DType) { return b.exp(in[0]); };
  t.add("exp_batch", OpKind::kExp, {data({N, 7}, -3, 3)}, exp);
  t.add("abs_rank0", OpKind::kAbs, {away({}, 0.1, 2)},
        [](GraphBuilder& b, const std::vector<ValueId>& in, DType) { return b.abs(in[0]); });
}

void add_binary(Table& t) {
  auto op_fn = [](OpKind op) {
    return [op](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
      return b.emit(op, {in[0], in[1]});
    };
  };
  t.add("add_same_shape", OpKind::kAdd, {data({5, 7}), data({5, 7})}, op_fn(OpKind::kAdd));
  t.add("add_broadcast", OpKind::kAdd, {data({2, 3, 4}), data({3, 1})}, op_fn(OpKind::kAdd));
  t.add("add_scalar", OpKind::kAdd, {data({4, 3}), data({})}, op_fn(OpKind::kAdd));
  t.add("add_batch", OpKind::kAdd, {data({N, 6}), data({6})}, op_fn(OpKind::kAdd));
  t.add("sub_broadcast_both", OpKind::kSub, {data({4, 1, 3}), data({2, 1})}, op_fn(OpKind::kSub));
  t.add("mul_broadcast", OpKind::kMul, {data({3, 4}), data({4})}, op_fn(OpKind::kMul));
  Arg divisor = away({1, 5}, 0.5, 2);
  divisor.nonzero = true;
  divisor.specials = true;  // -1 and the extremes: INT_MIN / -1 wraps
  t.add("div_broadcast", OpKind::kDiv, {with_specials(data({2, 5})), divisor}, op_fn(OpKind::kDiv));
  t.add("pow_broadcast", OpKind::kPow, {data({3, 4}, 0.5, 2), data({4}, -2, 2)},
        op_fn(OpKind::kPow));
  // a is away from b (|a| >= 0.5 > |b|): no ties, and both branches win somewhere. The
  // NaN specials in a check NaN propagation in the forward pass.
  for (OpKind op : {OpKind::kMaximum, OpKind::kMinimum}) {
    t.add(std::string(op_name(op)) + "_broadcast", op,
          {with_specials(away({3, 4}, 0.5, 1.5)), data({3, 1}, -0.3, 0.3)}, op_fn(op));
  }
}

void add_compare(Table& t) {
  for (OpKind op : {OpKind::kEqual, OpKind::kNotEqual, OpKind::kLess, OpKind::kLessEqual,
                    OpKind::kGreater, OpKind::kGreaterEqual}) {
    // Values on a coarse grid (and small integers) so that equal pairs occur.
    Arg a = with_specials(data({3, 4}, -1, 1));
    Arg b = data({4}, -1, 1);
    a.grid = b.grid = 0.5;
    a.int_lo = b.int_lo = -2;
    a.int_hi = b.int_hi = 2;
    OpCase& c = t.add(std::string(op_name(op)) + "_broadcast", op, {a, b},
                      [op](GraphBuilder& gb, const std::vector<ValueId>& in, DType) {
                        return gb.compare(op, in[0], in[1]);
                      });
    if (op == OpKind::kEqual || op == OpKind::kNotEqual) c.dtypes.push_back(kBool);
  }
}

void add_where_and_cast(Table& t) {
  auto where = [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
    return b.where(in[0], in[1], in[2]);
  };
  OpCase& w =
      t.add("where_broadcast", OpKind::kWhere, {boolean({3, 1}), data({3, 4}), data({4})}, where);
  w.dtypes = all_dtypes();
  w.extra_dtypes = fixed_dtypes();
  t.add("where_batch", OpKind::kWhere, {boolean({N, 1}), data({N, 3}), data({})}, where);

  // Every source dtype to every target dtype: wide float ranges and specials exercise
  // truncation, saturation, NaN -> 0 and fixed-point rounding/overflow.
  std::vector<DType> targets = all_dtypes();
  for (DType f : fixed_dtypes()) targets.push_back(f);
  for (DType to : targets) {
    OpCase& c = t.add(
        "cast_to_" + dtype_tag(to), OpKind::kCast, {with_specials(data({4, 5}, -300, 300))},
        [to](GraphBuilder& b, const std::vector<ValueId>& in, DType) { return b.cast(in[0], to); });
    c.dtypes = all_dtypes();
    for (DType f : fixed_dtypes()) c.dtypes.push_back(f);
    c.gradient = to == kF32;
    if (to == kF32) c.args[0].lo = -2, c.args[0].hi = 2;
  }
}

void add_matmul(Table& t) {
  auto mm = [](bool ta, bool tb) {
    return [ta, tb](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
      return b.matmul(in[0], in[1], ta, tb);
    };
  };
  auto add = [&](std::string name, Shape a, Shape b, bool ta, bool tb) {
    t.add(std::move(name), OpKind::kMatMul, {data(a, -1, 1), data(b, -1, 1)}, mm(ta, tb))
        .tol_scale = 10;
  };
  add("matmul", {3, 5}, {5, 4}, false, false);
  add("matmul_transpose_a", {5, 3}, {5, 4}, true, false);
  add("matmul_transpose_b", {3, 5}, {4, 5}, false, true);
  add("matmul_transpose_ab", {5, 3}, {4, 5}, true, true);
  add("matmul_batch_broadcast", {2, 1, 3, 5}, {4, 5, 2}, false, false);
  add("matmul_inner_17", {2, 17}, {17, 3}, false, false);
  add("matmul_batch", {N, 3, 4}, {4, 2}, false, false);
  // One row or one column: the cpu backend's matrix-vector path, every transpose.
  add("matmul_row", {1, 6}, {6, 5}, false, false);
  add("matmul_row_transpose_ab", {6, 1}, {5, 6}, true, true);
  add("matmul_column", {4, 6}, {6, 1}, false, false);
  add("matmul_column_transpose_ab", {6, 4}, {1, 6}, true, true);
  add("matmul_batched_rows", {3, 1, 6}, {3, 6, 2}, false, false);
  add("matmul_tall_column", {N, 3, 6}, {6, 1}, false, false);
}

// attention: Tq != Tk, causal (bottom-right aligned, including rows that see no key), a
// run-time kv_len (clamped, so values past Tk and 0 occur), a custom scale, the symbolic
// batch, and a size past the cpu kernel's query and key blocks and vector widths.
// update_slice / dynamic_slice: start values outside [0, dim - size] check the clamping.
void add_attention(Table& t) {
  auto attn = [](bool causal, std::optional<double> scale = std::nullopt) {
    return [causal, scale](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
      return b.attention(in[0], in[1], in[2], causal, scale,
                         in.size() > 3 ? in[3] : kNoValue);
    };
  };
  auto add = [&](std::string name, Shape q, Shape k, Shape v, bool causal,
                 std::optional<double> scale = std::nullopt) -> OpCase& {
    OpCase& c = t.add(std::move(name), OpKind::kAttention,
                      {data(q, -1, 1), data(k, -1, 1), data(v)}, attn(causal, scale));
    c.tol_scale = 10;
    return c;
  };
  add("attention", {2, 3, 4}, {2, 5, 4}, {2, 5, 3}, false);
  add("attention_causal", {2, 5, 4}, {2, 5, 4}, {2, 5, 6}, true);
  add("attention_causal_fewer_queries", {1, 2, 3, 5}, {1, 2, 7, 5}, {1, 2, 7, 3}, true, 0.7);
  add("attention_causal_more_queries", {2, 6, 3}, {2, 4, 3}, {2, 4, 2}, true);
  add("attention_batch", {N, 2, 3, 8}, {N, 2, 4, 8}, {N, 2, 4, 3}, true);
  add("attention_kv_len_causal", {2, 3, 4}, {2, 8, 4}, {2, 8, 5}, true)
      .args.push_back(index({}, 5, 5));
  add("attention_kv_len_i64", {2, 2, 4}, {2, 6, 4}, {2, 6, 3}, false)
      .args.push_back(index({}, 0, 9, kI64));
  add("attention_kv_len_decode", {3, 1, 6}, {3, 9, 6}, {3, 9, 4}, true)
      .args.push_back(index({}, 1, 9));
  add("attention_large", {2, 2, 70, 64}, {2, 2, 70, 64}, {2, 2, 70, 40}, true).gradient = false;

  auto upd = [](int64_t axis) {
    return [axis](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
      return b.update_slice(in[0], in[1], in[2], axis);
    };
  };
  auto dyn = [](int64_t axis, int64_t size) {
    return [axis, size](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
      return b.dynamic_slice(in[0], in[1], axis, size);
    };
  };
  auto window = [&](std::string name, OpKind op, std::vector<Arg> args, EmitFn emit) {
    t.add(std::move(name), op, std::move(args), std::move(emit)).extra_dtypes = fixed_dtypes();
  };
  window("update_slice_axis1", OpKind::kUpdateSlice,
         {data({3, 7, 2}), data({3, 4, 2}), index({}, -2, 6)}, upd(1));
  window("update_slice_clamped", OpKind::kUpdateSlice,
         {data({5, 3}), data({2, 3}), index({}, 4, 9, kI64)}, upd(0));
  window("update_slice_batch", OpKind::kUpdateSlice,
         {data({N, 6}), data({N, 2}), index({}, 0, 4, kI64)}, upd(-1));
  window("dynamic_slice_axis0", OpKind::kDynamicSlice, {data({6, 3}), index({}, -1, 5)},
         dyn(0, 4));
  window("dynamic_slice_batch", OpKind::kDynamicSlice, {data({N, 5, 2}), index({}, 0, 4, kI64)},
         dyn(-2, 3));
}

void add_reductions(Table& t) {
  struct R {
    const char* suffix;
    Shape shape;
    std::vector<int64_t> axes;
    bool keepdims;
  };
  const R shapes[] = {
      {"axis1", {3, 5, 4}, {1}, false},
      {"all", {4, 6}, {}, false},
      {"axes0_last_keepdims", {3, 4, 5}, {0, -1}, true},
      {"batch", {N, 6}, {1}, false},
      {"over_batch", {N, 3}, {0}, true},
  };
  for (OpKind op : {OpKind::kReduceSum, OpKind::kReduceMean, OpKind::kReduceMax}) {
    for (const R& r : shapes) {
      Arg x = data(r.shape);
      // Distinct values: no ties, so reduce_max has one well-defined gradient path.
      x.distinct = op == OpKind::kReduceMax;
      x.specials = op == OpKind::kReduceMax && r.shape.is_static();
      std::vector<int64_t> axes = r.axes;
      bool keep = r.keepdims;
      t.add(fmt::format("{}_{}", op_name(op), r.suffix), op, {x},
            [op, axes, keep](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
              return b.emit(op, {in[0]}, Attrs().set("axes", axes).set("keepdims", int64_t{keep}));
            })
          .tol_scale = 10;
    }
  }
}

void add_movement(Table& t) {
  auto add = [&](std::string name, OpKind op, std::vector<Arg> args, EmitFn emit) {
    OpCase& c = t.add(std::move(name), op, std::move(args), std::move(emit));
    c.extra_dtypes = fixed_dtypes();
  };
  add("reshape", OpKind::kReshape, {data({3, 4})},
      [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
        return b.reshape(in[0], {2, 6});
      });
  add("reshape_batch", OpKind::kReshape, {data({N, 6})},
      [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
        return b.reshape(in[0], {N, 2, 3});
      });
  add("permute", OpKind::kPermute, {data({2, 3, 4})},
      [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
        return b.permute(in[0], {2, 0, 1});
      });
  add("permute_transpose", OpKind::kPermute, {data({5, 3})},
      [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
        return b.permute(in[0], {1, 0});
      });
  add("broadcast", OpKind::kBroadcast, {data({3, 1})},
      [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
        return b.broadcast(in[0], {2, 3, 4});
      });
  add("slice_steps_negative_start", OpKind::kSlice, {data({5, 7})},
      [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
        return b.slice(in[0], {1, -5}, {5, 100}, {2, 2});
      });
  add("slice_batch", OpKind::kSlice, {data({N, 6})},
      [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
        return b.slice(in[0], {0, 1}, {kWhole, 5}, {1, 1});
      });
  add("concat_axis1", OpKind::kConcat, {data({2, 3}), data({2, 1}), data({2, 4})},
      [](GraphBuilder& b, const std::vector<ValueId>& in, DType) { return b.concat(in, 1); });
  add("concat_axis0_negative", OpKind::kConcat, {data({2, 3}), data({3, 3})},
      [](GraphBuilder& b, const std::vector<ValueId>& in, DType) { return b.concat(in, -2); });
  add("pad", OpKind::kPad, {data({2, 3})},
      [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
        return b.pad(in[0], {1, 0}, {0, 2}, 1.5);
      });
}

void add_indexing(Table& t) {
  OpCase& g0 = t.add("gather_axis0_negative", OpKind::kGather, {data({5, 3}), index({4}, -5, 4)},
                     [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
                       return b.gather(in[0], in[1], 0);
                     });
  g0.extra_dtypes = fixed_dtypes();
  t.add("gather_axis1_i64", OpKind::kGather, {data({2, 6, 3}), index({2, 2}, 0, 5, kI64)},
        [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
          return b.gather(in[0], in[1], 1);
        });
  t.add("gather_batch", OpKind::kGather, {data({N, 4}), index({3}, 0, 3)},
        [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
          return b.gather(in[0], in[1], 1);
        });
  t.add("scatter_add_axis1", OpKind::kScatterAdd, {data({2, 4, 3}), index({4}, 0, 4)},
        [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
          return b.scatter_add(in[0], in[1], 1, 5);
        });
  t.add("scatter_add_2d_indices_i64", OpKind::kScatterAdd,
        {data({3, 2, 2}), index({3, 2}, -4, 3, kI64)},
        [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
          return b.scatter_add(in[0], in[1], 0, 4);
        });
  OpCase& oh = t.add("one_hot", OpKind::kOneHot, {index({3, 4}, 0, 6)},
                     [](GraphBuilder& b, const std::vector<ValueId>& in, DType dtype) {
                       return b.one_hot(in[0], 7, dtype);
                     });
  oh.extra_dtypes = fixed_dtypes();
  t.add("one_hot_i64", OpKind::kOneHot, {index({5}, 0, 2, kI64)},
        [](GraphBuilder& b, const std::vector<ValueId>& in, DType dtype) {
          return b.one_hot(in[0], 3, dtype);
        });
}

void add_composites(Table& t) {
  for (OpKind op : {OpKind::kSoftmax, OpKind::kLogSoftmax}) {
    auto emit = [op](int64_t axis) {
      return [op, axis](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
        return b.emit(op, {in[0]}, Attrs().set("axis", axis));
      };
    };
    std::string name = op_name(op);
    t.add(name + "_last", op, {data({3, 7}, -3, 3)}, emit(-1)).tol_scale = 10;
    t.add(name + "_axis1", op, {data({2, 5, 3}, -3, 3)}, emit(1)).tol_scale = 10;
    t.add(name + "_batch", op, {data({N, 10}, -3, 3)}, emit(-1)).tol_scale = 10;
  }
  auto ce = [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
    return b.cross_entropy(in[0], in[1]);
  };
  t.add("cross_entropy", OpKind::kCrossEntropy, {data({4, 6}, -3, 3), index({4}, 0, 5)}, ce)
      .tol_scale = 10;
  t.add("cross_entropy_rank3_i64", OpKind::kCrossEntropy,
        {data({2, 3, 5}, -3, 3), index({2, 3}, 0, 4, kI64)}, ce)
      .tol_scale = 10;
  t.add("cross_entropy_batch", OpKind::kCrossEntropy, {data({N, 10}, -3, 3), index({N}, 0, 9)}, ce)
      .tol_scale = 10;

  // Normalization: odd row widths (vector tails), rank 1 and 3, the symbolic batch; the
  // fused backward ops run with their own second-order gradient checks.
  auto layer_norm = [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
    return b.layer_norm(in[0], in[1], in[2], 1e-5);
  };
  auto rms_norm = [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
    return b.rms_norm(in[0], in[1], 1e-6);
  };
  auto layer_norm_dx = [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
    return b.layer_norm_grad_input(in[0], in[1], in[2], 1e-5);
  };
  auto rms_norm_dx = [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
    return b.rms_norm_grad_input(in[0], in[1], in[2], 1e-6);
  };
  auto norm = [&](std::string name, OpKind op, std::vector<Arg> args, EmitFn emit) {
    t.add(std::move(name), op, std::move(args), std::move(emit)).tol_scale = 10;
  };
  norm("layer_norm", OpKind::kLayerNorm, {data({3, 7}), data({7}), data({7})}, layer_norm);
  norm("layer_norm_rank1", OpKind::kLayerNorm, {data({5}), data({5}), data({5})}, layer_norm);
  norm("layer_norm_rank3", OpKind::kLayerNorm, {data({2, 3, 13}), data({13}), data({13})},
       layer_norm);
  norm("layer_norm_batch", OpKind::kLayerNorm, {data({N, 9}), data({9}), data({9})}, layer_norm);
  norm("rms_norm", OpKind::kRmsNorm, {data({3, 7}), data({7})}, rms_norm);
  norm("rms_norm_batch_rank3", OpKind::kRmsNorm, {data({N, 2, 11}), data({11})}, rms_norm);
  norm("layer_norm_grad_input", OpKind::kLayerNormGradInput,
       {data({3, 7}), data({7}), data({3, 7})}, layer_norm_dx);
  norm("layer_norm_grad_input_batch", OpKind::kLayerNormGradInput,
       {data({N, 17}), data({17}), data({N, 17})}, layer_norm_dx);
  norm("rms_norm_grad_input", OpKind::kRmsNormGradInput, {data({3, 7}), data({7}), data({3, 7})},
       rms_norm_dx);
  norm("rms_norm_grad_input_batch", OpKind::kRmsNormGradInput,
       {data({N, 2, 9}), data({9}), data({N, 2, 9})}, rms_norm_dx);
  // Far from zero with a small spread: the one-pass statistics must not cancel.
  norm("layer_norm_offset", OpKind::kLayerNorm, {data({4, 19}, 90, 92), data({19}), data({19})},
       layer_norm);
}

// random_uniform: bit-identical on every backend (tol_scale 0 compares exactly), including a
// size that the cpu splits across threads and a shape with the symbolic batch.
void add_random(Table& t) {
  auto emit = [](Shape shape, uint64_t seed) {
    return [shape, seed](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
      return b.random_uniform(in[0], shape, seed);
    };
  };
  Arg step = index({}, 0, 1000000, kI64);
  t.add("random_uniform", OpKind::kRandomUniform, {step}, emit({3, 5}, 7)).tol_scale = 0;
  t.add("random_uniform_large", OpKind::kRandomUniform, {step}, emit({129, 67}, 0xDEADBEEFull))
      .tol_scale = 0;
  // The second input only carries the symbolic batch, so the case runs at several sizes.
  t.add("random_uniform_batch", OpKind::kRandomUniform, {step, data({N, 7})},
        [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
          return b.random_uniform(in[0], b.shape(in[1]), 3);
        })
      .tol_scale = 0;
}

void add_fused(Table& t) {
  // Chains that fuse_elementwise turns into one kFusedElementwise node.
  auto add = [&](std::string name, std::vector<Arg> args, EmitFn emit) {
    OpCase& c = t.add(std::move(name), OpKind::kFusedElementwise, std::move(args), std::move(emit));
    c.fuse = true;
    c.tol_scale = 4;
  };
  add("fused_bias_gelu_mul", {data({4, 8}), data({8})},
      [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
        return b.mul(b.gelu(b.add(in[0], in[1])), in[0]);
      });
  add("fused_relu_chain", {data({3, 5}), data({5}), data({3, 1})},
      [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
        return b.relu(b.sub(b.mul(in[0], in[1]), in[2]));
      });
  add("fused_batch", {data({N, 6}, -1, 1)},
      [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
        return b.sigmoid(b.exp(b.neg(in[0])));
      });
}

// Sizes past the cpu's vector widths, blocking and threading thresholds.
void add_large(Table& t) {
  auto bin = [](OpKind op) {
    return [op](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
      return b.emit(op, {in[0], in[1]});
    };
  };
  // Finite differences over thousands of elements would be slow: the small cases cover
  // the gradients.
  t.add("add_large_broadcast", OpKind::kAdd, {data({129, 67}), data({67})}, bin(OpKind::kAdd))
      .gradient = false;
  t.add("mul_large", OpKind::kMul, {data({33, 257}), data({33, 257})}, bin(OpKind::kMul)).gradient =
      false;
  t.add("gelu_large", OpKind::kGelu, {data({4099}, -4, 4)},
        [](GraphBuilder& b, const std::vector<ValueId>& in, DType) { return b.gelu(in[0]); })
      .gradient = false;
  OpCase& mm =
      t.add("matmul_large", OpKind::kMatMul, {data({33, 70}, -1, 1), data({70, 65}, -1, 1)},
            [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
              return b.matmul(in[0], in[1]);
            });
  mm.tol_scale = 10;
  mm.gradient = false;
  OpCase& rs = t.add("reduce_sum_large_rows", OpKind::kReduceSum, {data({65, 1031})},
                     [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
                       return b.reduce_sum(in[0], {1});
                     });
  rs.tol_scale = 10;
  rs.gradient = false;
  // Many rows summed into few columns: the cpu cuts the rows into blocks summed in parallel.
  OpCase& cs = t.add("reduce_sum_large_cols", OpKind::kReduceSum, {data({1031, 65})},
                     [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
                       return b.reduce_sum(in[0], {0});
                     });
  cs.tol_scale = 10;
  cs.gradient = false;
  OpCase& sm = t.add(
      "softmax_large", OpKind::kSoftmax, {data({33, 257}, -5, 5)},
      [](GraphBuilder& b, const std::vector<ValueId>& in, DType) { return b.softmax(in[0]); });
  sm.tol_scale = 10;
  sm.gradient = false;
  // Rows past the vector width, many rows split across threads. (Each case is set up
  // before the next add: add() may move the earlier ones.) |x̂·gamma| <= sqrt(3) < beta:
  // the f32 kernel's error is relative to those terms, so a sum cancelling to near 0
  // would exceed the f16/bf16 check (2 ulps of the result) among 67k elements.
  OpCase& ln = t.add("layer_norm_large", OpKind::kLayerNorm,
                     {data({65, 1031}), data({1031}, -1, 1), data({1031}, 2, 3)},
                     [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
                       return b.layer_norm(in[0], in[1], in[2], 1e-5);
                     });
  ln.tol_scale = 10;
  ln.gradient = false;
  OpCase& rn = t.add("rms_norm_grad_input_large", OpKind::kRmsNormGradInput,
                     {data({65, 1031}), data({1031}), data({65, 1031})},
                     [](GraphBuilder& b, const std::vector<ValueId>& in, DType) {
                       return b.rms_norm_grad_input(in[0], in[1], in[2], 1e-6);
                     });
  rn.tol_scale = 10;
  rn.gradient = false;
}

}  // namespace

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = [] {
    Table t;
    add_unary(t);
    add_binary(t);
    add_compare(t);
    add_where_and_cast(t);
    add_matmul(t);
    add_attention(t);
    add_reductions(t);
    add_movement(t);
    t.append(conv_op_cases());  // convolution and pooling (NHWC)
    add_indexing(t);
    add_composites(t);
    add_random(t);
    add_fused(t);
    add_large(t);
    return t.take();
  }();
  return cases;
}

}  // namespace tessera::ops_test
