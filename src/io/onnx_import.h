// Internal to io: the state of one ONNX import, shared by the driver (onnx_import.cpp), the
// operator translators (onnx_import_ops.cpp, onnx_import_conv.cpp) and the import-time
// evaluation of shape computations (onnx_import_fold.cpp).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"
#include "tessera/io/onnx.h"
#include "tessera/ir/builder.h"

namespace tessera::onnx_io {

// Import-time values larger than this are not evaluated on the host (they run as IR).
inline constexpr int64_t kMaxKnownElements = int64_t{1} << 16;

// A value known while importing: what shape computations (Shape → Gather → Concat →
// Reshape chains) work on. Integer and bool values are held exactly; an element may be a
// multiple of the symbolic batch size N (batch[i] != 0: the element is v[i]·N). Float
// values (constants) are held as a tensor and not computed on.
struct Known {
  DType dtype = kI64;
  Shape shape;  // static
  std::vector<int64_t> v;
  std::vector<uint8_t> batch;
  Tensor tensor;  // float dtypes only

  int64_t numel() const { return shape.numel(); }
  bool symbolic() const;
  bool is_int() const { return !dtype.is_float(); }
};

Known known_from_tensor(const Tensor& t);  // ints for integer/bool dtypes
Tensor known_to_tensor(const Known& k);    // throws when it holds N

// One ONNX value: its IR value in ONNX layout and/or permuted to NHWC (a rank-4 NCHW value
// that feeds convolutions stays NHWC until something needs NCHW), its import-time value,
// or the initializer it names (a parameter, created on first use).
struct Val {
  ValueId plain = kNoValue;
  ValueId nhwc = kNoValue;
  ValueId hwio = kNoValue;  // a conv filter [OC, C/g, KH, KW] as the IR's [KH, KW, C/g, OC]
  std::optional<Known> known;
  const onnx::TensorProto* init = nullptr;
};

class Importer {
 public:
  Importer(const onnx::ModelProto& model, std::string source, OnnxImportOptions options);
  Model run();

  // ---- for the translators ----------------------------------------------------------
  GraphBuilder b;
  const onnx::NodeProto* node = nullptr;  // the node being translated
  int64_t opset = 0;

  bool has_input(int i) const;
  const std::string& input_name(int i) const;
  const Val& val(int i);  // throws naming the input when it is not defined
  TensorType type(int i);  // the logical (ONNX layout) type
  ValueId plain(int i);    // the IR value in ONNX layout (materialized on demand)
  ValueId nhwc(int i);     // rank 4: the IR value permuted to NHWC
  bool is_nhwc_only(int i);
  ValueId hwio(int i);     // a conv filter in HWIO (an initializer is stored transposed)
  // Gemm's B with transB = 1 as [K, N]: an initializer read only there is stored transposed
  // (a dense layer's kernel, as the simulators expect it); nullopt for other values.
  std::optional<ValueId> dense_kernel(int i);
  const Known* known(int i);  // the import-time value, or nullptr
  // The import-time integer values of input i; throws naming `what` when they are not known
  // at import time or depend on the batch size.
  std::vector<int64_t> const_ints(int i, const char* what);
  // Float initializer `i` as a host tensor (for the conv weight layout), or nullptr.
  const onnx::TensorProto* initializer(int i);
  bool only_conv_weight(const std::string& init_name) const { return conv_only_.count(init_name); }
  ValueId parameter_from(const onnx::TensorProto& init, const Tensor& value);

  void set_output(int k, Val v);
  void set_plain(ValueId id) { set_output(0, Val{.plain = id}); }
  void set_nhwc(ValueId id) { set_output(0, Val{.nhwc = id}); }
  void set_known(Known k) { set_output(0, Val{.known = std::move(k)}); }

  // Attributes, with errors naming the attribute and the expected type.
  const onnx::AttributeProto* attr(const char* name) const;
  int64_t attr_int(const char* name, int64_t fallback) const;
  float attr_float(const char* name, float fallback) const;
  std::vector<int64_t> attr_ints(const char* name) const;  // empty when absent
  std::string attr_string(const char* name, const std::string& fallback) const;

  // Fails with kUnsupported / kInvalidArgument; the driver adds the file and the node.
  [[noreturn]] void unsupported(const std::string& what) const;
  [[noreturn]] void invalid(const std::string& what) const;

  // A static batch size the model's inputs declared (0: symbolic), so that constant
  // Reshape targets written for it keep the batch symbolic.
  int64_t declared_batch = 0;

 private:
  void check_opsets();
  void check_with_onnx_checker();
  void add_inputs();
  void scan_initializers();
  void translate(int index);
  const onnx::ModelProto& model_;
  std::string source_;
  OnnxImportOptions options_;
  std::map<std::string, Val> values_;
  std::map<std::string, const onnx::TensorProto*> inits_;
  std::set<std::string> conv_only_, gemm_bt_only_, non_trainable_;
  std::set<std::string> param_names_;
};

// The translator of each supported operator (onnx_import_ops.cpp, onnx_import_conv.cpp).
using Translator = void (*)(Importer& im);
const Translator* find_translator(const std::string& domain, const std::string& op_type);
void register_conv_translators(std::map<std::string, Translator>& table);
std::string supported_operators();

// Import-time evaluation (onnx_import_fold.cpp): whether `op` can run on known inputs, and
// running it; returns false when it cannot (the op then runs as IR).
bool fold_known(Importer& im, const std::string& op);

// A name from the file as valid UTF-8 without control characters (invalid bytes become '?'):
// names end up in JSON (checkpoints, reports).
std::string clean_name(const std::string& s);

// 1.0 / 0.5 / sqrt(2)-style checks on IR constants, for the pattern matchers.
bool is_scalar_constant(const Graph& g, ValueId id, double value, double tolerance);
std::optional<double> scalar_constant(const Graph& g, ValueId id);

}  // namespace tessera::onnx_io
