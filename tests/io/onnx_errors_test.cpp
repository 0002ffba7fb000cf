// Bad ONNX input: every failure is one tessera::Error naming the file and, where a node is at
// fault, its name, index and operator. The replay at the end runs the nasty inputs kept in
// tests/fuzz/corpus/onnx_import through the importer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "onnx/onnx_pb.h"
#include "tessera/core/error.h"
#include "tessera/io/onnx.h"

// g++ 12 reports a false -Wrestrict in std::string assignments inlined into protobuf setters.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

namespace tessera {
namespace {

namespace fs = std::filesystem;

onnx::TensorProto floats(const std::string& name, std::vector<int64_t> dims, float value) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  int64_t n = 1;
  for (int64_t d : dims) t.add_dims(d), n *= d;
  for (int64_t i = 0; i < n; ++i) t.add_float_data(value);
  return t;
}

void value_info(onnx::ValueInfoProto* v, const std::string& name, std::vector<int64_t> dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) {
    auto* dim = t->mutable_shape()->add_dim();
    if (d < 0) dim->set_dim_param("batch");
    else dim->set_dim_value(d);
  }
}

// input [batch, 16] -> MatMul(w [16, 8]) "fc" -> Relu "act" -> output [batch, 8].
onnx::ModelProto small_model(int64_t opset = 17) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  auto* g = m.mutable_graph();
  g->set_name("small");
  value_info(g->add_input(), "input", {-1, 16});
  value_info(g->add_output(), "output", {-1, 8});
  *g->add_initializer() = floats("w", {16, 8}, 0.5f);
  auto* fc = g->add_node();
  fc->set_name("fc");
  fc->set_op_type("MatMul");
  fc->add_input("input");
  fc->add_input("w");
  fc->add_output("h");
  auto* act = g->add_node();
  act->set_name("act");
  act->set_op_type("Relu");
  act->add_input("h");
  act->add_output("output");
  return m;
}

std::string error_of(const onnx::ModelProto& m) {
  try {
    import_onnx_bytes(m.SerializeAsString(), "test.onnx");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string error_of_bytes(const std::string& bytes) {
  try {
    import_onnx_bytes(bytes, "test.onnx");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(OnnxErrors, TheSmallModelImports) {
  Model m = import_onnx_bytes(small_model().SerializeAsString(), "small.onnx");
  Tensor y = m.predict(Tensor::full(kF32, Shape{2, 16}, 1.0));
  EXPECT_FLOAT_EQ(y.get(0), 8.0f);
}

TEST(OnnxErrors, TruncatedProtobuf) {
  std::string bytes = small_model().SerializeAsString();
  std::string msg = error_of_bytes(bytes.substr(0, bytes.size() / 2));
  EXPECT_NE(msg.find("test.onnx"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a valid ONNX protobuf"), std::string::npos) << msg;
}

TEST(OnnxErrors, HostileProtobuf) {
  // A length-delimited field (graph, 7) claiming 2 GiB.
  std::string bytes = "\x3a\xff\xff\xff\xff\x07";
  EXPECT_NE(error_of_bytes(bytes).find("not a valid ONNX protobuf"), std::string::npos);
  EXPECT_NE(error_of_bytes("").find("test.onnx"), std::string::npos);
  EXPECT_NE(error_of_bytes(std::string(64, '\xff')).find("test.onnx"), std::string::npos);
}

TEST(OnnxErrors, UnsupportedOperator) {
  onnx::ModelProto m = small_model();
  m.mutable_graph()->mutable_node(1)->set_op_type("Selu");
  std::string msg = error_of(m);
  EXPECT_NE(msg.find("node 'act' (#1, Selu)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not supported"), std::string::npos) << msg;
}

TEST(OnnxErrors, UnsupportedOpset) {
  std::string msg = error_of(small_model(11));
  EXPECT_NE(msg.find("opset 11 is not supported"), std::string::npos) << msg;
  msg = error_of(small_model(19));
  EXPECT_NE(msg.find("opset 19"), std::string::npos) << msg;
}

TEST(OnnxErrors, InconsistentShapes) {
  onnx::ModelProto m = small_model();
  *m.mutable_graph()->mutable_initializer(0) = floats("w", {12, 8}, 0.5f);
  std::string msg = error_of(m);
  EXPECT_NE(msg.find("node 'fc' (#0, MatMul)"), std::string::npos) << msg;

  onnx::ModelProto m2 = small_model();
  m2.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->mutable_shape()
      ->mutable_dim(1)->set_dim_value(9);
  msg = error_of(m2);
  EXPECT_NE(msg.find("inconsistent shapes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("node 'act' (#1, Relu)"), std::string::npos) << msg;
}

TEST(OnnxErrors, MissingInitializer) {
  onnx::ModelProto m = small_model();
  m.mutable_graph()->clear_initializer();
  std::string msg = error_of(m);
  EXPECT_NE(msg.find("test.onnx"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fc"), std::string::npos) << msg;
  EXPECT_NE(msg.find("MatMul"), std::string::npos) << msg;
}

TEST(OnnxErrors, ExternalData) {
  onnx::ModelProto m = small_model();
  onnx::TensorProto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* e = w->add_external_data();
  e->set_key("location");
  e->set_value("weights.bin");
  std::string msg = error_of(m);
  EXPECT_NE(msg.find("external file"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
}

TEST(OnnxErrors, InitializerDataDisagreesWithItsShape) {
  onnx::ModelProto m = small_model();
  m.mutable_graph()->mutable_initializer(0)->add_float_data(1.0f);
  std::string msg = error_of(m);
  EXPECT_NE(msg.find("test.onnx"), std::string::npos) << msg;
}

TEST(OnnxErrors, HugeDimensionsFailBeforeAllocating) {
  onnx::ModelProto m = small_model();
  onnx::TensorProto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->clear_dims();
  w->add_dims(int64_t{1} << 40);
  w->add_dims(int64_t{1} << 40);
  EXPECT_NE(error_of(m).find("test.onnx"), std::string::npos);
}

TEST(OnnxErrors, SymbolicNonBatchDimension) {
  onnx::ModelProto m = small_model();
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()
      ->mutable_dim(1)->set_dim_param("features");
  std::string msg = error_of(m);
  EXPECT_NE(msg.find("graph input 'input'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("features"), std::string::npos) << msg;
}

TEST(OnnxErrors, MissingFile) {
  try {
    import_onnx("/nonexistent/model.onnx");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.onnx"), std::string::npos);
  }
}

// The fuzzer's nasty finds and hand-made hostile files: each must load or fail with an Error.
TEST(OnnxErrors, ReplaysTheNastyCorpus) {
  fs::path root = fs::path(TESSERA_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "onnx_import";
  if (!fs::is_directory(root)) GTEST_SKIP() << "no corpus at " << root;
  int n = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
      Model m = import_onnx_bytes(bytes, entry.path().filename().string());
    } catch (const Error&) {
    }
    ++n;
  }
  EXPECT_GT(n, 0);
}

}  // namespace
}  // namespace tessera
