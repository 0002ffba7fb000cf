// The 7-D loop nest: names, footprints and the lowering of Workload ops.
#include "tessera/sim/asic/loop_nest.h"

#include <fmt/core.h>

#include <cctype>

#include "tessera/core/error.h"

namespace tessera::sim {
namespace {

constexpr const char* kDimNames[kNumDims] = {"R", "S", "P", "Q", "C", "K", "N"};
constexpr const char* kDataSpaceNames[kNumDataSpaces] = {"weights", "inputs", "outputs"};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

const char* dim_name(Dim d) { return kDimNames[dim_index(d)]; }

Dim parse_dim(std::string_view name, std::string_view where) {
  for (int i = 0; i < kNumDims; ++i)
    if (iequals(name, kDimNames[i])) return static_cast<Dim>(i);
  throw Error(ErrorKind::kInvalidArgument,
              fmt::format("{}: unknown dimension '{}' (expected one of R, S, P, Q, C, K, N)",
                          where, name));
}

const char* dataspace_name(DataSpace ds) { return kDataSpaceNames[static_cast<int>(ds)]; }

DataSpace parse_dataspace(std::string_view name, std::string_view where) {
  for (int i = 0; i < kNumDataSpaces; ++i)
    if (iequals(name, kDataSpaceNames[i])) return static_cast<DataSpace>(i);
  throw Error(ErrorKind::kInvalidArgument,
              fmt::format("{}: unknown dataspace '{}' (expected weights, inputs or outputs)",
                          where, name));
}

int64_t LoopNest::macs() const {
  int64_t m = 1;
  for (int64_t b : bounds) m *= b;
  return m;
}

int64_t LoopNest::footprint(DataSpace ds, const DimArray& t) const {
  auto at = [&](Dim d) { return t[dim_index(d)]; };
  switch (ds) {
    case DataSpace::kWeights:
      return at(Dim::kR) * at(Dim::kS) * at(Dim::kC) * at(Dim::kK);
    case DataSpace::kInputs: {
      int64_t rows = (at(Dim::kP) - 1) * stride_p + (at(Dim::kR) - 1) * dilation_r + 1;
      int64_t cols = (at(Dim::kQ) - 1) * stride_q + (at(Dim::kS) - 1) * dilation_s + 1;
      return at(Dim::kN) * at(Dim::kC) * rows * cols;
    }
    case DataSpace::kOutputs:
      return at(Dim::kN) * at(Dim::kK) * at(Dim::kP) * at(Dim::kQ);
  }
  return 0;
}

void LoopNest::validate() const {
  for (int i = 0; i < kNumDims; ++i)
    TS_CHECK(bounds[i] > 0, ErrorKind::kInvalidArgument,
             "problem '{}': dimension {} must be positive, got {}", name, kDimNames[i],
             bounds[i]);
  for (auto [v, field] : {std::pair{stride_p, "stride_p"}, std::pair{stride_q, "stride_q"},
                          std::pair{dilation_r, "dilation_r"},
                          std::pair{dilation_s, "dilation_s"}, std::pair{repeat, "repeat"}})
    TS_CHECK(v > 0, ErrorKind::kInvalidArgument, "problem '{}': '{}' must be positive, got {}",
             name, field, v);
}

std::string LoopNest::str() const {
  std::string s = name + ":";
  for (int i = 0; i < kNumDims; ++i) s += fmt::format(" {}{}", kDimNames[i], bounds[i]);
  if (stride_p != 1 || stride_q != 1) s += fmt::format(" (stride {}x{})", stride_p, stride_q);
  if (dilation_r != 1 || dilation_s != 1)
    s += fmt::format(" (dilation {}x{})", dilation_r, dilation_s);
  if (repeat != 1) s += fmt::format(" x{}", repeat);
  return s;
}

LoopNest loop_nest_from_gemm(const GemmShape& g, std::string name) {
  LoopNest n;
  n.name = std::move(name);
  n.bounds[dim_index(Dim::kN)] = g.m;
  n.bounds[dim_index(Dim::kC)] = g.k;
  n.bounds[dim_index(Dim::kK)] = g.n;
  n.repeat = g.batch;
  n.validate();
  return n;
}

LoopNest loop_nest_from_conv(const ConvShape& c, std::string name) {
  TS_CHECK(c.groups > 0 && c.c % c.groups == 0 && c.filters % c.groups == 0,
           ErrorKind::kInvalidArgument,
           "conv '{}': channels {} and filters {} must divide by groups {}", name, c.c,
           c.filters, c.groups);
  LoopNest n;
  n.name = std::move(name);
  n.bounds = {c.r, c.s, c.p, c.q, c.c / c.groups, c.filters / c.groups, c.n};
  n.stride_p = c.stride_h;
  n.stride_q = c.stride_w;
  n.dilation_r = c.dilation_h;
  n.dilation_s = c.dilation_w;
  n.repeat = c.groups;
  n.validate();
  return n;
}

LoopNest loop_nest_from(const WorkOp& op) {
  TS_CHECK(op.kind == WorkKind::kGemm, ErrorKind::kInvalidArgument,
           "op '{}': only matrix work (conv, matmul, attention) maps to an ASIC loop nest",
           op.name);
  if (op.is_conv) return loop_nest_from_conv(op.conv, op.name);
  return loop_nest_from_gemm(op.gemm, op.name);
}

}  // namespace tessera::sim
