// The FPGA config, in the shape of hls4ml's configuration dictionary, and the conversion of
// a model's predict graph into a FixedNetwork with it (docs/simulators/fpga.md).
//
//   Model: {Precision: ap_fixed<16,6>, ReuseFactor: 1, Strategy: Latency}
//   IOType: io_parallel                  # or io_stream
//   LayerName:
//     hidden1: {Precision: {weight: ap_fixed<8,3>, accum: auto, result: ap_fixed<16,6,AP_RND,AP_SAT>},
//               ReuseFactor: 4, Strategy: Resource}
//     hidden2: {Precision: ap_fixed<12,4>}   # a string sets every type of the layer
//   Device: xczu9eg
//   ClockPeriod: 5                       # ns
//
// Precision `auto` is hls4ml's inference (accum/result from the input, weight and bias formats
// and n_in); `auto<W>` (or `auto<W,Q,O>`) profiles: W bits, integer bits from the f32 model's
// ranges over calibration inputs. Model: {Precision: auto<16>} profiles every type.
//
//   FpgaConfig cfg = load_fpga_config("fpga.yaml");
//   FixedNetwork net = build_fixed_network(model.predict_graph(), cfg, &calibration_x);
//   AccuracyReport r = fixed_point_accuracy(model.predict_graph(), net, x_test, y_test);
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "tessera/core/tensor.h"
#include "tessera/ir/graph.h"
#include "tessera/sim/fpga/fixed_network.h"
#include "tessera/sim/fpga/precision.h"
#include "tessera/sim/report.h"

namespace tessera::sim {

// Per-type precisions; unset ones fall back to the layer's, then the model's.
struct PrecisionSet {
  std::optional<PrecisionSpec> weight, bias, accum, result;
};

struct LayerConfig {
  PrecisionSet precision;
  std::optional<int64_t> reuse_factor;
  std::optional<Strategy> strategy;
};

struct FpgaConfig {
  PrecisionSpec precision{.kind = PrecisionSpec::Kind::kFixed,
                          .format = {.width = 16, .int_bits = 6}};  // Model: Precision
  PrecisionSet model_types;  // Model: Precision given as a map of types
  int64_t reuse_factor = 1;
  Strategy strategy = Strategy::kLatency;
  IoType io = IoType::kParallel;
  // Keys: the model's layer names; also "<layer>_<activation>" for the activation stage
  // and the graph input's name (its `result` is the network input's format).
  std::map<std::string, LayerConfig> layers;
  std::string device;             // empty: the simulator's default
  double clock_period_ns = 5.0;   // hls4ml's ClockPeriod
  std::string source = "<config>";

  // The resolved precision of `type` ("weight", "bias", "accum", "result") of `layer`
  // (layer's, then the activation stage's base layer's, then Model's).
  PrecisionSpec precision_of(const std::string& layer, const std::string& type) const;
  // Whether any precision is profiled (auto<W>): build_fixed_network then needs calibration.
  bool needs_calibration() const;
};

// Throws Error(kInvalidArgument) "<source>:<line>: …" for a bad field.
FpgaConfig parse_fpga_config(const std::string& yaml_text, const std::string& source);
FpgaConfig load_fpga_config(const std::string& path);

// hls4ml's precision inference for a dense layer's accumulator (documented in
// docs/simulators/fpga.md): the exact format of bias + Σ n_in products.
FixedFormat infer_dense_accum(const FixedFormat& input, const FixedFormat& weight,
                              const FixedFormat& bias, int64_t n_in, bool has_bias);

// Converts a Sequential-style predict graph (per layer scope: matmul [+ add bias]
// [+ relu | softmax]; reshape/flatten; conv2d [+ bias] [+ relu]; max_pool2d) into
// FixedLayers. A final softmax is dropped with a note. `calibration_inputs` ([N, …] f32) is
// needed when a precision is profiled (auto<W>). Error(kUnsupported) names any other node.
FixedNetwork build_fixed_network(const Graph& predict_graph, const FpgaConfig& config,
                                 const Tensor* calibration_inputs);

// Top-1 accuracy of the f32 graph and of `net` (FixedEvaluator) on (x_test, y_test), and
// their agreement. y_test: class ids (rank 1) or one-hot / scores (rank 2).
AccuracyReport fixed_point_accuracy(const Graph& predict_graph, const FixedNetwork& net,
                                    const Tensor& x_test, const Tensor& y_test);

}  // namespace tessera::sim
