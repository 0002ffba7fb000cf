// Seeded weight initializers, named as in Keras.
//
//   Rng rng(42);
//   Tensor w = initialize("glorot_uniform", {784, 256}, rng);   // fan_in 784, fan_out 256
#pragma once

#include <string>
#include <vector>

#include "tessera/core/rng.h"
#include "tessera/core/tensor.h"

namespace tessera {

// Names: glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal,
// random_uniform (±0.05), random_normal (σ 0.05), zeros, ones. random_normal and
// random_uniform take Keras' arguments: "random_normal(stddev=0.02)", "random_normal(mean=0,
// stddev=1)", "random_uniform(minval=-0.1, maxval=0.1)". Fans follow Keras: for a
// shape [..., in, out] fan_in = in·receptive, fan_out = out·receptive. Throws Error naming
// the initializer when it is unknown (and listing the known ones).
Tensor initialize(const std::string& name, const Shape& shape, Rng& rng, DType dtype = kF32);
std::vector<std::string> initializer_names();
// Whether `name` is a known initializer, arguments included (checks without drawing).
bool is_initializer(const std::string& name);

}  // namespace tessera
