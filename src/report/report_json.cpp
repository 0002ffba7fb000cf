#include "report_json.h"

#include <cmath>
#include <initializer_list>

#include "tessera/core/error.h"
#include "text.h"

namespace tessera::report {

using nlohmann::json;

namespace {

enum class Type { kString, kNumber, kBool, kObject, kArray };

std::string_view type_word(Type type) {
  switch (type) {
    case Type::kString: return "a string";
    case Type::kNumber: return "a number";
    case Type::kBool: return "a boolean";
    case Type::kObject: return "an object";
    case Type::kArray: return "an array";
  }
  return "?";
}

bool has_type(const json& value, Type type) {
  switch (type) {
    case Type::kString: return value.is_string();
    case Type::kNumber: return value.is_number();
    case Type::kBool: return value.is_boolean();
    case Type::kObject: return value.is_object();
    case Type::kArray: return value.is_array();
  }
  return false;
}

[[noreturn]] void type_error(const std::string& path, Type type, const json& got, bool nullable) {
  throw_error(ErrorKind::kInvalidArgument,
              fmt::format("report: field '{}' must be {}{}, got {}", path, type_word(type),
                          nullable ? " or null" : "", got.type_name()));
}

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// A required field: present, not null, of `type`.
const json& require(const json& object, const std::string& path, std::string_view key, Type type) {
  const std::string where = join(path, key);
  auto it = object.find(key);
  TS_CHECK(it != object.end(), ErrorKind::kInvalidArgument,
           "report: required field '{}' is missing (expected {})", where, type_word(type));
  if (!has_type(*it, type)) type_error(where, type, *it, false);
  return *it;
}

// An optional field: absent, null, or of `type`. Returns it when it is of `type`.
const json* optional(const json& object, const std::string& path, std::string_view key, Type type) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  if (!has_type(*it, type)) type_error(join(path, key), type, *it, true);
  return &*it;
}

void optional_all(const json& object, const std::string& path,
                  std::initializer_list<std::string_view> keys, Type type) {
  for (std::string_view key : keys) optional(object, path, key, type);
}

std::string index_path(const std::string& path, size_t i) { return fmt::format("{}[{}]", path, i); }

// Every element of an optional array field must be of `type`; returns the array.
const json* optional_array_of(const json& object, const std::string& path, std::string_view key,
                              Type type) {
  const json* array = optional(object, path, key, Type::kArray);
  if (array == nullptr) return nullptr;
  const std::string where = join(path, key);
  for (size_t i = 0; i < array->size(); ++i) {
    if (!has_type((*array)[i], type)) type_error(index_path(where, i), type, (*array)[i], false);
  }
  return array;
}

void validate_model(const json& report) {
  const json& model = require(report, "", "model", Type::kObject);
  require(model, "model", "name", Type::kString);
  optional_all(model, "model", {"dataset"}, Type::kString);
  optional_all(model, "model", {"parameters"}, Type::kNumber);
  optional_array_of(model, "model", "input_shape", Type::kNumber);
  if (const json* training = optional(model, "model", "training", Type::kObject)) {
    optional_all(*training, "model.training", {"device"}, Type::kString);
    optional_all(*training, "model.training",
                 {"epochs", "batch_size", "seconds", "final_loss", "test_accuracy"}, Type::kNumber);
  }
}

void validate_target(const json& target, const std::string& path) {
  require(target, path, "target", Type::kString);
  optional_all(target, path, {"kind", "method", "device", "numerics", "bound", "error"},
               Type::kString);
  optional_all(target, path,
               {"accuracy", "latency_seconds", "throughput_per_second",
                "energy_per_inference_joules", "power_watts", "area_mm2", "utilization",
                "peak_ops_per_second", "memory_bandwidth_bytes_per_second"},
               Type::kNumber);
  optional(target, path, "fpga_resources", Type::kObject);
  optional_array_of(target, path, "notes", Type::kString);
  if (const json* layers = optional_array_of(target, path, "layers", Type::kObject)) {
    for (size_t i = 0; i < layers->size(); ++i) {
      const std::string where = index_path(join(path, "layers"), i);
      optional_all((*layers)[i], where, {"name", "bound"}, Type::kString);
      optional_all((*layers)[i], where, {"seconds", "macs", "bytes", "energy_joules"},
                   Type::kNumber);
    }
  }
  if (const json* by_precision =
          optional_array_of(target, path, "accuracy_by_precision", Type::kObject)) {
    for (size_t i = 0; i < by_precision->size(); ++i) {
      const std::string where = index_path(join(path, "accuracy_by_precision"), i);
      require((*by_precision)[i], where, "numerics", Type::kString);
      optional((*by_precision)[i], where, "accuracy", Type::kNumber);
    }
  }
}

void validate_exploration(const json& exploration) {
  const std::string path = "exploration";
  optional_all(exploration, path, {"target", "base"}, Type::kString);
  optional(exploration, path, "sweep", Type::kObject);
  optional_array_of(exploration, path, "objectives", Type::kString);
  const json& points = require(exploration, path, "points", Type::kArray);
  for (size_t i = 0; i < points.size(); ++i) {
    const std::string where = index_path(path + ".points", i);
    if (!points[i].is_object()) type_error(where, Type::kObject, points[i], false);
    optional(points[i], where, "config", Type::kObject);
    optional_all(points[i], where, {"hash", "error"}, Type::kString);
    optional_all(points[i], where, {"pareto", "cached"}, Type::kBool);
    optional_all(points[i], where,
                 {"latency_seconds", "energy_per_inference_joules", "accuracy", "area_mm2",
                  "throughput_per_second", "power_watts"},
                 Type::kNumber);
  }
}

void validate_advice(const json& advice) {
  const std::string path = "advice";
  optional_all(advice, path, {"scenario", "objective"}, Type::kString);
  optional(advice, path, "met", Type::kBool);
  optional(advice, path, "recommendation", Type::kObject);
  optional_array_of(advice, path, "reasons", Type::kString);
  optional_array_of(advice, path, "unmet", Type::kObject);
  if (const json* constraints = optional_array_of(advice, path, "constraints", Type::kObject)) {
    for (size_t i = 0; i < constraints->size(); ++i) {
      const std::string where = index_path(path + ".constraints", i);
      require((*constraints)[i], where, "metric", Type::kString);
      optional_all((*constraints)[i], where, {"op", "why"}, Type::kString);
      optional((*constraints)[i], where, "value", Type::kNumber);
    }
  }
}

}  // namespace

void validate_report(const json& report) {
  TS_CHECK(report.is_object(), ErrorKind::kInvalidArgument,
           "report: expected a JSON object with \"schema\": \"{}\", got {}", kReportSchema,
           report.type_name());
  auto schema = report.find("schema");
  TS_CHECK(schema != report.end() && schema->is_string() &&
               schema->get_ref<const std::string&>() == kReportSchema,
           ErrorKind::kInvalidArgument, "report: field 'schema' must be \"{}\", got {}",
           kReportSchema,
           schema == report.end() ? std::string("nothing")
                                  : schema->dump(-1, ' ', false, json::error_handler_t::replace));
  optional(report, "", "created", Type::kString);
  optional(report, "", "batch", Type::kNumber);
  validate_model(report);
  const json& targets = require(report, "", "targets", Type::kArray);
  for (size_t i = 0; i < targets.size(); ++i) {
    const std::string where = index_path("targets", i);
    if (!targets[i].is_object()) type_error(where, Type::kObject, targets[i], false);
    validate_target(targets[i], where);
  }
  if (const json* exploration = optional(report, "", "exploration", Type::kObject)) {
    validate_exploration(*exploration);
  }
  if (const json* advice = optional(report, "", "advice", Type::kObject)) validate_advice(*advice);
}

std::optional<double> number_at(const json& object, std::string_view key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  const double value = it->get<double>();
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

std::string string_at(const json& object, std::string_view key, std::string_view fallback) {
  if (object.is_object()) {
    auto it = object.find(key);
    if (it != object.end() && it->is_string()) return it->get<std::string>();
  }
  return std::string(fallback);
}

const json* array_at(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it != object.end() && it->is_array() ? &*it : nullptr;
}

const json* object_at(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? &*it : nullptr;
}

std::string value_text(const json& value) {
  if (value.is_null()) return std::string(kMissing);
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_number_integer() || value.is_number_unsigned()) return value.dump();
  if (value.is_number()) {
    const double v = value.get<double>();
    if (!std::isfinite(v)) return std::string(kMissing);
    return fmt::format("{:.4g}", v);
  }
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace tessera::report
