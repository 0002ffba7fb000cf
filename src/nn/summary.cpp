// Functional::summary(): the table Keras 2 prints (keras.utils.layer_utils.print_summary),
// with trailing spaces trimmed. Sequential-like models get Layer (type) | Output Shape |
// Param # at 45% / 85% / 100% of the line; other graphs add their Input rows and a
// Connected to column (33% / 55% / 67% / 100%).
#include <unordered_map>

#include "nn_internal.h"
#include "tessera/core/error.h"
#include "tessera/nn/functional.h"

namespace tessera {
namespace {

// 1234567 -> "1,234,567"
std::string thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// As Keras' print_row: each field is cut at its column end and padded to it; a field that
// fills its column keeps one space before the next.
std::string row(const std::vector<std::string>& fields, const std::vector<int>& positions) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0 && !line.empty()) line.back() = ' ';
    line += fields[i];
    if (static_cast<int>(line.size()) > positions[i]) line.resize(positions[i]);
    line.append(positions[i] - line.size(), ' ');
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line + "\n";
}

}  // namespace

std::string Functional::summary(int line_length) const {
  // Sequential-like: one input, one output, a chain of single-input layers each called once.
  bool sequential = inputs_.size() == 1 && outputs_.size() == 1;
  for (size_t k = 0; sequential && k < calls_.size(); ++k) {
    const SymbolicCall* prev = k == 0 ? inputs_[0].call().get() : calls_[k - 1].get();
    sequential = calls_[k]->inputs.size() == 1 && calls_[k]->inputs[0].call().get() == prev;
  }
  sequential = sequential && calls_.size() == layers_.size() &&
               outputs_[0].call() == (calls_.empty() ? inputs_[0].call() : calls_.back());

  std::vector<double> fractions = sequential ? std::vector<double>{.45, .85, 1.0}
                                             : std::vector<double>{.33, .55, .67, 1.0};
  std::vector<int> pos;
  for (double f : fractions) pos.push_back(static_cast<int>(line_length * f));
  const std::string underscores = std::string(line_length, '_') + "\n";
  const std::string equals = std::string(line_length, '=') + "\n";

  // "name[node][0]" references, as Keras names a layer's n-th call's output.
  std::unordered_map<const SymbolicCall*, std::string> ref;
  for (size_t i = 0; i < inputs_.size(); ++i)
    ref[inputs_[i].call().get()] = input_names_[i] + "[0][0]";
  std::unordered_map<const Layer*, int> node_count;
  std::unordered_map<const Layer*, std::vector<const SymbolicCall*>> calls_of;
  for (const auto& c : calls_) {
    int node = node_count[c->layer.get()]++;
    ref[c.get()] = fmt::format("{}[{}][0]", c->layer->name(), node);
    calls_of[c->layer.get()].push_back(c.get());
  }

  struct Entry {
    std::vector<std::string> fields;
    std::vector<std::string> more_connections;
  };
  std::vector<Entry> entries;
  if (!sequential)
    for (size_t i = 0; i < inputs_.size(); ++i)
      entries.push_back({{input_names_[i] + " (InputLayer)",
                          shape_tuple(input_types_[i].shape), "0", ""},
                         {}});
  for (const LayerPtr& l : layers_) {
    const auto& calls = calls_of[l.get()];
    std::string shape = shape_tuple(calls[0]->type.shape);
    for (const SymbolicCall* c : calls)
      if (c->type != calls[0]->type) shape = "multiple";
    Entry e{{l->name() + " (" + l->class_name() + ")", shape, std::to_string(l->count_params())},
            {}};
    if (!sequential) {
      std::vector<std::string> conns;
      for (const SymbolicCall* c : calls)
        for (const SymbolicTensor& x : c->inputs) conns.push_back(ref.at(x.call().get()));
      e.fields.push_back(conns.empty() ? "" : conns[0]);
      e.more_connections.assign(conns.begin() + (conns.empty() ? 0 : 1), conns.end());
    }
    entries.push_back(std::move(e));
  }

  std::string s = fmt::format("Model: \"{}\"\n", name_);
  s += underscores;
  std::vector<std::string> header = {"Layer (type)", "Output Shape", "Param #"};
  if (!sequential) header.push_back("Connected to");
  s += row(header, pos);
  s += equals;
  for (size_t i = 0; i < entries.size(); ++i) {
    s += row(entries[i].fields, pos);
    for (const std::string& c : entries[i].more_connections) s += row({"", "", "", c}, pos);
    s += i + 1 == entries.size() ? equals : underscores;
  }
  if (entries.empty()) s += equals;
  int64_t total = count_params(), trainable = count_trainable_params();
  s += fmt::format("Total params: {}\n", thousands(total));
  s += fmt::format("Trainable params: {}\n", thousands(trainable));
  s += fmt::format("Non-trainable params: {}\n", thousands(total - trainable));
  s += underscores;
  return s;
}

}  // namespace tessera
