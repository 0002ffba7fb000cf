#include "tessera/ir/attrs.h"

#include <fmt/ranges.h>

#include "tessera/core/error.h"

namespace tessera {

Attrs& Attrs::set(const std::string& name, AttrValue value) {
  for (auto& [k, v] : items_) {
    if (k == name) {
      v = std::move(value);
      return *this;
    }
  }
  items_.emplace_back(name, std::move(value));
  return *this;
}

const AttrValue* Attrs::find(const std::string& name) const {
  for (const auto& [k, v] : items_)
    if (k == name) return &v;
  return nullptr;
}

bool Attrs::has(const std::string& name) const { return find(name) != nullptr; }

namespace {
template <typename T>
const T& get_typed(const AttrValue* v, const std::string& name, const char* expected) {
  TS_CHECK(v != nullptr, ErrorKind::kInvalidArgument, "missing attribute '{}'", name);
  const T* p = std::get_if<T>(v);
  TS_CHECK(p != nullptr, ErrorKind::kInvalidArgument, "attribute '{}' is not {}", name,
           expected);
  return *p;
}
}  // namespace

int64_t Attrs::get_int(const std::string& name) const {
  return get_typed<int64_t>(find(name), name, "an integer");
}
int64_t Attrs::get_int_or(const std::string& name, int64_t fallback) const {
  return has(name) ? get_int(name) : fallback;
}
double Attrs::get_float(const std::string& name) const {
  const AttrValue* v = find(name);
  if (v && std::holds_alternative<int64_t>(*v)) return static_cast<double>(std::get<int64_t>(*v));
  return get_typed<double>(v, name, "a number");
}
double Attrs::get_float_or(const std::string& name, double fallback) const {
  return has(name) ? get_float(name) : fallback;
}
const std::vector<int64_t>& Attrs::get_ints(const std::string& name) const {
  return get_typed<std::vector<int64_t>>(find(name), name, "a list of integers");
}
const std::string& Attrs::get_string(const std::string& name) const {
  return get_typed<std::string>(find(name), name, "a string");
}
DType Attrs::get_dtype(const std::string& name) const {
  return get_typed<DType>(find(name), name, "a dtype");
}

std::string Attrs::str() const {
  std::string s;
  for (const auto& [k, v] : items_) {
    if (!s.empty()) s += ", ";
    s += k + "=";
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, int64_t>) s += std::to_string(x);
          else if constexpr (std::is_same_v<T, double>) s += fmt::format("{:g}", x);
          else if constexpr (std::is_same_v<T, std::string>) s += "\"" + x + "\"";
          else if constexpr (std::is_same_v<T, DType>) s += x.name();
          else s += fmt::format("[{}]", fmt::join(x, ", "));
        },
        v);
  }
  return s;
}

}  // namespace tessera
