// Internal to io: ONNX element types and TensorProtos to and from Tessera dtypes and tensors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "onnx/onnx_pb.h"
#include "tessera/core/tensor.h"

namespace tessera::onnx_io {

// A tensor read from a file may not hold more elements than this.
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 31;

// FLOAT, FLOAT16, BFLOAT16, INT8, INT32, INT64, BOOL; DOUBLE reads as f32 (nullopt: other).
std::optional<DType> dtype_from_onnx(int32_t elem_type);
// The ONNX element type of a dtype; throws kUnsupported for fixed point.
int32_t onnx_elem_type(DType t);
std::string onnx_type_name(int32_t elem_type);

// The tensor's data, checked: dims non-negative and not too large, data present in exactly
// the amount the dims need, no external data. `where` prefixes error messages.
Tensor tensor_from_proto(const onnx::TensorProto& p, const std::string& where);
void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto* p);

}  // namespace tessera::onnx_io
