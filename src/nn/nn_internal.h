// Internal to the nn module: hashing for seeds, shape helpers and the one-line formats the
// layers, losses and summaries share.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tessera/core/shape.h"

namespace tessera {

uint64_t mix64(uint64_t z);  // splitmix64 finalizer
uint64_t hash_string(std::string_view s, uint64_t h = 0xcbf29ce484222325ull);

// "(None, 64)": a shape as Keras prints it, kDynamic as None.
std::string shape_tuple(const Shape& s);
// The shape without its first (batch) dim, and the reverse.
Shape per_sample(const Shape& s);
Shape with_batch_dim(int64_t batch, const Shape& per_sample_shape);

// `name`, or `fallback` when it is empty: a layer's default name ("dense").
std::string default_name(std::string name, const char* fallback);
// Throw Error (invalid argument) prefixed by `where` (a layer's describe()) that lists the
// known names, for an unknown activation or initializer.
void check_activation(const std::string& activation, const std::string& where);
void check_initializer(const std::string& initializer, const std::string& where);

class Layer;
// The embedding, attention and normalization layers from their class name and config()
// (sequence_layers_json.cpp); nullptr for another class. Their names, for error messages.
std::shared_ptr<Layer> sequence_layer_from_config(const std::string& class_name,
                                                  const nlohmann::json& config);
std::string sequence_layer_names();

}  // namespace tessera
