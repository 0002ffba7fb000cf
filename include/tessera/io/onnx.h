// ONNX import and export (docs/onnx.md).
//
// import_onnx parses a model with the ONNX protobuf library, checks it with the ONNX checker
// and translates it into a trainable Model: one GraphLayer (nn/graph_layer.h) holding the
// graph as IR, float initializers as trainable weights, shape computations folded to static
// shapes with a symbolic batch dimension, NCHW convolutions and pooling mapped onto the IR's
// NHWC ops. export_onnx writes a model's inference graph as ONNX (opset 17), checked by the
// ONNX checker before it is written.
//
//   Model m = import_onnx("resnet.onnx");          // opsets 13–18
//   m.compile({.optimizer = "sgd", .loss = "sparse_categorical_crossentropy"});
//   m.fit(x, y, {.epochs = 1});
//   export_onnx(m, "resnet-tuned.onnx");
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tessera/train/model.h"

namespace tessera {

struct OnnxImportOptions {
  std::string name;  // the model's name; empty: the graph's name, else "onnx_model"
};

// Throws Error naming the file, and the node (name, index and operator) at fault, when the
// file is not valid ONNX, uses an unsupported operator, opset or feature (external data,
// several outputs), or when its shapes are inconsistent.
Model import_onnx(const std::string& path, const OnnxImportOptions& options = {});
// The same from bytes in memory; `source` names them in error messages.
Model import_onnx_bytes(std::string_view bytes, const std::string& source,
                        const OnnxImportOptions& options = {});

// True when `path` names an ONNX file (by its extension, ".onnx").
bool is_onnx_path(const std::string& path);

struct OnnxExportOptions {
  int64_t opset = 17;  // the ai.onnx opset written (17 only, for now)
};

// The model's inference graph (Model::predict_graph) as an ONNX ModelProto, serialized.
// Throws Error naming the node when an op has no ONNX form (docs/onnx.md lists them).
std::string export_onnx_bytes(Model& model, const OnnxExportOptions& options = {});
// Writes it atomically to `path`.
void export_onnx(Model& model, const std::string& path, const OnnxExportOptions& options = {});

}  // namespace tessera
