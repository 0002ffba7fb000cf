// libFuzzer target for the YAML model-spec parser: any text must parse or fail with a
// tessera::Error naming the line, never crash.
#include <cstdint>
#include <string>

#include "tessera/cli/model_spec.h"
#include "tessera/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    tessera::cli::ModelSpec spec = tessera::cli::parse_model_spec(text, "fuzz.yaml");
  } catch (const tessera::Error&) {
  }
  return 0;
}
