#include "tessera/ir/graph.h"

#include "tessera/core/error.h"
#include "tessera/ir/op_table.h"

namespace tessera {

std::string TensorType::str() const { return dtype.name() + shape.str(); }

ValueId Graph::add_node(Node node) {
  ValueId id = static_cast<ValueId>(nodes_.size());
  for (ValueId in : node.inputs) {
    TS_CHECK(in >= 0 && in < id, ErrorKind::kInvalidArgument,
             "node '{}' ({}): input id {} does not name an earlier node", node.name,
             op_name(node.op), in);
  }
  nodes_.push_back(std::move(node));
  return id;
}

const Node& Graph::node(ValueId id) const {
  TS_CHECK(id >= 0 && id < size(), ErrorKind::kInvalidArgument,
           "value id {} is out of range (graph has {} nodes)", id, size());
  return nodes_[id];
}

Node& Graph::mutable_node(ValueId id) {
  TS_CHECK(id >= 0 && id < size(), ErrorKind::kInvalidArgument,
           "value id {} is out of range (graph has {} nodes)", id, size());
  return nodes_[id];
}

std::vector<ValueId> Graph::inputs() const {
  std::vector<ValueId> r;
  for (int i = 0; i < size(); ++i)
    if (nodes_[i].op == OpKind::kInput) r.push_back(i);
  return r;
}

std::vector<ValueId> Graph::parameters() const {
  std::vector<ValueId> r;
  for (int i = 0; i < size(); ++i)
    if (nodes_[i].op == OpKind::kParameter) r.push_back(i);
  return r;
}

ValueId Graph::find(const std::string& name) const {
  for (int i = 0; i < size(); ++i)
    if (nodes_[i].name == name) return i;
  return kNoValue;
}

std::string Graph::describe(ValueId id) const {
  if (id < 0 || id >= size()) return fmt::format("<invalid value {}>", id);
  return fmt::format("node '{}' ({})", nodes_[id].name, op_name(nodes_[id].op));
}

void Graph::validate() const {
  for (int i = 0; i < size(); ++i) {
    const Node& n = nodes_[i];
    const OpInfo& info = op_info(n.op);
    for (ValueId in : n.inputs) {
      TS_CHECK(in >= 0 && in < size(), ErrorKind::kInvalidArgument,
               "{}: input id {} is out of range", describe(i), in);
      TS_CHECK(in < i, ErrorKind::kInvalidArgument,
               "{}: input {} comes later in the graph: the graph has a cycle or is not in "
               "topological order",
               describe(i), describe(in));
    }
    int arity = static_cast<int>(n.inputs.size());
    TS_CHECK(arity >= info.min_inputs && (info.max_inputs < 0 || arity <= info.max_inputs),
             ErrorKind::kInvalidArgument, "{}: has {} inputs, expected {}{}", describe(i), arity,
             info.min_inputs,
             info.max_inputs == info.min_inputs ? std::string()
             : info.max_inputs < 0             ? std::string(" or more")
                                               : fmt::format(" to {}", info.max_inputs));
    TensorType t = info.infer(*this, n);
    TS_CHECK(t == n.type, ErrorKind::kInvalidArgument,
             "{}: recorded type {} differs from the inferred type {}", describe(i),
             n.type.str(), t.str());
  }
  auto check_ref = [&](ValueId v, const char* what) {
    TS_CHECK(v >= 0 && v < size(), ErrorKind::kInvalidArgument, "{} id {} is out of range",
             what, v);
  };
  for (ValueId o : outputs_) check_ref(o, "output");
  for (const Update& u : updates_) {
    check_ref(u.parameter, "update parameter");
    check_ref(u.value, "update value");
    TS_CHECK(nodes_[u.parameter].op == OpKind::kParameter, ErrorKind::kInvalidArgument,
             "update target {} is not a parameter", describe(u.parameter));
    TS_CHECK(nodes_[u.parameter].type == nodes_[u.value].type, ErrorKind::kInvalidArgument,
             "update of {} ({}) with {} ({}): types differ", describe(u.parameter),
             nodes_[u.parameter].type.str(), describe(u.value), nodes_[u.value].type.str());
  }
}

std::string Graph::str() const {
  std::string s;
  for (int i = 0; i < size(); ++i) {
    const Node& n = nodes_[i];
    s += fmt::format("%{} = {}(", i, op_name(n.op));
    for (size_t k = 0; k < n.inputs.size(); ++k) s += fmt::format("{}%{}", k ? ", " : "", n.inputs[k]);
    s += ")";
    if (!n.attrs.items().empty()) s += " {" + n.attrs.str() + "}";
    s += fmt::format(" : {}  # {}\n", n.type.str(), n.name);
  }
  for (ValueId o : outputs_) s += fmt::format("output %{}\n", o);
  for (const Update& u : updates_) s += fmt::format("update %{} <- %{}\n", u.parameter, u.value);
  return s;
}

std::vector<std::vector<ValueId>> compute_users(const Graph& g) {
  std::vector<std::vector<ValueId>> users(g.size());
  for (int i = 0; i < g.size(); ++i)
    for (ValueId in : g.node(i).inputs) users[in].push_back(i);
  return users;
}

}  // namespace tessera
