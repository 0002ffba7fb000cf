// The functional mode: a model's inference graph run bit-exactly in a target's numerics,
// and the accuracy it keeps against the f32 model on a test set.
//
// FunctionalModel runs the real predict graph through the scheduler: the matrix unit's
// nodes (matmul, conv2d, and the two GEMMs of attention, which is decomposed into
// primitives for it) on the numerics backend, everything else on cpu in f32. int8 first
// needs calibrate(): the f32 graph runs over calibration data and each non-weight operand
// of the matrix unit gets the per-tensor scale max |x| / 127.
//
//   FunctionalModel fm(model.predict_graph(), parse_numerics("int8", "--numerics"));
//   fm.calibrate(train.x.slice(0, 1000), 256);
//   Tensor scores = fm.predict(test.x, 256);
//   AccuracyReport r = measure_accuracy(model.predict_graph(), fm.numerics(), calib_x,
//                                       test.x, test.y, 256);
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "tessera/backends/scheduler.h"
#include "tessera/core/tensor.h"
#include "tessera/ir/graph.h"
#include "tessera/sim/numerics.h"
#include "tessera/sim/report.h"

namespace tessera::sim {

class FunctionalModel {
 public:
  // `predict_graph`: one input with a symbolic (or any) batch, the first output the model's
  // prediction. Its parameters are shared, not copied: later training shows through.
  FunctionalModel(const Graph& predict_graph, TargetNumerics numerics);

  // Records the activation ranges of the matrix unit's inputs over `x` (int8; a no-op for
  // f32 and bf16). May be called again: the new data replaces the old ranges.
  void calibrate(const Tensor& x, int64_t batch_size);
  // The first output for every row of `x`, in batches of `batch_size`. int8 needs
  // calibrate() first. Throws Error(kUnsupported) naming a matrix-unit node the target
  // cannot run (an int8 depth beyond kInt8MaxDepth).
  Tensor predict(const Tensor& x, int64_t batch_size);

  const TargetNumerics& numerics() const { return numerics_; }
  bool calibrated() const { return calibrated_; }
  // The graph it runs: attention decomposed and, after calibration, scales attached.
  const Graph& graph() const { return graph_; }

 private:
  Program& program(int64_t batch);
  void check_input(const Tensor& x, int64_t batch_size, const char* what) const;

  Graph graph_;
  TargetNumerics numerics_;
  std::shared_ptr<Backend> backend_;  // null for f32
  bool calibrated_ = false;
  std::map<int64_t, Program> programs_;  // per batch size
};

// Top-1 accuracy of the f32 model (reference) and of the model in `numerics` (target) on
// (x_test, y_test), and the fraction of samples whose top-1 class is unchanged. int8
// calibrates on x_calibration (use training data, not the test set). y_test: class ids
// (rank 1, integer) or one-hot / scores (rank 2). The prediction must be [N, classes].
AccuracyReport measure_accuracy(const Graph& predict_graph, const TargetNumerics& numerics,
                                const Tensor& x_calibration, const Tensor& x_test,
                                const Tensor& y_test, int64_t batch_size);

}  // namespace tessera::sim
