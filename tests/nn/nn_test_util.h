// Helpers for the nn tests: run a Functional (or a loss) on one backend and read results.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tessera/backends/scheduler.h"
#include "tessera/core/error.h"
#include "tessera/ir/builder.h"
#include "tessera/nn/functional.h"
#include "tessera/nn/losses.h"

namespace tessera::nn_test {

struct RunOptions {
  std::string backend = "ref";
  bool training = false;
  int64_t step = 0;
  uint64_t seed = 0;
};

// Emits `net` on fresh inputs (batch symbolic), compiles for the inputs' batch and runs it.
inline std::vector<Tensor> run(const Functional& net, const std::vector<Tensor>& xs,
                               RunOptions o = {}) {
  GraphBuilder b;
  std::vector<ValueId> ids;
  for (size_t i = 0; i < xs.size(); ++i)
    ids.push_back(b.input(net.input_names()[i], net.input_types()[i].dtype,
                          net.input_types()[i].shape));
  std::vector<Tensor> feeds = xs;
  CallContext ctx{b};
  ctx.training = o.training;
  ctx.seed = o.seed;
  if (o.training) {
    ctx.step = b.input("step", kI64, {});
    feeds.push_back(Tensor::scalar(static_cast<double>(o.step), kI64));
  }
  for (ValueId y : net.emit(ctx, ids)) b.output(y);
  Program p = compile_program(b.finish(), {.batch = xs[0].shape()[0], .backends = {o.backend}});
  std::vector<Tensor> out;
  for (const Tensor& t : p.run(feeds)) out.push_back(t.clone());
  return out;
}

// The per-sample loss of (y_pred, y_true) on ref; when `through` is set, y_pred is fed as
// the input of that op (softmax, sigmoid) so the loss sees that node.
inline std::vector<float> loss_values(const Loss& loss, const Tensor& y_pred,
                                      const Tensor& y_true, OpKind through = OpKind::kInput) {
  GraphBuilder b;
  Shape ps = y_pred.shape(), ts = y_true.shape();
  ps[0] = kDynamic;
  ts[0] = kDynamic;
  ValueId p = b.input("y_pred", y_pred.dtype(), ps);
  ValueId t = b.input("y_true", y_true.dtype(), ts);
  if (through == OpKind::kSoftmax) p = b.softmax(p, -1);
  if (through == OpKind::kSigmoid) p = b.sigmoid(p);
  b.output(loss.per_sample(b, p, t));
  Program prog = compile_program(b.finish(), {.batch = y_pred.shape()[0], .backends = {"ref"}});
  std::vector<Tensor> feeds = {y_pred, y_true};
  return prog.run(feeds)[0].to_f32_vector();
}

inline Tensor f32(std::vector<float> v, Shape s) { return Tensor::from_vector(v, s, kF32); }
inline Tensor i32(std::vector<int> v, Shape s) { return Tensor::from_vector(v, s, kI32); }

// Expects `message` (of the Error `fn` throws) to contain each of `parts`.
template <typename Fn>
void expect_error(Fn&& fn, std::vector<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    for (const std::string& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "message '" << e.what() << "' lacks '" << p << "'";
  }
}

}  // namespace tessera::nn_test
