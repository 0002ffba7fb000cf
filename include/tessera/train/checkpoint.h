// Native checkpoints: a whole model — architecture, weights, optimizer state and the epoch —
// in one file (format: docs/checkpoint-format.md). Writes are atomic (temporary file, fsync,
// rename), so a crash mid-save never destroys the previous checkpoint.
//
//   save_model(model, "mnist.tsm");
//   Model m = load_model("mnist.tsm");   // compiled again when it was compiled; fit()
//                                         // resumes from m.epoch() with the same results
#pragma once

#include <string>

#include "tessera/train/model.h"

namespace tessera {

void save_model(const Model& model, const std::string& path);
// Throws Error naming the file and the record when it is missing, truncated or corrupt.
Model load_model(const std::string& path);

}  // namespace tessera
