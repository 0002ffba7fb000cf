// ONNX import against PyTorch: the fixtures (scripts/make-onnx-fixtures.py) hold models
// exported by torch.onnx.export with an input batch and PyTorch's output; the imported
// model must agree within 1e-5 relative, fine-tune, save and load, and export back exactly.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "tessera/data/loaders.h"
#include "tessera/io/onnx.h"
#include "tessera/ir/op_table.h"
#include "tessera/train/checkpoint.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

fs::path fixtures() { return fs::path(TESSERA_SOURCE_DIR) / "tests" / "io" / "fixtures"; }

// max |a - b| / max |b|: the error relative to the output's scale.
double max_relative_error(const Tensor& a, const Tensor& b) {
  std::vector<float> x = a.to_f32_vector(), y = b.to_f32_vector();
  EXPECT_EQ(x.size(), y.size());
  double err = 0, scale = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    err = std::max(err, std::abs(double(x[i]) - double(y[i])));
    scale = std::max(scale, std::abs(double(y[i])));
  }
  return err / std::max(scale, 1e-30);
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  Tensor x = a.contiguous(), y = b.contiguous();
  return x.shape() == y.shape() && x.dtype() == y.dtype() &&
         std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0;
}

class Fixture : public ::testing::TestWithParam<const char*> {};

TEST_P(Fixture, MatchesPyTorch) {
  const std::string name = GetParam();
  Model m = import_onnx((fixtures() / (name + ".onnx")).string());
  Tensor x = read_npy((fixtures() / (name + ".input.npy")).string());
  Tensor want = read_npy((fixtures() / (name + ".output.npy")).string());
  Tensor got = m.predict(x);
  ASSERT_EQ(got.shape(), want.shape());
  double err = max_relative_error(got, want);
  RecordProperty("max_relative_error", fmt::format("{:.3g}", err));
  std::printf("%s: max relative error %.3g\n", name.c_str(), err);
  EXPECT_LT(err, 1e-5) << name;
}

TEST_P(Fixture, SavesLoadsAndExportsExactly) {
  const std::string name = GetParam();
  Model m = import_onnx((fixtures() / (name + ".onnx")).string());
  Tensor x = read_npy((fixtures() / (name + ".input.npy")).string());
  Tensor y = m.predict(x);

  fs::path dir = fs::temp_directory_path() / fmt::format("tessera-onnx-{}-{}", name, getpid());
  fs::create_directories(dir);
  save_model(m, (dir / "m.tsm").string());
  Model loaded = load_model((dir / "m.tsm").string());
  EXPECT_TRUE(bitwise_equal(loaded.predict(x), y)) << "checkpoint round trip of " << name;

  export_onnx(m, (dir / "m.onnx").string());
  Model again = import_onnx((dir / "m.onnx").string());
  EXPECT_TRUE(bitwise_equal(again.predict(x), y)) << "export -> import of " << name;
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Onnx, Fixture,
                         ::testing::Values("mlp", "cnn", "transformer", "opset18"));

TEST(OnnxImport, ParametersAreTrainableAndStateIsNot) {
  Model m = import_onnx((fixtures() / "cnn.onnx").string());
  int trainable = 0, frozen = 0;
  for (const VariablePtr& v : m.net().variables()) (v->trainable ? trainable : frozen)++;
  // conv1 (w, b), bn (scale, bias), conv2 (w), conv3 (w, b), fc (w, b); bn running stats.
  EXPECT_EQ(trainable, 9);
  EXPECT_EQ(frozen, 2);
}

TEST(OnnxImport, ConvolutionsRunNhwcWithoutLayoutChurn) {
  Model m = import_onnx((fixtures() / "cnn.onnx").string());
  int permutes = 0, convs = 0;
  for (const Node& n : m.predict_graph().nodes()) {
    permutes += n.op == OpKind::kPermute;
    convs += n.op == OpKind::kConv2D;
  }
  EXPECT_EQ(convs, 3);
  EXPECT_LE(permutes, 2);  // into NHWC once; around the zero Pad PyTorch writes
}

TEST(OnnxImport, AttentionAndGeluBecomeSingleOps) {
  Model m = import_onnx((fixtures() / "transformer.onnx").string());
  int attention = 0, gelu = 0, softmax = 0;
  for (const Node& n : m.predict_graph().nodes()) {
    attention += n.op == OpKind::kAttention;
    gelu += n.op == OpKind::kGelu;
    softmax += n.op == OpKind::kSoftmax;
  }
  EXPECT_EQ(attention, 1);
  EXPECT_EQ(gelu, 1);
  EXPECT_EQ(softmax, 0);
}

TEST(OnnxImport, FineTunes) {
  for (const char* name : {"mlp", "cnn", "transformer"}) {
    Model m = import_onnx((fixtures() / (std::string(name) + ".onnx")).string());
    Tensor x = read_npy((fixtures() / (std::string(name) + ".input.npy")).string());
    Tensor y = Tensor::zeros(kI32, Shape{x.shape()[0]});
    for (int64_t i = 0; i < y.numel(); ++i) y.set(i, static_cast<double>((i * 3) % 10));
    CompileConfig c;
    c.optimizer = "adam";
    c.optimizer_options.learning_rate = 0.01;
    c.loss_options.from_logits = true;
    m.compile(c);
    double before = m.evaluate(x, y)["loss"];
    m.fit(x, y, {.epochs = 5, .batch_size = 4, .shuffle = false, .verbose = 0});
    double after = m.evaluate(x, y)["loss"];
    EXPECT_LT(after, before) << name;
  }
}

}  // namespace
}  // namespace tessera
