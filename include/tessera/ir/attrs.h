// Typed node attributes: a small ordered map from name to int, float, int list, string or
// dtype. Getters throw an Error naming the attribute when it is missing or mistyped.
//
//   Attrs a;
//   a.set("axes", std::vector<int64_t>{1}).set("keepdims", int64_t{0});
//   auto axes = a.get_ints("axes");
//   bool keep = a.get_int_or("keepdims", 0) != 0;
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "tessera/core/dtype.h"

namespace tessera {

using AttrValue = std::variant<int64_t, double, std::vector<int64_t>, std::string, DType>;

class Attrs {
 public:
  Attrs& set(const std::string& name, AttrValue value);
  bool has(const std::string& name) const;

  int64_t get_int(const std::string& name) const;
  int64_t get_int_or(const std::string& name, int64_t fallback) const;
  double get_float(const std::string& name) const;
  double get_float_or(const std::string& name, double fallback) const;
  const std::vector<int64_t>& get_ints(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;
  DType get_dtype(const std::string& name) const;

  const std::vector<std::pair<std::string, AttrValue>>& items() const { return items_; }
  std::string str() const;  // "axes=[1], keepdims=0"
  bool operator==(const Attrs&) const = default;

 private:
  const AttrValue* find(const std::string& name) const;
  std::vector<std::pair<std::string, AttrValue>> items_;
};

}  // namespace tessera
