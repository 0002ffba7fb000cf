// Shared by the Tessera sides of the peer benchmarks: wall-clock timing, medians and the
// process's peak memory, measured the way the PyTorch scripts measure them.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace tessera::peers {

using Clock = std::chrono::steady_clock;

// getrusage's max RSS in KiB (Linux), as Python's resource.getrusage reports it.
inline long max_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

inline double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace tessera::peers
