// evaluate() and predict(): batches in order through the evaluation and inference programs
// (training = false), one program per batch size.
#include <cstring>

#include "model_internal.h"
#include "tessera/core/error.h"

namespace tessera {

Logs Model::evaluate_dataset(const Dataset& data, int64_t batch_size) {
  Compiled& c = *compiled_;
  for (auto& m : metrics_) m->reset();
  int64_t n = data.size();
  double loss_sum = 0;
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    int64_t count = std::min(batch_size, n - begin);
    Program& p = c.program(c.eval_programs, c.eval_graph, count);
    Tensor inputs[] = {rows(data.x, begin, count), rows(data.y, begin, count)};
    const std::vector<Tensor>& out = p.run(inputs);
    const Tensor& per_sample = out[0];
    for (int64_t i = 0; i < count; ++i) loss_sum += per_sample.get(i);
    for (auto& m : metrics_) m->update(out[1], inputs[1], nullptr);
  }
  Logs logs;
  logs["loss"] = loss_sum / static_cast<double>(n);
  for (auto& m : metrics_) {
    logs[m->name()] = m->result();
    m->reset();
  }
  return logs;
}

std::map<std::string, double> Model::evaluate(const Tensor& x, const Tensor& y,
                                              int64_t batch_size) {
  TS_CHECK(compiled(), ErrorKind::kInvalidArgument,
           "evaluate: the model is not compiled: call compile() first");
  TS_CHECK(batch_size > 0, ErrorKind::kInvalidArgument, "evaluate: batch_size must be > 0, got {}",
           batch_size);
  Dataset data = prepare_data(Dataset{x, y, "evaluation data"}, "evaluate", true);
  return evaluate_dataset(data, batch_size);
}

Tensor Model::predict(const Tensor& x, int64_t batch_size) {
  TS_CHECK(batch_size > 0, ErrorKind::kInvalidArgument, "predict: batch_size must be > 0, got {}",
           batch_size);
  Dataset data = prepare_data(Dataset{x, Tensor(), "prediction data"}, "predict", false);
  Compiled& c = inference_state();
  int64_t n = data.size();
  Shape out_shape = c.output_type.shape.with_batch(n);
  Tensor result = Tensor::zeros(c.output_type.dtype, out_shape);
  int64_t row_bytes = static_cast<int64_t>(result.nbytes()) / n;
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    int64_t count = std::min(batch_size, n - begin);
    Program& p = c.program(c.predict_programs, c.predict_graph, count);
    Tensor input = rows(data.x, begin, count);
    Tensor out = p.run({&input, 1})[0].contiguous();
    std::memcpy(static_cast<char*>(result.raw_data()) + begin * row_bytes, out.raw_data(),
                static_cast<size_t>(count * row_bytes));
  }
  return result;
}

}  // namespace tessera
