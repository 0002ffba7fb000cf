// GPT-2 small (124M parameters) exports to ONNX and the ONNX checker accepts it: the one zoo
// model too large for the unit tests' export round trip (tests/cli/onnx_cli_test.cpp).
#include <gtest/gtest.h>

#include "tessera/cli/model_spec.h"
#include "tessera/io/onnx.h"

namespace tessera::cli {
namespace {

TEST(OnnxSlow, Gpt2SmallExportsAndPassesTheChecker) {
  Model m = build_model(zoo_spec("gpt2-small"), 1);
  std::string bytes = export_onnx_bytes(m);  // throws when the checker rejects it
  EXPECT_GT(bytes.size(), size_t{124'000'000} * 4);
}

}  // namespace
}  // namespace tessera::cli
