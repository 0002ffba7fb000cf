// The HTML report's structure: every section from a realistic document, a page that needs
// no network, escaping, no NaN in the charts, well-formed SVG, the edge cases of the schema
// (one target, no layers, nulls, non-finite numbers) and the errors of a bad document.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>

#include "report_test_util.h"
#include "tessera/core/error.h"
#include "tessera/report/html_report.h"

namespace tessera::report {
namespace {

using nlohmann::json;
using test::load_fixture;
using test::svg_fragments;
using test::xml_problem;

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Every chart well-formed, and every coordinate a finite number.
void expect_clean_svg(const std::string& html) {
  for (const std::string& svg : svg_fragments(html)) {
    EXPECT_EQ(xml_problem(svg), "") << svg.substr(0, 300);
  }
  static const std::regex coordinate(
      R"re(\s(x|y|x1|y1|x2|y2|cx|cy|r|width|height)="([^"]*)")re");
  for (const std::string& svg : svg_fragments(html)) {
    for (std::sregex_iterator it(svg.begin(), svg.end(), coordinate), end; it != end; ++it) {
      const std::string value = (*it)[2];
      char* stop = nullptr;
      const double v = std::strtod(value.c_str(), &stop);
      EXPECT_TRUE(!value.empty() && *stop == '\0' && std::isfinite(v))
          << (*it)[1] << "=\"" << value << "\"";
    }
    static const std::regex points(R"re(points="([^"]*)")re");
    for (std::sregex_iterator it(svg.begin(), svg.end(), points), end; it != end; ++it) {
      const std::string list = (*it)[1];
      EXPECT_EQ(list.find_first_not_of("0123456789.,- "), std::string::npos) << list;
    }
  }
  for (const char* bad : {"NaN", "nan\"", "\"nan", "inf\"", "\"inf", "\"-inf", "Infinity"}) {
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
  }
}

json minimal_report() {
  return {{"schema", "tessera.compare_report/1"},
          {"model", {{"name", "tiny"}}},
          {"targets", json::array()},
          {"exploration", nullptr},
          {"advice", nullptr}};
}

TEST(HtmlReport, FixtureHasEverySection) {
  const std::string html = render_html_report(load_fixture());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* id :
       {"id=\"comparison\"", "id=\"chart-latency\"", "id=\"chart-energy\"",
        "id=\"chart-throughput\"", "id=\"chart-roofline-0\"", "id=\"chart-roofline-4\"",
        "id=\"chart-layers\"", "id=\"chart-accuracy\"", "id=\"exploration\"",
        "id=\"chart-pareto-latency-energy\"", "id=\"chart-pareto-latency-accuracy\"",
        "id=\"chart-pareto-energy-area\"", "id=\"exploration-points\"", "id=\"advice\""}) {
    EXPECT_NE(html.find(id), std::string::npos) << id;
  }
  EXPECT_EQ(count(html, "<svg id="), 13u);  // 3 bars, 5 rooflines, layers, accuracy, 3 Pareto
  for (const char* badge : {"badge-measured", "badge-modelled", "badge-simulated"}) {
    EXPECT_NE(html.find(badge), std::string::npos) << badge;
  }
  // The header, table figures, FPGA resources and advice, formatted.
  for (const char* text : {"mnist-mlp", "fashion-mnist", "87.12 %", "31.0 \u00b5s", "910 nJ",
                           "LUT 182k (66 %)", "xczu9eg-ffvb1156-2-e", "1.9 mm\u00b2",
                           "modelled: no GPU present", "asic:edge-npu", "edge power cap",
                           "all constraints met", "array 256x256 needs 16 MiB"}) {
    EXPECT_NE(html.find(text), std::string::npos) << text;
  }
  // 32 exploration rows; the 14 Pareto ones marked.
  EXPECT_EQ(count(html, "<tr class=\"pareto\">"), 14u);
  expect_clean_svg(html);
}

TEST(HtmlReport, SelfContained) {
  const std::string html = render_html_report(load_fixture());
  for (const char* external : {"http:", "https:", "//cdn", "<link", "src=", "@import", "url("}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  EXPECT_EQ(count(html, "<script"), 1u);  // the table sorter, inline
  EXPECT_NE(html.find("<style>"), std::string::npos);
}

TEST(HtmlReport, EscapesEveryString) {
  json doc = load_fixture();
  doc["model"]["name"] = "<script>alert(1)</script>";
  doc["targets"][0]["target"] = "\"><img onerror=alert(2)>";
  doc["targets"][1]["notes"] = {"a & b < c"};
  doc["targets"][2]["error"] = "<b>boom</b>";
  doc["targets"][3]["layers"][0]["name"] = "<layer>";
  doc["exploration"]["points"][0]["config"]["array"] = "<x>";
  doc["advice"]["reasons"] = {"</li><script>bad()</script>"};
  const std::string html = render_html_report(doc);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<script>bad"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>boom"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("a &amp; b &lt; c"), std::string::npos);
  EXPECT_NE(html.find("error: &lt;b&gt;boom&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(count(html, "<script"), 1u);
  expect_clean_svg(html);
}

TEST(HtmlReport, NonFiniteAndNullFiguresNeverReachTheCharts) {
  json doc = load_fixture();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  doc["targets"][0]["latency_seconds"] = nan;
  doc["targets"][1]["energy_per_inference_joules"] = inf;
  doc["targets"][2]["throughput_per_second"] = -inf;
  doc["targets"][3]["peak_ops_per_second"] = nan;
  doc["targets"][4]["memory_bandwidth_bytes_per_second"] = inf;
  doc["targets"][0]["layers"][0]["seconds"] = nan;
  doc["targets"][1]["layers"][2]["macs"] = inf;
  doc["targets"][2]["accuracy"] = nan;
  doc["exploration"]["points"][0]["latency_seconds"] = inf;
  doc["exploration"]["points"][1]["area_mm2"] = nan;
  doc["targets"][3]["latency_seconds"] = nullptr;
  doc["targets"][4]["layers"] = nullptr;
  const std::string html = render_html_report(doc);
  expect_clean_svg(html);
  EXPECT_NE(html.find("not reported"), std::string::npos);
}

TEST(HtmlReport, OneTargetWithoutLayers) {
  json doc = minimal_report();
  doc["targets"].push_back({{"target", "cpu"}, {"kind", "cpu"}, {"method", "measured"},
                            {"latency_seconds", 2e-5}, {"layers", json::array()}});
  const std::string html = render_html_report(doc);
  EXPECT_NE(html.find("id=\"chart-latency\""), std::string::npos);
  EXPECT_NE(html.find("No target reports per-layer times."), std::string::npos);
  EXPECT_NE(html.find("no roofline"), std::string::npos);
  EXPECT_NE(html.find("No target reports an accuracy."), std::string::npos);
  EXPECT_EQ(html.find("id=\"exploration\""), std::string::npos);
  EXPECT_EQ(html.find("id=\"advice\""), std::string::npos);
  expect_clean_svg(html);
}

TEST(HtmlReport, NoTargetsAndOnlyRequiredFields) {
  json doc = {{"schema", "tessera.compare_report/1"},
              {"model", {{"name", "m"}}},
              {"targets", json::array()}};
  const std::string html = render_html_report(doc);
  EXPECT_NE(html.find("No targets were compared."), std::string::npos);
  EXPECT_EQ(count(html, "<svg"), 0u);
  expect_clean_svg(html);
}

TEST(HtmlReport, FailedTargetKeepsItsRow) {
  json doc = load_fixture();
  doc["targets"].push_back({{"target", "fpga:tiny"}, {"kind", "fpga"}, {"method", "simulated"},
                            {"error", "does not fit: 240 DSPs needed, 220 available"}});
  const std::string html = render_html_report(doc);
  EXPECT_NE(html.find("<tr class=\"failed\">"), std::string::npos);
  EXPECT_NE(html.find("error: does not fit: 240 DSPs needed, 220 available"), std::string::npos);
  EXPECT_NE(html.find("failed (see table)"), std::string::npos);
  EXPECT_NE(html.find("fpga:tiny: no roofline"), std::string::npos);
  expect_clean_svg(html);
}

TEST(HtmlReport, DegenerateRanges) {
  json doc = minimal_report();
  for (double v : {0.0, 0.0, 1e-300, 1e300, 5.0}) {
    doc["targets"].push_back({{"target", "t"}, {"latency_seconds", v},
                              {"energy_per_inference_joules", 3.0},
                              {"throughput_per_second", -4.0},
                              {"accuracy", 0.5},
                              {"peak_ops_per_second", v},
                              {"memory_bandwidth_bytes_per_second", 1e9},
                              {"layers", {{{"name", "a"}, {"seconds", v}, {"macs", 10},
                                           {"bytes", 0}}}}});
  }
  const std::string html = render_html_report(doc);
  expect_clean_svg(html);
}

TEST(HtmlReport, LogScaleOnlyWhenTheRangeIsWide) {
  json doc = minimal_report();
  doc["targets"] = {{{"target", "a"}, {"latency_seconds", 1e-6}},
                    {{"target", "b"}, {"latency_seconds", 1e-2}}};
  EXPECT_NE(render_html_report(doc).find("latency at batch 1 (log scale)"), std::string::npos);
  doc["targets"][1]["latency_seconds"] = 3e-6;
  const std::string linear = render_html_report(doc);
  EXPECT_EQ(linear.find("latency at batch 1 (log scale)"), std::string::npos);
  EXPECT_NE(linear.find("latency at batch 1 \u2014 shorter is better"), std::string::npos);
}

TEST(HtmlReport, ExplorationWithoutUsablePointsAndUnmetAdvice) {
  json doc = minimal_report();
  doc["exploration"] = {{"target", "fpga"},
                        {"sweep", {{"reuse", {1, 2}}}},
                        {"points", {{{"config", {{"reuse", 1}}}, {"error", "does not fit"}},
                                    {{"config", {{"reuse", 2}}}, {"latency_seconds", 1e-6}}}}};
  doc["advice"] = {
      {"scenario", "autonomous-driving"},
      {"met", false},
      {"constraints", {{{"metric", "latency_seconds"}, {"op", "<="}, {"value", 1e-7},
                        {"why", "hard budget"}}}},
      {"recommendation", nullptr},
      {"unmet",
       {{{"constraint", {{"metric", "latency_seconds"}, {"op", "<="}, {"value", 1e-7}}},
         {"closest", {{"target", "fpga:zcu102"}, {"config", {{"reuse", 1}}},
                      {"figures", {{"latency_seconds", 2.4e-6}}}}}}}}};
  const std::string html = render_html_report(doc);
  EXPECT_NE(html.find("No configuration reports both"), std::string::npos);
  EXPECT_NE(html.find("constraints not met"), std::string::npos);
  EXPECT_NE(html.find("latency_seconds &lt;= 100 ns (hard budget)"), std::string::npos);
  EXPECT_NE(html.find("closest: fpga:zcu102 with reuse=1"), std::string::npos);
  EXPECT_NE(html.find("2.40 \u00b5s"), std::string::npos);
  EXPECT_NE(html.find("No recommendation."), std::string::npos);
  expect_clean_svg(html);
}

// A bad document names the field at fault.
void expect_field_error(const json& doc, const std::string& field) {
  try {
    render_html_report(doc);
    ADD_FAILURE() << "no error for " << field;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("'" + field + "'"), std::string::npos) << e.what();
  }
}

TEST(HtmlReport, ValidationNamesTheField) {
  const json good = load_fixture();
  json doc = good;
  doc.erase("schema");
  expect_field_error(doc, "schema");
  doc = good;
  doc["schema"] = "tessera.compare_report/2";
  expect_field_error(doc, "schema");
  doc = good;
  doc["targets"] = "cpu";
  expect_field_error(doc, "targets");
  doc = good;
  doc["targets"][1]["latency_seconds"] = "fast";
  expect_field_error(doc, "targets[1].latency_seconds");
  doc = good;
  doc["targets"][2]["target"] = 3;
  expect_field_error(doc, "targets[2].target");
  doc = good;
  doc["model"].erase("name");
  expect_field_error(doc, "model.name");
  doc = good;
  doc["targets"][0]["layers"][1]["seconds"] = json::array();
  expect_field_error(doc, "targets[0].layers[1].seconds");
  doc = good;
  doc["exploration"]["points"][3] = 7;
  expect_field_error(doc, "exploration.points[3]");
  doc = good;
  doc["advice"]["constraints"][0].erase("metric");
  expect_field_error(doc, "advice.constraints[0].metric");
  doc = good;
  doc["batch"] = "256";
  expect_field_error(doc, "batch");
  EXPECT_THROW(render_html_report(json::array()), Error);
}

TEST(HtmlReport, RenderFileWritesThePage) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tessera-report-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string json_path = (dir / "report.json").string();
  const std::string html_path = (dir / "report.html").string();
  std::ofstream(json_path) << load_fixture().dump(1);
  render_html_report_file(json_path, html_path);
  std::ifstream in(html_path);
  std::stringstream page;
  page << in.rdbuf();
  EXPECT_EQ(page.str(), render_html_report(load_fixture()));

  try {
    render_html_report_file((dir / "missing.json").string(), html_path);
    ADD_FAILURE() << "no error for a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(e.what()).find("missing.json"), std::string::npos);
  }
  std::ofstream(json_path) << "{\"schema\": ";
  try {
    render_html_report_file(json_path, html_path);
    ADD_FAILURE() << "no error for bad JSON";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("report.json"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tessera::report
