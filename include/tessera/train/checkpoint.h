// Native checkpoints: a whole model — architecture, weights, optimizer state and the epoch —
// in one file (format: docs/checkpoint-format.md). Writes are atomic (temporary file, fsync,
// rename), so a crash mid-save never destroys the previous checkpoint.
//
//   save_model(model, "mnist.tsm");
//   Model m = load_model("mnist.tsm");   // compiled again when it was compiled; fit()
//                                         // resumes from m.epoch() with the same results
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tessera/train/model.h"

namespace tessera {

inline constexpr char kCheckpointMagic[8] = {'T', 'E', 'S', 'S', 'E', 'R', 'A', '\0'};
inline constexpr uint32_t kCheckpointVersion = 1;

void save_model(const Model& model, const std::string& path);

struct LoadOptions {
  // Non-empty: compile for these backends instead of the saved ones (the device is a
  // property of the run, not of the model).
  std::vector<std::string> backends;
  // Non-empty: compile for this device ("cpu", "cuda", "auto"; CompileConfig::device),
  // which then decides the backends.
  std::string device;
};

// Throws Error naming the file and the record when it is missing, truncated or corrupt.
Model load_model(const std::string& path, const LoadOptions& options = {});

// True when the file exists and starts with the checkpoint magic (never throws).
bool is_checkpoint_file(const std::string& path);

// The checked JSON header (architecture, compile config, epoch, tensor table); also
// verifies every tensor's CRC. Throws like load_model.
nlohmann::json read_checkpoint_header(const std::string& path);

}  // namespace tessera
