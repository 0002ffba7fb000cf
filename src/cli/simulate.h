// Internal: what the targets of `tessera simulate` share (simulate_command.cpp parses the
// options and runs the TPU; simulate_fpga.cpp runs the FPGA, simulate_asic.cpp the ASIC,
// simulate_gpu.cpp the GPU model).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tessera/cli/sources.h"
#include "tessera/data/dataset.h"
#include "tessera/sim/fpga/fpga_simulator.h"

namespace tessera::cli {

struct SimulateArgs {
  std::string model, target = "tpu", topology, scalesim_out, json, fidelity, numerics, dataset;
  bool train = false, per_op = false, accuracy = false;
  int64_t batch = 1;
  int64_t calibration = 1000;  // --accuracy with int8: training samples for calibration
  int threads = 0;
  // Pod scale (data-parallel training over N chips).
  std::string pod, interconnect = "tpu-v4-ici", allreduce = "torus2d", scaling = "weak";
  std::string gradient_dtype = "f32";
  double overlap = 0;
  // FPGA: overrides of the config's Model precision and reuse factor.
  std::string precision;
  int64_t reuse_factor = 0;
  // ASIC: the mapper's objective and budget ("20000" trials per layer or "2s" in all).
  std::string mapper, budget;
  // ASIC, one layer from Timeloop v0.4 / Accelergy files.
  std::string arch, problem, mapping, ert, art;
};

// The model compiled with its spec's or checkpoint's settings, on cpu.
Model& compiled(ModelSource& m);

// Data for the functional mode: the first `calibration` training samples and the test split
// of --dataset (default: the model's built-in one).
struct EvalData {
  std::string name;
  Tensor calibration;
  Dataset test;
};
EvalData load_eval_data(const SimulateArgs& a, Model& model);

// The FPGA target of --target fpga[:spec] and the model converted for it: the config (device
// preset or hls4ml YAML) with --precision / --reuse-factor applied; data loaded when
// `need_data` (or the config profiles precisions).
struct FpgaBuild {
  std::unique_ptr<sim::FpgaSimulator> simulator;
  sim::FixedNetwork net;
  std::optional<EvalData> data;
};
FpgaBuild build_fpga(const SimulateArgs& a, const std::string& spec, ModelSource& m,
                     bool need_data);

// `spec`: what follows "fpga:" in --target.
void run_simulate_fpga(const SimulateArgs& a, const std::string& spec);
// `spec`: what follows "asic:" in --target.
void run_simulate_asic(const SimulateArgs& a, const std::string& spec);
// `spec`: what follows "gpu:" in --target.
void run_simulate_gpu(const SimulateArgs& a, const std::string& spec);

}  // namespace tessera::cli
