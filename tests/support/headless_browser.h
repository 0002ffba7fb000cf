// Loading a page in headless Chromium for tests, over the DevTools protocol on a pipe
// (--remote-debugging-pipe): no display, no network port, no third-party client. The page's
// console errors, uncaught exceptions and error log entries are collected, an expression is
// evaluated in it, and a full-page screenshot is taken.
//
//   std::string chromium = find_chromium();          // "" when not installed: skip
//   PageRun run = run_page(chromium, "file:///tmp/report.html", {.width = 1400});
//   EXPECT_TRUE(run.errors.empty());
//   Image shot = decode_png(run.screenshot_png);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::test_support {

// The Chromium binary: $TESSERA_CHROMIUM, else chromium / chromium-browser / google-chrome on
// PATH; "" when there is none.
std::string find_chromium();

struct PageOptions {
  int width = 1400;             // CSS pixels; the screenshot covers the whole page height
  int height = 1000;            // viewport height while loading
  std::string expression;       // evaluated after load; its JSON value is returned
  double timeout_seconds = 30;  // for the whole run
};

struct PageRun {
  std::vector<std::string> errors;    // console.error/assert, exceptions, error log entries
  std::vector<std::string> messages;  // every console message and log entry, for diagnostics
  nlohmann::json value;               // the expression's value (null without one)
  std::vector<uint8_t> screenshot_png;
};

// Throws std::runtime_error when the browser cannot be started, a protocol command fails
// or the timeout passes. The browser is always stopped.
PageRun run_page(const std::string& chromium, const std::string& url, const PageOptions& options);

}  // namespace tessera::test_support
