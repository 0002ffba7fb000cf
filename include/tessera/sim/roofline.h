// The roofline: where a piece of work sits between the machine's compute peak and its
// memory bandwidth (Williams, Waterman, Patterson, CACM 2009).
//
//   Roofline r = roofline(flops, dram_bytes, peak_flops, bandwidth);
//   if (r.bound == Bound::kMemory) ...
#pragma once

#include <algorithm>

#include "tessera/sim/report.h"

namespace tessera::sim {

struct Roofline {
  double intensity = 0;   // flops per byte
  double attainable = 0;  // flops/s: min(peak, intensity x bandwidth)
  double ridge = 0;       // the intensity where the two roofs meet
  Bound bound = Bound::kNone;
};

inline Roofline roofline(double flops, double bytes, double peak_flops, double bandwidth) {
  Roofline r;
  if (peak_flops <= 0 || bandwidth <= 0) return r;
  r.ridge = peak_flops / bandwidth;
  if (flops <= 0) return r;
  r.intensity = bytes > 0 ? flops / bytes : 1e30;
  r.attainable = std::min(peak_flops, r.intensity * bandwidth);
  r.bound = r.intensity < r.ridge ? Bound::kMemory : Bound::kCompute;
  return r;
}

// Fills the op's intensity, attainable flops and bound from its flops and DRAM traffic.
inline void place_on_roofline(OpReport& op, double dram_bytes, double peak_flops,
                              double bandwidth) {
  Roofline r = roofline(op.flops, dram_bytes, peak_flops, bandwidth);
  op.operational_intensity = r.intensity;
  op.attainable_flops = r.attainable;
  op.bound = r.bound;
}

}  // namespace tessera::sim
