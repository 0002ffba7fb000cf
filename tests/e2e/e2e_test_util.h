// Shared by the end-to-end tests: Fashion-MNIST when it is installed (tests skip without it).
#pragma once

#include <optional>
#include <string>

#include "tessera/core/error.h"
#include "tessera/data/loaders.h"

namespace tessera::e2e {

// The split ("train" or "test"), or nothing when the dataset is not installed.
inline std::optional<Dataset> fashion_mnist_if_installed(const std::string& split) {
  try {
    return load_fashion_mnist(split);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kNotFound) return std::nullopt;
    throw;
  }
}

}  // namespace tessera::e2e
