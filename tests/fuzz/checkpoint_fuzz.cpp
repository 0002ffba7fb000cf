// libFuzzer target for the checkpoint reader: any byte string must load or fail with a
// tessera::Error, never crash, hang or allocate without bound.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "tessera/core/error.h"
#include "tessera/train/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/tessera-checkpoint-fuzz-" + std::to_string(getpid());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    tessera::Model m = tessera::load_model(path);
  } catch (const tessera::Error&) {
  }
  return 0;
}
