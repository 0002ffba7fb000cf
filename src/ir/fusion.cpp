// Elementwise fusion. Chains of f32 elementwise nodes become one kFusedElementwise node
// whose program a backend evaluates tile by tile, so intermediates never reach memory: the
// fused node reads each input once and writes one output, which is what its cost says.
#include "tessera/ir/fusion.h"

#include <algorithm>
#include <map>
#include <set>

#include "op_rules.h"
#include "tessera/core/error.h"
#include "tessera/ir/builder.h"
#include "tessera/ir/op_table.h"

namespace tessera {

bool is_fusible(OpKind op) {
  // Every unary and binary elementwise op; the f32-only rule is checked per node.
  OpClass c = op_info(op).op_class;
  return c == OpClass::kUnary || c == OpClass::kBinary;
}

namespace {

bool is_binary(OpKind op) { return op_info(op).op_class == OpClass::kBinary; }

std::string where_(const Node& n) { return fmt::format("node '{}' ({})", n.name, op_name(n.op)); }

// A fused program that a backend can run without further checks: every instruction is a
// fusible op reading registers defined before it.
void check_program(const Node& n) {
  TS_CHECK(n.fused != nullptr, ErrorKind::kInvalidArgument, "{}: has no fused program", where_(n));
  const FusedProgram& p = *n.fused;
  TS_CHECK(p.num_inputs == static_cast<int>(n.inputs.size()), ErrorKind::kInvalidArgument,
           "{}: the program takes {} inputs, the node has {}", where_(n), p.num_inputs,
           n.inputs.size());
  TS_CHECK(!p.instrs.empty(), ErrorKind::kInvalidArgument, "{}: the program is empty", where_(n));
  for (size_t i = 0; i < p.instrs.size(); ++i) {
    const FusedInstr& ins = p.instrs[i];
    int defined = p.num_inputs + static_cast<int>(i);
    bool binary = is_binary(ins.op);
    TS_CHECK(is_fusible(ins.op), ErrorKind::kInvalidArgument,
             "{}: instruction {} ({}) is not a fusible op", where_(n), i, op_name(ins.op));
    TS_CHECK(
        ins.a >= 0 && ins.a < defined && (binary ? ins.b >= 0 && ins.b < defined : ins.b == -1),
        ErrorKind::kInvalidArgument, "{}: instruction {} ({}) reads r{}, r{} of {}", where_(n), i,
        op_name(ins.op), ins.a, ins.b, defined);
  }
}

double elements(const TensorType& t) { return static_cast<double>(t.shape.with_batch(1).numel()); }

}  // namespace

std::string FusedProgram::str() const {
  std::string s;
  for (size_t i = 0; i < instrs.size(); ++i) {
    const FusedInstr& ins = instrs[i];
    if (i) s += "; ";
    s += fmt::format("r{} = {}(r{}", num_inputs + static_cast<int>(i), op_name(ins.op), ins.a);
    if (is_binary(ins.op)) s += fmt::format(", r{}", ins.b);
    s += ")";
  }
  return s;
}

namespace detail {

TensorType infer_fused(const Graph& g, const Node& n) {
  check_program(n);
  Shape out = g.type(n.inputs[0]).shape;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const TensorType& t = g.type(n.inputs[i]);
    TS_CHECK(t.dtype == kF32, ErrorKind::kInvalidArgument,
             "{}: input {} has dtype {}, expected f32", where_(n), i, t.dtype.name());
    Shape next;
    TS_CHECK(broadcast_shapes(out, t.shape, &next), ErrorKind::kInvalidArgument,
             "{}: input {} of shape {} does not broadcast with {}", where_(n), i, t.shape.str(),
             out.str());
    out = next;
  }
  return {kF32, out};
}

OpCost cost_fused(const Graph& g, const Node& n) {
  OpCost c;
  double out_elems = elements(n.type);
  c.flops = static_cast<double>(n.fused ? n.fused->instrs.size() : 0) * out_elems;
  for (ValueId in : n.inputs) c.bytes_read += elements(g.type(in)) * 4.0;
  c.bytes_written = out_elems * 4.0;
  return c;
}

ValueId decompose_fused(GraphBuilder& b, const Node& n, std::span<const ValueId> inputs) {
  check_program(n);
  const FusedProgram& p = *n.fused;
  std::vector<ValueId> regs(inputs.begin(), inputs.end());
  for (const FusedInstr& ins : p.instrs) {
    if (is_binary(ins.op))
      regs.push_back(b.emit(ins.op, {regs[ins.a], regs[ins.b]}));
    else
      regs.push_back(b.emit(ins.op, {regs[ins.a]}));
  }
  // Inputs that no instruction reads still shape the output (they broadcast into it).
  ValueId r = regs.back();
  if (b.shape(r) != n.type.shape) r = b.broadcast(r, n.type.shape);
  return r;
}

}  // namespace detail

namespace {

bool fusible_node(const Graph& g, const Node& n) {
  if (!is_fusible(n.op) || n.type.dtype != kF32) return false;
  for (ValueId in : n.inputs)
    if (g.type(in).dtype != kF32) return false;
  return true;
}

}  // namespace

Graph fuse_elementwise(const Graph& g) {
  const int n = g.size();
  auto users = compute_users(g);
  std::vector<char> escapes(n, 0);  // read after the step: must be materialized
  for (ValueId o : g.outputs()) escapes.at(o) = 1;
  for (const Graph::Update& u : g.updates()) escapes.at(u.value) = 1;

  // Groups grow backwards from their root (the one member whose value leaves the group):
  // visiting nodes in reverse order, a node joins its users' group when all of them are in
  // one group and it has the root's shape, so broadcasting happens only at group inputs.
  // Non-root members have every user inside the group, so contracting a group cannot make
  // a cycle, and placing the fused node at the root keeps the order topological.
  std::vector<ValueId> group(n, kNoValue);  // the root of each fusible node's group
  // The values each group reads from outside (kept for roots): a group stops growing at
  // kMaxFusedInputs of them, which backends hold in fixed arrays.
  std::vector<std::set<ValueId>> group_inputs(n);
  for (ValueId i = n - 1; i >= 0; --i) {
    const Node& node = g.node(i);
    if (!fusible_node(g, node)) continue;
    group[i] = i;
    group_inputs[i] = std::set<ValueId>(node.inputs.begin(), node.inputs.end());
    if (escapes[i] || users[i].empty()) continue;
    ValueId root = group[users[i][0]];
    if (root == kNoValue) continue;
    bool all_in =
        std::all_of(users[i].begin(), users[i].end(), [&](ValueId u) { return group[u] == root; });
    if (!all_in || node.type.shape != g.type(root).shape) continue;
    std::set<ValueId> joined = group_inputs[root];
    joined.erase(i);
    joined.insert(node.inputs.begin(), node.inputs.end());
    if (static_cast<int>(joined.size()) > kMaxFusedInputs) continue;
    group[i] = root;
    group_inputs[root] = std::move(joined);
    group_inputs[i].clear();
  }
  std::vector<std::vector<ValueId>> members(n);
  for (ValueId i = 0; i < n; ++i)
    if (group[i] != kNoValue) members[group[i]].push_back(i);  // in topological order

  Graph out;
  std::vector<ValueId> remap(n, kNoValue);
  for (ValueId i = 0; i < n; ++i) {
    bool fused_root = group[i] == i && members[i].size() > 1;
    if (group[i] != kNoValue && group[i] != i) continue;  // emitted with its root
    if (!fused_root) {
      Node copy = g.node(i);
      for (ValueId& in : copy.inputs) in = remap[in];
      remap[i] = out.add_node(std::move(copy));
      continue;
    }
    // Inputs first (deduplicated, in first-use order), so instruction registers are known.
    std::vector<ValueId> inputs;     // ids in `out`
    std::map<ValueId, int32_t> reg;  // original value -> register
    for (ValueId m : members[i])
      for (ValueId in : g.node(m).inputs)
        if (group[in] != i && !reg.count(in)) {
          auto dup = std::find(inputs.begin(), inputs.end(), remap[in]);
          reg[in] = static_cast<int32_t>(dup - inputs.begin());
          if (dup == inputs.end()) inputs.push_back(remap[in]);
        }
    auto program = std::make_shared<FusedProgram>();
    program->num_inputs = static_cast<int>(inputs.size());
    for (ValueId m : members[i]) {
      const Node& mn = g.node(m);
      FusedInstr ins{mn.op, reg.at(mn.inputs[0]), -1};
      if (mn.inputs.size() > 1) ins.b = reg.at(mn.inputs[1]);
      reg[m] = program->num_registers();
      program->instrs.push_back(ins);
    }

    Node f;
    f.op = OpKind::kFusedElementwise;
    f.inputs = std::move(inputs);
    f.type = g.node(i).type;
    f.name = g.node(i).name;
    f.fused = std::move(program);
    TensorType t = detail::infer_fused(out, f);
    TS_CHECK(t == f.type, ErrorKind::kInternal,
             "fuse_elementwise: the group rooted at {} infers {}, expected {}", g.describe(i),
             t.str(), f.type.str());
    remap[i] = out.add_node(std::move(f));
  }
  for (ValueId o : g.outputs()) out.outputs().push_back(remap[o]);
  for (const Graph::Update& u : g.updates())
    out.updates().push_back({remap[u.parameter], remap[u.value]});
  return out;
}

}  // namespace tessera
