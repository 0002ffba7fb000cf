// ONNX through the tessera command and the zoo: every zoo model exports (the ONNX checker
// accepts it) and imports back with bitwise-equal predictions; commands take .onnx models.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "cli_test_util.h"
#include "tessera/cli/model_spec.h"
#include "tessera/core/rng.h"
#include "tessera/io/onnx.h"

namespace tessera::cli {
namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A batch of 3 samples the model takes: token ids for integer inputs, else uniform floats.
Tensor sample_input(const Model& m) {
  TensorType t = m.net().input_types()[0];
  Tensor x = Tensor::zeros(t.dtype, t.shape.with_batch(3));
  Rng rng(7);
  for (int64_t i = 0; i < x.numel(); ++i)
    x.set(i, t.dtype.is_float() ? rng.next_uniform() * 2 - 1 : static_cast<double>(rng.next_u64() % 200));
  return x;
}

class ZooExport : public ::testing::TestWithParam<std::string> {};

TEST_P(ZooExport, ExportsAndImportsExactly) {
  Model m = build_model(zoo_spec(GetParam()), 3);
  Tensor x = sample_input(m);
  Tensor want = m.predict(x);
  std::string bytes = export_onnx_bytes(m);  // runs the ONNX checker
  Model back = import_onnx_bytes(bytes, GetParam() + ".onnx");
  Tensor got = back.predict(x);
  ASSERT_EQ(got.shape(), want.shape());
  EXPECT_EQ(std::memcmp(got.contiguous().raw_data(), want.contiguous().raw_data(), want.nbytes()), 0)
      << GetParam() << ": predictions differ after export -> import";
  EXPECT_EQ(back.net().count_params(), m.net().count_params());
  EXPECT_EQ(back.net().count_trainable_params(), m.net().count_trainable_params());
}

// gpt2-small (124M parameters) takes ~20 s to export: it is exported in the slow e2e tests.
std::vector<std::string> zoo_models() {
  std::vector<std::string> out;
  for (const std::string& n : zoo_names())
    if (n != "gpt2-small") out.push_back(n);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Onnx, ZooExport, ::testing::ValuesIn(zoo_models()),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

class OnnxCli : public ScratchDirTest {
 protected:
  OnnxCli() : ScratchDirTest("tessera_onnx_cli_") {}
};

TEST_F(OnnxCli, ExportThenSummarizeSimulateAndPredict) {
  Result r = run({"export", "--format", "onnx", "mnist-cnn", path("cnn.onnx"), "--json",
                  path("e.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "ONNX opset 17")) << r.out;
  EXPECT_EQ(read_json("e.json")["format"], "onnx");

  r = run({"summary", path("cnn.onnx")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "GraphLayer")) << r.out;

  r = run({"simulate", "--target", "tpu", path("cnn.onnx"), "--batch", "8"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "cnn.onnx on tpu")) << r.out;
  EXPECT_TRUE(contains(r.out, "33.9M")) << r.out;  // the MACs of mnist-cnn itself

  r = run({"predict", path("cnn.onnx"), "--input", path("none.npy"), "--output", path("y.npy")});
  EXPECT_NE(r.code, 0);  // a missing input file is a clear error, not a crash
}

TEST_F(OnnxCli, BadOnnxFileIsOneClearError) {
  write("bad.onnx", "this is not a protobuf");
  Result r = run({"summary", path("bad.onnx")});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "bad.onnx")) << r.err;
  EXPECT_TRUE(contains(r.err, "not a valid ONNX protobuf")) << r.err;
}

}  // namespace
}  // namespace tessera::cli
