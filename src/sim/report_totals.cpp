// SimReport::finalize and the small name tables every report shares.
#include <algorithm>

#include "tessera/sim/report.h"
#include "tessera/sim/roofline.h"

namespace tessera::sim {

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::kForward: return "forward";
    case Phase::kLoss: return "loss";
    case Phase::kBackward: return "backward";
    case Phase::kUpdate: return "update";
  }
  return "?";
}

const char* bound_name(Bound b) {
  switch (b) {
    case Bound::kCompute: return "compute";
    case Bound::kMemory: return "memory";
    case Bound::kNone: return "-";
  }
  return "?";
}

void add_traffic(std::vector<MemoryTraffic>& into, const std::vector<MemoryTraffic>& from) {
  for (const MemoryTraffic& t : from) {
    auto it = std::find_if(into.begin(), into.end(),
                           [&](const MemoryTraffic& x) { return x.level == t.level; });
    if (it == into.end()) {
      into.push_back(t);
    } else {
      it->read_bytes += t.read_bytes;
      it->write_bytes += t.write_bytes;
    }
  }
}

void SimReport::finalize() {
  cycles = stall_cycles = seconds = macs = flops = energy_j = 0;
  traffic.clear();
  for (const OpReport& op : ops) {
    cycles += op.cycles;
    stall_cycles += op.stall_cycles;
    seconds += op.seconds;
    macs += op.macs;
    flops += op.flops;
    energy_j += op.energy_j;
    add_traffic(traffic, op.traffic);
  }
  // Utilization of the matrix units over the whole run: MACs done over MACs possible.
  double peak_macs_per_cycle = clock_hz > 0 ? peak_flops / 2.0 / clock_hz : 0.0;
  utilization = cycles > 0 && peak_macs_per_cycle > 0 ? macs / (cycles * peak_macs_per_cycle)
                                                      : 0.0;
  double dram = 0;
  for (const MemoryTraffic& t : traffic)
    if (t.level == "dram") dram += t.read_bytes + t.write_bytes;
  Roofline r = roofline(flops, dram, peak_flops, dram_bandwidth);
  operational_intensity = r.intensity;
  attainable_flops = r.attainable;
  bound = r.bound;
}

}  // namespace tessera::sim
