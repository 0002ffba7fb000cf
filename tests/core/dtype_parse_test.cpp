// DType::parse: the inverse of name() for every type and mode, the Xilinx spellings, and
// a corpus of corrupt, truncated and hostile strings that must give Error, never a crash.
// The same corpus seeds the libFuzzer target tests/fuzz/dtype_parse_fuzz.cpp.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "tessera/core/dtype.h"
#include "tessera/core/error.h"

namespace tessera {
namespace {

TEST(DTypeParse, SimpleNames) {
  EXPECT_EQ(DType::parse("f32"), kF32);
  EXPECT_EQ(DType::parse("f16"), kF16);
  EXPECT_EQ(DType::parse("bf16"), kBF16);
  EXPECT_EQ(DType::parse("i8"), kI8);
  EXPECT_EQ(DType::parse("i32"), kI32);
  EXPECT_EQ(DType::parse("i64"), kI64);
  EXPECT_EQ(DType::parse("bool"), kBool);
  EXPECT_EQ(DType::parse("  \tbf16\n"), kBF16);
}

TEST(DTypeParse, RoundTripsEveryFormatAndMode) {
  int count = 0;
  for (bool is_signed : {true, false}) {
    for (int width : {1, 7, 8, 16, 33, 64}) {
      for (int int_bits : {-5, 0, 3, 64, 80}) {
        for (int q = 0; q < kRoundingCount; ++q) {
          for (int o = 0; o < kOverflowCount; ++o) {
            DType t = DType::fixed(width, int_bits, is_signed, static_cast<Rounding>(q),
                                   static_cast<Overflow>(o));
            std::string name = t.name();
            EXPECT_EQ(DType::parse(name), t) << name;
            EXPECT_EQ(DType::parse(name).name(), name);
            ++count;
          }
        }
      }
    }
  }
  EXPECT_EQ(count, 2 * 6 * 5 * kRoundingCount * kOverflowCount);
  for (DType t : {kF32, kF16, kBF16, kI8, kI32, kI64, kBool}) EXPECT_EQ(DType::parse(t.name()), t);
}

TEST(DTypeParse, ModeNames) {
  const char* rounding[] = {"trn", "trn_zero", "rnd", "rnd_zero", "rnd_inf", "rnd_min_inf",
                            "rnd_conv"};
  const char* overflow[] = {"wrap", "sat", "sat_zero", "sat_sym"};
  for (int q = 0; q < kRoundingCount; ++q) {
    for (int o = 0; o < kOverflowCount; ++o) {
      std::string text = std::string("fixed<8,3,") + rounding[q] + "," + overflow[o] + ">";
      DType t = DType::parse(text);
      const FixedFormat& f = t.fixed_format();
      EXPECT_EQ(f.rounding, static_cast<Rounding>(q)) << text;
      EXPECT_EQ(f.overflow, static_cast<Overflow>(o)) << text;
    }
  }
  // Rounding alone leaves the overflow at wrap.
  EXPECT_EQ(DType::parse("fixed<8,3,rnd>"), DType::fixed(8, 3, true, Rounding::kHalfUp));
}

TEST(DTypeParse, XilinxSpellings) {
  EXPECT_EQ(DType::parse("ap_fixed<16,6>"), DType::fixed(16, 6));
  EXPECT_EQ(DType::parse("ap_ufixed<8,3,AP_RND,AP_SAT>"),
            DType::fixed(8, 3, false, Rounding::kHalfUp, Overflow::kSaturate));
  EXPECT_EQ(DType::parse("ap_fixed<8,3,AP_RND_CONV,AP_SAT_SYM>"),
            DType::fixed(8, 3, true, Rounding::kHalfEven, Overflow::kSymmetricSaturate));
  EXPECT_EQ(DType::parse("ap_fixed<8,3,AP_TRN_ZERO,AP_SAT_ZERO,0>"),
            DType::fixed(8, 3, true, Rounding::kTruncateZero, Overflow::kSaturateZero));
  EXPECT_EQ(DType::parse(" ap_fixed < 18 , 8 , AP_RND_MIN_INF , AP_WRAP > "),
            DType::fixed(18, 8, true, Rounding::kHalfDown));
  EXPECT_EQ(DType::parse("ap_fixed<8,3,AP_RND_INF>"),
            DType::fixed(8, 3, true, Rounding::kHalfAway));
  EXPECT_EQ(DType::parse("fixed< 16 ,\t6 >"), DType::fixed(16, 6));
  EXPECT_EQ(DType::parse("fixed<16,+6>"), DType::fixed(16, 6));
  EXPECT_EQ(DType::parse("fixed<16,-6>"), DType::fixed(16, -6));
}

void expect_error(std::string_view text, std::string_view must_mention = {}) {
  try {
    DType t = DType::parse(text);
    ADD_FAILURE() << "parsed '" << text << "' as " << t.name();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    std::string msg = e.what();
    EXPECT_NE(msg.find("invalid dtype '"), std::string::npos) << msg;
    EXPECT_NE(msg.find("expected"), std::string::npos) << msg;
    if (!must_mention.empty()) {
      EXPECT_NE(msg.find(must_mention), std::string::npos) << msg;
    }
  }
}

TEST(DTypeParse, ErrorsQuoteTheTextAndSayWhatWasExpected) {
  expect_error("float32", "'float32'");
  expect_error("", "''");
  expect_error("fixed<0,0>", "width 0");
  expect_error("fixed<65,3>", "width 65");
  expect_error("ap_fixed<8,3,AP_RND,AP_SAT,2>", "saturation bits");
  expect_error("fixed<8,3,AP_RND,AP_SAT,0>", "at most 4");
  expect_error("fixed<8,3,round>", "rounding mode");
  expect_error("fixed<8,3,rnd,saturate>", "overflow mode");
  expect_error("fixed<8,99999999999>", "out of range");
  expect_error("fixed<8,3> junk", "after '>'");
  expect_error("f32 f32", "after 'f32'");
  expect_error(std::string("f32\0", 4), "\\x00");
}

// Nasty strings: truncations of valid names, stray characters, overflow, binary junk.
std::vector<std::string> nasty_corpus() {
  std::vector<std::string> corpus = {
      "<", ">", ",", "<>", "fixed", "fixed<", "fixed<>", "fixed<,>", "fixed<8", "fixed<8,",
      "fixed<8,3", "fixed<8,3,", "fixed<8,3,rnd,", "fixed<8,3,rnd,sat", "fixed<8,3,rnd,sat,",
      "fixed<<8,3>>", "fixed<8,,3>", "fixed<8;3>", "fixed<-8,3>", "fixed<8.5,3>", "fixed<8,3.5>",
      "fixed<0x10,3>", "fixed<8,3>>", "fixed <8,3> <", "ufixed<8>", "ap_fixed<8,3,,>",
      "ap_fixed<8,3,AP_RND,AP_SAT,>", "ap_fixed<8,3,AP_RND,AP_SAT,0,0>",
      "ap_fixed<8,3,AP_RND,AP_SAT,-0>x", "ap_fixed<2147483648,3>", "fixed<8,-2147483649>",
      "fixed<8,-2147483648>", "fixed<2147483647,2147483647>", "fixed<8,3,rnd_conv,sat_sym,0>",
      "FIXED<8,3>", "F32", "f 32", "f32>", "bool<1,2>", "i8<>", "fixed<8,3,trn_zero_,wrap>",
      "fixed<8,3,ap_rnd,ap_sat>", "ap_fixed<8,3,AP_SAT,AP_RND>", "-", "+", "fixed<+,->",
      "fixed<8,-", "\xff\xfe", "fixed<8,3\xff>", "fixed<\n8\n,\n3\n", "\x01\x02\x03",
      std::string(10000, '<'), "fixed<" + std::string(5000, '9') + ",3>",
      "fixed<8," + std::string(5000, '0') + "1>x", std::string("fix\0ed<8,3>", 11),
  };
  // Every proper prefix of a long valid name.
  std::string valid = "ap_ufixed<18,8,AP_RND_CONV,AP_SAT_SYM,0>";
  for (size_t n = 0; n < valid.size(); ++n) corpus.push_back(valid.substr(0, n));
  return corpus;
}

TEST(DTypeParse, NastyCorpusGivesErrorsNotCrashes) {
  for (const std::string& text : nasty_corpus()) expect_error(text);
}

TEST(DTypeParse, LeadingZerosAreNumbers) {
  // Not nasty: "0008" is 8. Kept apart from the corpus, which must all fail.
  EXPECT_EQ(DType::parse("fixed<0008,003>"), DType::fixed(8, 3));
}

}  // namespace
}  // namespace tessera
