// FunctionalModel and measure_accuracy: the predict graph in batches through the scheduler,
// with the numerics backend tried first; calibration through the f32 graph with the matrix
// unit's non-weight operands as extra outputs.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tessera/core/error.h"
#include "tessera/ir/passes.h"
#include "tessera/sim/functional.h"
#include "tessera/sim/numerics_backend.h"

namespace tessera::sim {
namespace {

Tensor rows_of(const Tensor& t, int64_t begin, int64_t n) {
  Shape s = t.shape();
  const int64_t row_elems = s[0] == 0 ? 0 : s.numel() / s[0];
  s[0] = n;
  return Tensor(t.buffer(),
                t.offset_bytes() + static_cast<size_t>(begin * row_elems) * t.dtype().size(), s,
                contiguous_strides(s), t.dtype());
}

// The matrix unit's operands that need a calibrated scale: (node, operand index).
struct CalibrationPoint {
  ValueId node;
  int operand;
};

std::vector<CalibrationPoint> calibration_points(const Graph& g) {
  std::vector<CalibrationPoint> points;
  for (ValueId id = 0; id < g.size(); ++id) {
    if (!is_matrix_unit_node(g, id)) continue;
    const Node& n = g.node(id);
    for (int i = 0; i < 2; ++i)
      if (!is_weight_operand(g, n.inputs[static_cast<size_t>(i)])) points.push_back({id, i});
  }
  return points;
}

// The largest magnitude in `t`; NaN when it holds one.
float max_abs(const Tensor& t) {
  const Tensor c = t.contiguous();
  const float* x = c.data<float>();
  float m = 0;
  for (int64_t i = 0; i < c.numel(); ++i) {
    if (std::isnan(x[i])) return x[i];
    m = std::max(m, std::fabs(x[i]));
  }
  return m;
}

int64_t argmax_row(const float* row, int64_t n) { return std::max_element(row, row + n) - row; }

std::vector<int64_t> top1(const Tensor& scores, const char* what) {
  TS_CHECK(scores.rank() == 2 && scores.shape()[1] > 0, ErrorKind::kUnsupported,
           "measure_accuracy: {} must be class scores [N, classes], got shape {}", what,
           scores.shape().str());
  const Tensor f = scores.to(kF32);
  const int64_t n = f.shape()[0], c = f.shape()[1];
  std::vector<int64_t> r(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    r[static_cast<size_t>(i)] = argmax_row(f.data<float>() + i * c, c);
  return r;
}

}  // namespace

FunctionalModel::FunctionalModel(const Graph& predict_graph, TargetNumerics numerics)
    : numerics_(numerics) {
  TS_CHECK(predict_graph.inputs().size() == 1, ErrorKind::kInvalidArgument,
           "functional model: the predict graph must have one input, it has {}",
           predict_graph.inputs().size());
  TS_CHECK(!predict_graph.outputs().empty(), ErrorKind::kInvalidArgument,
           "functional model: the predict graph has no output");
  if (numerics_.mode == NumericsMode::kF32) {
    graph_ = predict_graph;
    calibrated_ = true;
    return;
  }
  // attention's two GEMMs become matmuls the matrix unit runs; its softmax stays f32.
  graph_ = decompose(predict_graph, [](const Node& n) { return n.op == OpKind::kAttention; });
  backend_ = make_numerics_backend(numerics_);
  calibrated_ = numerics_.mode != NumericsMode::kInt8;
}

void FunctionalModel::check_input(const Tensor& x, int64_t batch_size, const char* what) const {
  TS_CHECK(batch_size > 0, ErrorKind::kInvalidArgument,
           "functional model: {}: batch_size must be > 0, got {}", what, batch_size);
  const TensorType& in = graph_.type(graph_.inputs()[0]);
  TS_CHECK(x.defined() && x.rank() == in.shape.rank() && x.rank() >= 1, ErrorKind::kInvalidArgument,
           "functional model: {}: x must have the input's rank {} ({}), got {}", what,
           in.shape.rank(), in.str(), x.defined() ? x.shape().str() : "no tensor");
  for (int i = 1; i < x.rank(); ++i)
    TS_CHECK(in.shape[i] == kDynamic || in.shape[i] == x.shape()[i], ErrorKind::kInvalidArgument,
             "functional model: {}: x has shape {}, the input is {}", what, x.shape().str(),
             in.str());
}

Program& FunctionalModel::program(int64_t batch) {
  auto it = programs_.find(batch);
  if (it != programs_.end()) return it->second;
  ProgramOptions options{.batch = batch};
  if (backend_) options.custom = {backend_};
  Program p = compile_program(graph_, options);
  if (backend_) {
    // Every node the matrix unit should run must be on it: no silent f32 fallback.
    const Graph& g = p.graph();
    for (ValueId id = 0; id < g.size(); ++id)
      if (is_matrix_unit_node(g, id) && p.assignment()[id] != backend_->name())
        throw_error(ErrorKind::kUnsupported,
                    fmt::format("{} numerics cannot run {}: {}", numerics_.str(), g.describe(id),
                                numerics_unsupported_reason(g, id, numerics_)));
  }
  return programs_.emplace(batch, std::move(p)).first->second;
}

void FunctionalModel::calibrate(const Tensor& x, int64_t batch_size) {
  if (numerics_.mode != NumericsMode::kInt8) return;  // nothing to record
  check_input(x, batch_size, "calibrate");
  const std::vector<CalibrationPoint> points = calibration_points(graph_);
  // The f32 graph with every calibrated operand as an extra output.
  Graph probe = graph_;
  const size_t first_extra = probe.outputs().size();
  for (const CalibrationPoint& p : points)
    probe.outputs().push_back(graph_.node(p.node).inputs[static_cast<size_t>(p.operand)]);
  std::vector<float> peak(points.size(), 0.0f);
  std::map<int64_t, Program> programs;
  const Tensor xs = x.dtype() == graph_.type(graph_.inputs()[0]).dtype
                        ? x.contiguous()
                        : x.to(graph_.type(graph_.inputs()[0]).dtype);
  const int64_t n = xs.shape()[0];
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    const int64_t count = std::min(batch_size, n - begin);
    auto it = programs.find(count);
    if (it == programs.end())
      it = programs.emplace(count, compile_program(probe, {.batch = count})).first;
    const Tensor input = rows_of(xs, begin, count);
    const std::vector<Tensor>& out = it->second.run({&input, 1});
    for (size_t i = 0; i < points.size(); ++i) {
      const float m = max_abs(out[first_extra + i]);
      peak[i] = std::isnan(m) || std::isnan(peak[i]) ? m : std::max(peak[i], m);
    }
  }
  for (size_t i = 0; i < points.size(); ++i) {
    const CalibrationPoint& p = points[i];
    const std::string what =
        fmt::format("calibration of {} operand {}", graph_.describe(p.node), p.operand);
    graph_.mutable_node(p.node).attrs.set(kScaleAttrs[p.operand],
                                          static_cast<double>(int8_scale(peak[i], what)));
  }
  programs_.clear();  // compiled before the scales changed
  calibrated_ = true;
}

Tensor FunctionalModel::predict(const Tensor& x, int64_t batch_size) {
  check_input(x, batch_size, "predict");
  TS_CHECK(calibrated_, ErrorKind::kInvalidArgument,
           "functional model: {} needs calibrate() before predict()", numerics_.str());
  const DType in_dtype = graph_.type(graph_.inputs()[0]).dtype;
  const Tensor xs = x.dtype() == in_dtype ? x.contiguous() : x.to(in_dtype);
  const int64_t n = xs.shape()[0];
  const TensorType& out_type = graph_.type(graph_.outputs()[0]);
  Tensor result = Tensor::zeros(out_type.dtype, out_type.shape.with_batch(n));
  if (n == 0) return result;
  const size_t row_bytes = result.nbytes() / static_cast<size_t>(n);
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    const int64_t count = std::min(batch_size, n - begin);
    const Tensor input = rows_of(xs, begin, count);
    const Tensor out = program(count).run({&input, 1})[0].contiguous();
    TS_CHECK(out.nbytes() == row_bytes * static_cast<size_t>(count), ErrorKind::kInternal,
             "functional model: the output of a batch of {} has shape {}", count,
             out.shape().str());
    std::memcpy(static_cast<char*>(result.raw_data()) + static_cast<size_t>(begin) * row_bytes,
                out.raw_data(), out.nbytes());
  }
  return result;
}

AccuracyReport measure_accuracy(const Graph& predict_graph, const TargetNumerics& numerics,
                                const Tensor& x_calibration, const Tensor& x_test,
                                const Tensor& y_test, int64_t batch_size) {
  TS_CHECK(y_test.defined() && x_test.defined() && y_test.rank() >= 1 &&
               y_test.shape()[0] == x_test.shape()[0],
           ErrorKind::kInvalidArgument,
           "measure_accuracy: y_test must have one row per sample of x_test ({}), got {}",
           x_test.defined() ? x_test.shape().str() : "none",
           y_test.defined() ? y_test.shape().str() : "none");
  std::vector<int64_t> labels;
  if (y_test.rank() == 1) {
    TS_CHECK(y_test.dtype().is_int(), ErrorKind::kInvalidArgument,
             "measure_accuracy: rank-1 y_test must hold integer class ids, got {}",
             y_test.dtype().name());
    for (int64_t i = 0; i < y_test.numel(); ++i)
      labels.push_back(static_cast<int64_t>(y_test.get(i)));
  } else {
    labels = top1(y_test, "y_test");
  }

  FunctionalModel reference(predict_graph, TargetNumerics{});
  FunctionalModel target(predict_graph, numerics);
  target.calibrate(x_calibration, batch_size);
  const std::vector<int64_t> ref = top1(reference.predict(x_test, batch_size), "the prediction");
  const std::vector<int64_t> tgt = top1(target.predict(x_test, batch_size), "the prediction");

  AccuracyReport r;
  r.numerics = numerics.str();
  r.samples = static_cast<int64_t>(labels.size());
  int64_t ref_ok = 0, tgt_ok = 0, same = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    ref_ok += ref[i] == labels[i];
    tgt_ok += tgt[i] == labels[i];
    same += ref[i] == tgt[i];
  }
  if (r.samples > 0) {
    const auto n = static_cast<double>(r.samples);
    r.reference = static_cast<double>(ref_ok) / n;
    r.target = static_cast<double>(tgt_ok) / n;
    r.agreement = static_cast<double>(same) / n;
  }
  return r;
}

}  // namespace tessera::sim
