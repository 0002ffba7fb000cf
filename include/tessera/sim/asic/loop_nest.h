// The ASIC simulator's view of one layer: the 7-D convolution loop nest of Timeloop's
// `cnn-layer` problem (R, S, P, Q, C, K, N with strides and dilation), its three dataspaces
// (weights, inputs, outputs) and the size of each dataspace's tile for given tile bounds —
// the sliding-window halo of the inputs included. Every conv and GEMM of a Workload becomes
// one of these; a GEMM is the special case R = S = P = Q = 1.
//
//   LoopNest nest = loop_nest_from(op);                 // a WorkOp of kind kGemm
//   DimArray tile = nest.bounds; tile[dim_index(Dim::kP)] = 4;
//   int64_t words = nest.footprint(DataSpace::kInputs, tile);
//   int64_t macs = nest.macs();
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "tessera/sim/workload.h"

namespace tessera::sim {

// Timeloop's dimension order. R/P are the first spatial pair (Timeloop's "width", stride
// Wstride) and S/Q the second (Timeloop's "height", Hstride); a Tessera conv maps its filter
// height and output height to R/P and its widths to S/Q — the names differ, the arithmetic
// is symmetric.
enum class Dim : uint8_t { kR, kS, kP, kQ, kC, kK, kN };
inline constexpr int kNumDims = 7;
constexpr int dim_index(Dim d) { return static_cast<int>(d); }
const char* dim_name(Dim d);  // "R", "S", "P", "Q", "C", "K", "N"
// Parses one of the names above (case-insensitive); Error naming `where` otherwise.
Dim parse_dim(std::string_view name, std::string_view where);

enum class DataSpace : uint8_t { kWeights, kInputs, kOutputs };
inline constexpr int kNumDataSpaces = 3;
const char* dataspace_name(DataSpace ds);  // "weights", "inputs", "outputs"
DataSpace parse_dataspace(std::string_view name, std::string_view where);

using DimArray = std::array<int64_t, kNumDims>;
inline constexpr DimArray kUnitDims = {1, 1, 1, 1, 1, 1, 1};

// Whether iterating `d` touches different elements of `ds` (Timeloop's projection):
// weights R S C K, inputs N C and the (P,R) / (Q,S) window pairs, outputs N K P Q.
constexpr bool is_relevant(DataSpace ds, Dim d) {
  switch (ds) {
    case DataSpace::kWeights:
      return d == Dim::kR || d == Dim::kS || d == Dim::kC || d == Dim::kK;
    case DataSpace::kInputs:
      return d != Dim::kK;
    case DataSpace::kOutputs:
      return d == Dim::kP || d == Dim::kQ || d == Dim::kK || d == Dim::kN;
  }
  return false;
}

struct LoopNest {
  std::string name;
  DimArray bounds = kUnitDims;
  int64_t stride_p = 1, stride_q = 1;      // output step in the inputs (Wstride, Hstride)
  int64_t dilation_r = 1, dilation_s = 1;  // filter tap step in the inputs
  // Identical, independent copies of this nest run one after another: conv groups and the
  // batch of a batched GEMM (each with its own weights). Totals multiply by it.
  int64_t repeat = 1;

  int64_t bound(Dim d) const { return bounds[dim_index(d)]; }
  int64_t macs() const;  // of one copy: the product of the bounds
  int64_t total_macs() const { return macs() * repeat; }

  // Words of `ds` touched by a tile with these bounds. Inputs span
  // (p - 1) * stride_p + (r - 1) * dilation_r + 1 rows (likewise Q/S): Timeloop's projection,
  // which ignores padding.
  int64_t footprint(DataSpace ds, const DimArray& tile) const;
  int64_t size(DataSpace ds) const { return footprint(ds, bounds); }

  // Error naming the nest and the field when a bound, stride or dilation is not positive.
  void validate() const;
  std::string str() const;  // "conv1: R3 S3 P28 Q28 C1 K32 N1 (stride 1x1)"
};

// A GEMM (batch x m x k x n) as Timeloop writes a fully-connected layer: N = m (the rows:
// samples, or samples x pixels for an im2col'd conv), C = k (the reduction), K = n (output
// features), R = S = P = Q = 1, repeat = batch.
LoopNest loop_nest_from_gemm(const GemmShape& g, std::string name = "gemm");
// A convolution: R/S = filter height/width, P/Q = output height/width, C = channels per
// group, K = filters per group, N = batch, repeat = groups.
LoopNest loop_nest_from_conv(const ConvShape& c, std::string name = "conv");
// A kGemm WorkOp: its conv geometry when it has one, else its GEMM. Error(kInvalidArgument)
// for other kinds.
LoopNest loop_nest_from(const WorkOp& op);

}  // namespace tessera::sim
