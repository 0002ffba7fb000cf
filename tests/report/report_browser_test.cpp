// The fixture report in a real browser: headless Chromium loads it from a file:// URL with
// no console errors, the table sorter runs, and a full-page screenshot shows every chart
// drawn (pixels inside each chart's box: enough ink, several colours). Skips without
// Chromium (Debian package `chromium`, scripts/install-deps.sh).
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "../support/headless_browser.h"
#include "../support/png_decode.h"
#include "report_test_util.h"
#include "tessera/report/html_report.h"

namespace tessera::report {
namespace {

using nlohmann::json;
using test_support::decode_png;
using test_support::find_chromium;
using test_support::Image;
using test_support::PageOptions;
using test_support::run_page;

// Click every sortable column head twice (both directions), then report each chart's box
// in page coordinates.
constexpr const char* kProbe = R"js((function () {
  var heads = document.querySelectorAll('table.sortable th');
  for (var i = 0; i < heads.length; i++) { heads[i].click(); heads[i].click(); }
  var charts = Array.prototype.map.call(document.querySelectorAll('svg.chart'), function (e) {
    var r = e.getBoundingClientRect();
    return {id: e.id, x: r.left + window.scrollX, y: r.top + window.scrollY,
            w: r.width, h: r.height};
  });
  return {charts: charts, headings: document.querySelectorAll('h2').length};
})())js";

struct Ink {
  double fraction;   // of the box's pixels that are not the white background
  size_t colours;    // distinct colours, 4 bits a channel
};

Ink ink_in(const Image& shot, const json& box) {
  const int x0 = std::max(0, static_cast<int>(box["x"].get<double>()));
  const int y0 = std::max(0, static_cast<int>(box["y"].get<double>()));
  const int x1 = std::min(shot.width, static_cast<int>(box["x"].get<double>() + box["w"].get<double>()));
  const int y1 = std::min(shot.height, static_cast<int>(box["y"].get<double>() + box["h"].get<double>()));
  size_t inked = 0, total = 0;
  std::set<int> colours;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      const auto [r, g, b] = shot.rgb(x, y);
      ++total;
      if (r < 235 || g < 235 || b < 235) ++inked;
      colours.insert((r >> 4) << 8 | (g >> 4) << 4 | (b >> 4));
    }
  }
  return {total == 0 ? 0.0 : static_cast<double>(inked) / total, colours.size()};
}

TEST(ReportBrowser, FixtureLoadsWithoutErrorsAndDrawsEveryChart) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) {
    GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh installs it)";
  }
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tessera-report-browser-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto page = dir / "report.html";
  std::ofstream(page) << render_html_report(test::load_fixture());

  const auto start = std::chrono::steady_clock::now();
  PageOptions options;
  options.width = 1400;
  options.expression = kProbe;
  options.timeout_seconds = 40;
  const auto run = run_page(chromium, "file://" + page.string(), options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::filesystem::remove_all(dir);

  std::string messages;
  for (const std::string& m : run.messages) messages += m + "\n";
  EXPECT_TRUE(run.errors.empty()) << run.errors.size() << " console error(s):\n"
                                  << run.errors.front() << "\nall messages:\n" << messages;
  ASSERT_TRUE(run.value.is_object()) << run.value.dump();
  EXPECT_GE(run.value["headings"].get<int>(), 7);
  const json& charts = run.value["charts"];
  ASSERT_EQ(charts.size(), 13u) << charts.dump();

  const Image shot = decode_png(run.screenshot_png);
  ASSERT_GE(shot.width, 1000);
  for (const json& box : charts) {
    const std::string id = box["id"];
    SCOPED_TRACE(id + " at " + box.dump());
    ASSERT_GT(box["w"].get<double>(), 200);
    ASSERT_GT(box["h"].get<double>(), 100);
    ASSERT_LE(box["y"].get<double>() + box["h"].get<double>(), shot.height + 1.0);
    const Ink ink = ink_in(shot, box);
    // Axes, gridlines, labels and marks: a blank or failed chart has ~0 ink and 1 colour.
    EXPECT_GT(ink.fraction, 0.03) << id;
    EXPECT_GE(ink.colours, 6u) << id;
  }
  std::cout << "[ browser  ] " << charts.size() << " charts checked in a " << shot.width << "x"
            << shot.height << " screenshot, " << seconds << " s\n";
}

}  // namespace
}  // namespace tessera::report
