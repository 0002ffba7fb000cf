// The HLS export's text: ap_fixed typedefs per layer, pragmas following the reuse factors,
// the weight arrays' sizes and exact values. (Vitis HLS itself is not available here.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "fpga_rtl_support.h"
#include "tessera/core/error.h"
#include "tessera/sim/fpga/hls_export.h"

namespace tessera::sim {
namespace {

using testing::dense_layer;
using testing::elementwise_layer;
using testing::fx;
using testing::ufx;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

TEST(FpgaHls, TypedefsPragmasAndWeights) {
  std::mt19937_64 rng(7);
  FixedNetwork net;
  net.name = "mlp-2";
  net.input = fx(10, 3);
  net.layers.push_back(dense_layer(
      {.name = "fc1", .n_in = 8, .n_out = 6, .reuse = 2, .strategy = Strategy::kResource,
       .input = net.input, .weight = fx(6, 1), .bias = fx(8, 3),
       .accum = fx(12, 4, Rounding::kHalfUp, Overflow::kSaturate),
       .result = fx(9, 3, Rounding::kHalfEven, Overflow::kSaturateZero)},
      rng));
  net.layers.push_back(elementwise_layer("relu1", FixedLayerKind::kRelu, 6, net.layers[0].result,
                                         ufx(8, 2, Rounding::kTruncate, Overflow::kSaturate)));
  net.layers.back().result.overflow = Overflow::kSymmetricSaturate;
  const auto dir = (std::filesystem::temp_directory_path() /
                    ("tessera_fpga_hls_" + std::to_string(::getpid())))
                       .string();
  write_hls(net, dir);
  const std::string h = read_text(dir + "/mlp_2.h");
  const std::string c = read_text(dir + "/mlp_2.cpp");
  const std::string w = read_text(dir + "/mlp_2_weights.h");
  const std::string tb = read_text(dir + "/mlp_2_tb.cpp");
  EXPECT_TRUE(contains(h, "typedef ap_fixed<10,3,AP_TRN,AP_WRAP> l0_fc1_input_t;")) << h;
  EXPECT_TRUE(contains(h, "typedef ap_fixed<6,1,AP_TRN,AP_WRAP> l0_fc1_weight_t;"));
  EXPECT_TRUE(contains(h, "typedef ap_fixed<8,3,AP_TRN,AP_WRAP> l0_fc1_bias_t;"));
  EXPECT_TRUE(contains(h, "typedef ap_fixed<12,4,AP_RND,AP_SAT> l0_fc1_accum_t;"));
  EXPECT_TRUE(contains(h, "typedef ap_fixed<9,3,AP_RND_CONV,AP_SAT_ZERO> l0_fc1_result_t;"));
  EXPECT_TRUE(contains(h, "typedef ap_ufixed<8,2,AP_TRN,AP_SAT_SYM> l1_relu1_result_t;"));
  EXPECT_TRUE(contains(h, "void mlp_2(const input_t x[N_INPUTS], output_t y[N_OUTPUTS]);"));
  EXPECT_TRUE(contains(h, "latency 4 cycles, II 3"));
  // Reuse factor 2: II 2, 48 / 2 = 24 multipliers, 4 inputs per pass.
  EXPECT_TRUE(contains(c, "#pragma HLS PIPELINE II=2\n")) << c;
  EXPECT_TRUE(contains(c, "#pragma HLS ARRAY_PARTITION variable=l0_fc1_w cyclic factor=24"));
  EXPECT_TRUE(contains(c, "#pragma HLS ALLOCATION operation instances=mul limit=24"));
  EXPECT_TRUE(contains(c, "#pragma HLS UNROLL factor=4"));
  EXPECT_TRUE(contains(c, "#pragma HLS PIPELINE II=3\n"));  // the top: the network's II
  EXPECT_TRUE(contains(c, "l0_fc1(x, t0);") && contains(c, "l1_relu1(t0, y);"));
  EXPECT_TRUE(contains(c, "acc[j] = (l0_fc1_accum_t)(acc[j] + (l0_fc1_accum_t)(x[i] * "
                          "l0_fc1_w[i * 6 + j]));"));
  // 48 weights and 6 biases, each the exact value of its raw integer.
  const std::regex weights(R"(l0_fc1_w\[48\] = \{([^}]*)\})"), biases(R"(l0_fc1_b\[6\] = \{([^}]*)\})");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(w, m, weights)) << w;
  std::stringstream values(m[1].str());
  std::string v;
  std::vector<int64_t> raw;
  while (std::getline(values, v, ','))
    raw.push_back(quantize_fixed(std::stold(v), net.layers[0].weight));
  EXPECT_EQ(raw, net.layers[0].weights);
  EXPECT_TRUE(std::regex_search(w, m, biases));
  EXPECT_TRUE(contains(tb, "x[i].range(10 - 1, 0) = raw;"));
  std::filesystem::remove_all(dir);
}

TEST(FpgaHls, RejectsWeightsADoubleCannotHold) {
  std::mt19937_64 rng(8);
  FixedNetwork net;
  net.name = "wide";
  net.input = fx(8, 3);
  net.layers.push_back(dense_layer({.name = "fc", .n_in = 2, .n_out = 1, .input = net.input,
                                    .weight = fx(56, 8), .bias = fx(8, 3), .accum = fx(60, 10),
                                    .result = fx(8, 3)},
                                   rng));
  EXPECT_THROW(write_hls(net, (std::filesystem::temp_directory_path() / "tessera_fpga_hls_wide").string()),
               Error);
}

}  // namespace
}  // namespace tessera::sim
