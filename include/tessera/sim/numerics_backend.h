// The numerics backend: a Backend that runs exactly the matrix unit's nodes (f32 matmul and
// conv2d) in a target's numerics (numerics.h); the scheduler gives everything else to cpu,
// which computes it in f32 like a TPU's vector unit. Not registered: the functional mode
// hands an instance to the scheduler through ProgramOptions::custom.
//
// int8 needs a scale for every operand that is not a weight: the functional mode's
// calibration stores it on the node (kScaleAttrs); a node without one is not supported.
//
//   auto mxu = make_numerics_backend(parse_numerics("bf16", "--numerics"));
//   Program p = compile_program(graph, {.batch = 64, .custom = {mxu}});
#pragma once

#include <memory>
#include <string>

#include "tessera/backends/backend.h"
#include "tessera/sim/numerics.h"

namespace tessera::sim {

// Per-tensor int8 scales of a matrix-unit node's operands 0 and 1, set by calibration.
inline constexpr const char* kScaleAttrs[2] = {"numerics_scale_a", "numerics_scale_b"};

// Whether node `id` is the matrix unit's work: a matmul or conv2d with f32 operands and
// result. (Matmuls in other dtypes, e.g. a mixed-precision model's, stay on cpu.)
bool is_matrix_unit_node(const Graph& g, ValueId id);

// Whether operand `in` is a weight: a parameter or constant, known before the run, so
// int8 scales come from its values (per output channel when asked) rather than from
// calibration.
bool is_weight_operand(const Graph& g, ValueId in);

// Why the numerics backend cannot run matrix-unit node `id` ("" when it can): an int8
// operand without a calibrated scale, or a depth whose int32 sum could overflow.
std::string numerics_unsupported_reason(const Graph& g, ValueId id, const TargetNumerics& t);

// A backend named "numerics-bf16" or "numerics-int8". Throws Error(kInvalidArgument) for
// NumericsMode::kF32, which needs no backend of its own.
std::shared_ptr<Backend> make_numerics_backend(const TargetNumerics& numerics);

}  // namespace tessera::sim
