// CSV datasets: quoting, line endings, label columns, and errors that point at file:line:col.
#include <gtest/gtest.h>

#include "data_test_util.h"
#include "tessera/data/loaders.h"

namespace tessera {
namespace {

using testing::expect_error;
using testing::TempDir;
using testing::write_bytes;

class Csv : public ::testing::Test {
 protected:
  std::string put(const std::string& text) {
    std::string path = dir_.file("d" + std::to_string(count_++) + ".csv");
    write_bytes(path, text);
    return path;
  }
  TempDir dir_;
  int count_ = 0;
};

TEST_F(Csv, HeaderAndLastColumnLabel) {
  Dataset d = read_csv_dataset(put("a,b,label\n1,2.5,0\n-3,4e2,2\n"));
  EXPECT_EQ(d.x.shape(), Shape({2, 2}));
  EXPECT_EQ(d.x.dtype(), kF32);
  EXPECT_EQ(d.x.to_f32_vector(), (std::vector<float>{1, 2.5f, -3, 400}));
  EXPECT_EQ(d.y.dtype(), kI32);
  EXPECT_EQ(d.y.to_f32_vector(), (std::vector<float>{0, 2}));
}

TEST_F(Csv, LabelByNameOrIndexQuotedFieldsAndCrlf) {
  std::string text =
      "\xEF\xBB\xBF\"sepal length\",species,\"width, in cm\"\r\n"
      " 5.1 ,1,\"3.5\"\r\n"
      "\r\n"
      "+4.9,0,3.0\r\n";
  Dataset by_name = read_csv_dataset(put(text), {.label_column = "species"});
  EXPECT_EQ(by_name.x.to_f32_vector(), (std::vector<float>{5.1f, 3.5f, 4.9f, 3.0f}));
  EXPECT_EQ(by_name.y.to_f32_vector(), (std::vector<float>{1, 0}));
  Dataset by_index = read_csv_dataset(put(text), {.label_column = "1"});
  EXPECT_EQ(by_index.y.to_f32_vector(), (std::vector<float>{1, 0}));
  Dataset first =
      read_csv_dataset(put(text), {.label_column = "sepal length", .integer_labels = false});
  EXPECT_EQ(first.y.dtype(), kF32);
  EXPECT_EQ(first.y.to_f32_vector(), (std::vector<float>{5.1f, 4.9f}));
}

TEST_F(Csv, NoHeaderOtherDelimiterAndMultilineQuotes) {
  Dataset d = read_csv_dataset(put("1;2;3\n4;5;6"), {.header = false, .delimiter = ';'});
  EXPECT_EQ(d.x.to_f32_vector(), (std::vector<float>{1, 2, 4, 5}));
  EXPECT_EQ(d.y.to_f32_vector(), (std::vector<float>{3, 6}));
  Dataset t = read_csv_dataset(put("x\ty\n0.5\t1\n"), {.delimiter = '\t'});
  EXPECT_EQ(t.y.to_f32_vector(), (std::vector<float>{1}));
  // A quoted header name may span lines, and "" is a quote; line numbers keep counting.
  std::string path = put("\"multi\nline \"\"name\"\"\",y\n1,2\n1,x\n");
  Dataset ok = read_csv_dataset(put("\"multi\nline \"\"name\"\"\",y\n1,2\n"),
                                {.label_column = "multi\nline \"name\""});
  EXPECT_EQ(ok.y.to_f32_vector(), (std::vector<float>{1}));
  expect_error([&] { read_csv_dataset(path); }, path + ":4:3: label 'x'");
}

TEST_F(Csv, ErrorsNameFileLineColumnAndText) {
  std::string p = put("a,b,c\n1,2,3\n4,oops,5\n");
  expect_error([&] { read_csv_dataset(p); }, p + ":3:3: cannot parse 'oops' in column 'b'");
  p = put("a,b\n1,2.5\n");
  expect_error([&] { read_csv_dataset(p); }, p + ":2:3: label '2.5' in column 'b' is not an "
                                                 "integer");
  p = put("a,b\n1,2\n3\n");
  expect_error([&] { read_csv_dataset(p); }, p + ":3:1: expected 2 fields as in the header");
  p = put("a,b\n1,2,3\n");
  expect_error([&] { read_csv_dataset(p); }, "found 3");
  p = put("a,b\n1,\n");
  expect_error([&] { read_csv_dataset(p); }, p + ":2:3: empty field in column 'b'");
  p = put("a,b\n\"1,2\n");
  expect_error([&] { read_csv_dataset(p); }, p + ":2:1: unterminated quoted field");
  p = put("a,b\n\"1\"x,2\n");
  expect_error([&] { read_csv_dataset(p); }, p + ":2:4: unexpected 'x' after a closing quote");
  p = put("a,b\n1,99999999999\n");
  expect_error([&] { read_csv_dataset(p); }, "out of range");
  p = put("a,b\n1e99,1\n");
  expect_error([&] { read_csv_dataset(p); }, "out of f32 range");
  p = put("a,b\n+-1,1\n");
  expect_error([&] { read_csv_dataset(p); }, "'+-1'");
  p = put("a,b\n1\x01,1\n");
  expect_error([&] { read_csv_dataset(p); }, "'1\\x01'");
  p = put("a,b\n1,2\n");
  expect_error([&] { read_csv_dataset(p, {.label_column = "c"}); },
               "no label column 'c' (2 columns: a, b)");
  expect_error([&] { read_csv_dataset(p, {.label_column = "2"}); }, "no label column '2'");
  expect_error([&] { read_csv_dataset(p, {.delimiter = '"'}); }, "delimiter");
  expect_error([&] { read_csv_dataset(put("")); }, "is empty");
  expect_error([&] { read_csv_dataset(put("a,b\n")); }, "has no data rows");
  expect_error([&] { read_csv_dataset(put("\n\n")); }, "has no header");
  expect_error([&] { read_csv_dataset(put("a\n1\n")); }, "has 1 column");
  expect_error([&] { read_csv_dataset(dir_.file("nope.csv")); }, "does not exist");
}

}  // namespace
}  // namespace tessera
