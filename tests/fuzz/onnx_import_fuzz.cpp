// libFuzzer target for the ONNX importer: any byte string must import or fail with a
// tessera::Error, never crash, hang or allocate without bound. An imported model also runs
// one prediction on a batch of 2, so the translated graph is exercised end to end.
#include <cstdint>
#include <string_view>

#include "tessera/core/error.h"
#include "tessera/io/onnx.h"
#include "tessera/ir/graph.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    tessera::Model m = tessera::import_onnx_bytes(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.onnx");
    // Runs only graphs whose every value is small: the importer bounds shapes far above what
    // the fuzzer's memory limit allows, and legitimately so.
    for (const tessera::Node& n : m.predict_graph().nodes()) {
      int64_t numel = 1;
      for (int64_t d : n.type.shape.dims()) {
        numel *= d == tessera::kDynamic ? 2 : d;
        if (numel > (int64_t{1} << 18)) return 0;
      }
    }
    tessera::TensorType t = m.net().input_types()[0];
    m.predict(tessera::Tensor::zeros(t.dtype, t.shape.with_batch(2)), 2);
  } catch (const tessera::Error&) {
  }
  return 0;
}
