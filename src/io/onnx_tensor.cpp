// ONNX TensorProto <-> Tensor (onnx_tensor.h). Every size read from the file is checked
// before anything is allocated from it.
#include "onnx_tensor.h"

#include <bit>
#include <cstring>

#include "tessera/core/error.h"

namespace tessera::onnx_io {

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data is little-endian; add byte swapping");

using onnx::TensorProto;

std::optional<DType> dtype_from_onnx(int32_t t) {
  switch (t) {
    case TensorProto::FLOAT:
    case TensorProto::DOUBLE:
      return kF32;
    case TensorProto::FLOAT16:
      return kF16;
    case TensorProto::BFLOAT16:
      return kBF16;
    case TensorProto::INT8:
      return kI8;
    case TensorProto::INT32:
      return kI32;
    case TensorProto::INT64:
      return kI64;
    case TensorProto::BOOL:
      return kBool;
    default:
      return std::nullopt;
  }
}

int32_t onnx_elem_type(DType t) {
  switch (t.id()) {
    case DTypeId::kF32: return TensorProto::FLOAT;
    case DTypeId::kF16: return TensorProto::FLOAT16;
    case DTypeId::kBF16: return TensorProto::BFLOAT16;
    case DTypeId::kI8: return TensorProto::INT8;
    case DTypeId::kI32: return TensorProto::INT32;
    case DTypeId::kI64: return TensorProto::INT64;
    case DTypeId::kBool: return TensorProto::BOOL;
    case DTypeId::kFixed: break;
  }
  throw_error(ErrorKind::kUnsupported,
              fmt::format("dtype {} has no ONNX element type", t.name()));
}

std::string onnx_type_name(int32_t t) {
  if (TensorProto::DataType_IsValid(t))
    return TensorProto::DataType_Name(static_cast<TensorProto::DataType>(t));
  return fmt::format("element type {}", t);
}

Tensor tensor_from_proto(const TensorProto& p, const std::string& where) {
  TS_CHECK(p.data_location() != TensorProto::EXTERNAL && p.external_data_size() == 0,
           ErrorKind::kUnsupported,
           "{}: tensor '{}' keeps its data in an external file; only self-contained models "
           "are supported (save the model with its data inside the .onnx file)",
           where, p.name());
  TS_CHECK(p.segment().begin() == 0 && p.segment().end() == 0, ErrorKind::kUnsupported,
           "{}: tensor '{}' is segmented, which is not supported", where, p.name());
  std::optional<DType> dtype = dtype_from_onnx(p.data_type());
  TS_CHECK(dtype.has_value(), ErrorKind::kUnsupported,
           "{}: tensor '{}' has element type {}; supported: FLOAT, DOUBLE, FLOAT16, BFLOAT16, "
           "INT8, INT32, INT64, BOOL",
           where, p.name(), onnx_type_name(p.data_type()));
  TS_CHECK(p.dims_size() <= kMaxRank, ErrorKind::kUnsupported,
           "{}: tensor '{}' has rank {}, at most {} is supported", where, p.name(), p.dims_size(),
           kMaxRank);
  Shape shape;
  int64_t numel = 1;
  for (int64_t d : p.dims()) {
    TS_CHECK(d >= 0 && d <= kMaxTensorElements, ErrorKind::kInvalidArgument,
             "{}: tensor '{}' has an invalid dimension {}", where, p.name(), d);
    TS_CHECK(d == 0 || numel <= kMaxTensorElements / d, ErrorKind::kInvalidArgument,
             "{}: tensor '{}' is too large ({} elements at most)", where, p.name(),
             kMaxTensorElements);
    numel *= d;
    shape.push_back(d);
  }
  const bool is_double = p.data_type() == TensorProto::DOUBLE;
  const size_t file_elem = is_double ? 8 : dtype->size();
  const size_t n = static_cast<size_t>(numel);
  auto count_error = [&](size_t got, const char* field) {
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("{}: tensor '{}' {} has {} {}, its shape {} needs {}", where,
                            p.name(), field, got, p.has_raw_data() ? "bytes" : "values",
                            shape.str(), p.has_raw_data() ? n * file_elem : n));
  };
  if (p.has_raw_data()) {
    if (p.raw_data().size() != n * file_elem) count_error(p.raw_data().size(), "raw_data");
  }
  Tensor t = Tensor::zeros(*dtype, shape);
  if (n == 0) return t;
  if (p.has_raw_data()) {
    const char* src = p.raw_data().data();
    if (is_double) {
      float* dst = t.data<float>();
      for (size_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, src + i * 8, 8);
        dst[i] = static_cast<float>(v);
      }
    } else {
      std::memcpy(t.raw_data(), src, n * file_elem);
      if (*dtype == kBool)  // any non-zero byte is true
        for (size_t i = 0; i < n; ++i) t.data<uint8_t>()[i] = t.data<uint8_t>()[i] != 0;
    }
    return t;
  }
  switch (p.data_type()) {
    case TensorProto::FLOAT:
      if (static_cast<size_t>(p.float_data_size()) != n) count_error(p.float_data_size(), "float_data");
      std::memcpy(t.raw_data(), p.float_data().data(), n * 4);
      break;
    case TensorProto::DOUBLE:
      if (static_cast<size_t>(p.double_data_size()) != n) count_error(p.double_data_size(), "double_data");
      for (size_t i = 0; i < n; ++i) t.data<float>()[i] = static_cast<float>(p.double_data(int(i)));
      break;
    case TensorProto::INT64:
      if (static_cast<size_t>(p.int64_data_size()) != n) count_error(p.int64_data_size(), "int64_data");
      std::memcpy(t.raw_data(), p.int64_data().data(), n * 8);
      break;
    default:  // INT32, INT8, BOOL, FLOAT16, BFLOAT16 live in int32_data
      if (static_cast<size_t>(p.int32_data_size()) != n) count_error(p.int32_data_size(), "int32_data");
      for (size_t i = 0; i < n; ++i) {
        int32_t v = p.int32_data(static_cast<int>(i));
        switch (dtype->id()) {
          case DTypeId::kI32: t.data<int32_t>()[i] = v; break;
          case DTypeId::kI8: t.data<int8_t>()[i] = static_cast<int8_t>(v); break;
          case DTypeId::kBool: t.data<uint8_t>()[i] = v != 0; break;
          default: t.data<uint16_t>()[i] = static_cast<uint16_t>(v); break;  // half bits
        }
      }
  }
  return t;
}

void tensor_to_proto(const Tensor& t, const std::string& name, TensorProto* p) {
  p->set_name(name);
  p->set_data_type(onnx_elem_type(t.dtype()));
  for (int64_t d : t.shape().dims()) p->add_dims(d);
  Tensor c = t.contiguous();
  p->set_raw_data(std::string(static_cast<const char*>(c.raw_data()), c.nbytes()));
}

}  // namespace tessera::onnx_io
