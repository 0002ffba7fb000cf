// Import-time evaluation of shape computations (onnx_import.h): PyTorch writes
// `x.view(x.size(0), -1)` as Shape → Gather → Unsqueeze → Concat → Reshape, and the IR
// wants static shapes with a symbolic batch. Integer values are computed here exactly, an
// element may stand for k·N (N the batch size), and the Reshape translator turns the result
// into an IR shape. Values too large, or arithmetic N cannot take part in, are left to IR.
#include <algorithm>

#include "onnx_import.h"
#include "onnx_tensor.h"
#include "tessera/core/error.h"

namespace tessera::onnx_io {
namespace {

Known make_known(DType dtype, const Shape& shape) {
  Known k;
  k.dtype = dtype;
  k.shape = shape;
  size_t n = static_cast<size_t>(shape.numel());
  k.v.assign(n, 0);
  k.batch.assign(n, 0);
  return k;
}

int64_t checked_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s.dims()) {
    if (d < 0) return -1;
    if (d != 0 && n > kMaxKnownElements / d) return kMaxKnownElements + 1;
    n *= d;
  }
  return n;
}

// Row-major index of `idx` in `shape`, dims of size 1 broadcasting (numpy).
int64_t broadcast_index(const Shape& shape, const std::vector<int64_t>& idx) {
  int64_t flat = 0;
  const int off = static_cast<int>(idx.size()) - shape.rank();
  for (int d = 0; d < shape.rank(); ++d)
    flat = flat * shape[d] + (shape[d] == 1 ? 0 : idx[static_cast<size_t>(d + off)]);
  return flat;
}

void next_index(const Shape& shape, std::vector<int64_t>& idx) {
  for (int d = shape.rank() - 1; d >= 0; --d) {
    if (++idx[static_cast<size_t>(d)] < shape[d]) return;
    idx[static_cast<size_t>(d)] = 0;
  }
}

int normalize_axis(int64_t axis, int rank, const char* what) {
  if (axis < -rank || axis >= std::max(rank, 1))
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("{} {} is out of range for rank {}", what, axis, rank));
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

// Elementwise ops with numpy broadcasting; false when N would need a form k·N cannot hold.
bool fold_elementwise(const std::string& op, const std::vector<const Known*>& in, Known* out) {
  Shape s = in[0]->shape;
  for (size_t i = 1; i < in.size(); ++i) {
    Shape r;
    if (!broadcast_shapes(s, in[i]->shape, &r)) return false;
    s = r;
  }
  if (checked_numel(s) > kMaxKnownElements) return false;
  DType dtype = op == "Equal" ? kBool : (op == "Where" ? in[1]->dtype : in[0]->dtype);
  *out = make_known(dtype, s);
  std::vector<int64_t> idx(static_cast<size_t>(s.rank()), 0);
  for (int64_t e = 0; e < out->numel(); ++e, next_index(s, idx)) {
    std::vector<int64_t> a(in.size()), n(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      int64_t f = broadcast_index(in[i]->shape, idx);
      a[i] = in[i]->v[static_cast<size_t>(f)];
      n[i] = in[i]->batch[static_cast<size_t>(f)];
    }
    int64_t r = 0;
    bool rb = false;
    if (op == "Add" || op == "Sub") {
      int64_t sign = op == "Add" ? 1 : -1;
      if (n[0] == n[1]) {
        // k·N ± j·N with equal flags: both plain or both multiples of N.
        r = a[0] + sign * a[1];
        rb = n[0] && r != 0;
      } else if (n[0] && a[1] == 0) {
        r = a[0], rb = true;
      } else if (n[1] && a[0] == 0) {
        r = sign * a[1], rb = true;
      } else {
        return false;
      }
    } else if (op == "Mul") {
      if (n[0] && n[1]) return false;
      r = a[0] * a[1];
      rb = (n[0] || n[1]) && r != 0;
    } else if (op == "Div") {
      if (n[1] || a[1] == 0) return false;
      if (n[0] && a[0] % a[1] != 0) return false;
      r = a[0] / a[1];
      rb = n[0] != 0;
    } else if (op == "Equal") {
      if (n[0] != n[1]) return false;
      r = a[0] == a[1];
    } else {  // Where
      if (n[0]) return false;
      r = a[0] ? a[1] : a[2];
      rb = a[0] ? n[1] : n[2];
    }
    out->v[static_cast<size_t>(e)] = r;
    out->batch[static_cast<size_t>(e)] = rb;
  }
  return true;
}

// Picks elements of `in` by flat index into a new shape.
Known gather_flat(const Known& in, const Shape& shape, const std::vector<int64_t>& flat) {
  Known out = make_known(in.dtype, shape);
  for (size_t i = 0; i < flat.size(); ++i) {
    out.v[i] = in.v[static_cast<size_t>(flat[i])];
    out.batch[i] = in.batch[static_cast<size_t>(flat[i])];
  }
  return out;
}

Known reshaped(Known k, const Shape& s) {
  k.shape = s;
  return k;
}

}  // namespace

Known known_from_tensor(const Tensor& t) {
  Known k;
  k.dtype = t.dtype();
  k.shape = t.shape();
  if (t.dtype().is_float()) {
    k.tensor = t;
    return k;
  }
  Tensor c = t.contiguous();
  const size_t n = static_cast<size_t>(t.numel());
  k.v.resize(n);
  k.batch.assign(n, 0);
  for (size_t i = 0; i < n; ++i)
    k.v[i] = load_i64(static_cast<const char*>(c.raw_data()) + i * c.dtype().size(), c.dtype());
  return k;
}

Tensor known_to_tensor(const Known& k) {
  if (k.dtype.is_float()) return k.tensor;
  TS_CHECK(!k.symbolic(), ErrorKind::kUnsupported,
           "a shape value that depends on the batch size is used as data");
  Tensor t = Tensor::zeros(k.dtype, k.shape);
  for (size_t i = 0; i < k.v.size(); ++i)
    store_i64(k.v[i], static_cast<char*>(t.raw_data()) + i * k.dtype.size(), k.dtype);
  return t;
}

bool fold_known(Importer& im, const std::string& op) {
  const onnx::NodeProto& n = *im.node;
  if (!n.domain().empty() && n.domain() != "ai.onnx") return false;
  if (op == "Shape") {
    TensorType t = im.type(0);
    const int rank = t.shape.rank();
    int64_t start = im.attr_int("start", 0), end = im.attr_int("end", rank);
    auto clampd = [&](int64_t x) { return std::clamp<int64_t>(x < 0 ? x + rank : x, 0, rank); };
    start = clampd(start);
    end = std::max(clampd(end), start);
    Known k = make_known(kI64, Shape{end - start});
    for (int64_t d = start; d < end; ++d) {
      size_t i = static_cast<size_t>(d - start);
      bool dyn = t.shape[static_cast<int>(d)] == kDynamic;
      k.v[i] = dyn ? 1 : t.shape[static_cast<int>(d)];
      k.batch[i] = dyn;
    }
    im.set_known(std::move(k));
    return true;
  }
  if (op == "Constant") {
    const onnx::AttributeProto* a = n.attribute_size() == 1 ? &n.attribute(0) : nullptr;
    if (a == nullptr) im.invalid("a Constant needs exactly one attribute");
    Tensor t;
    if (a->name() == "value" && a->type() == onnx::AttributeProto::TENSOR) {
      t = tensor_from_proto(a->t(), "attribute 'value'");
    } else if (a->name() == "value_float" && a->type() == onnx::AttributeProto::FLOAT) {
      t = Tensor::scalar(a->f(), kF32);
    } else if (a->name() == "value_floats" && a->type() == onnx::AttributeProto::FLOATS) {
      if (a->floats_size() > kMaxKnownElements) im.unsupported("value_floats is too long");
      t = Tensor::from_vector(std::vector<float>(a->floats().begin(), a->floats().end()),
                              Shape{a->floats_size()}, kF32);
    } else if (a->name() == "value_int" && a->type() == onnx::AttributeProto::INT) {
      t = Tensor::scalar(0, kI64);
      t.data<int64_t>()[0] = a->i();
    } else if (a->name() == "value_ints" && a->type() == onnx::AttributeProto::INTS) {
      if (a->ints_size() > kMaxKnownElements) im.unsupported("value_ints is too long");
      t = Tensor::zeros(kI64, Shape{a->ints_size()});
      std::copy(a->ints().begin(), a->ints().end(), t.data<int64_t>());
    } else {
      im.unsupported(fmt::format("Constant attribute '{}' is not supported (value, value_float, "
                                 "value_floats, value_int, value_ints are)",
                                 a->name()));
    }
    if (!t.dtype().is_float() && t.numel() > kMaxKnownElements) {
      im.set_plain(im.b.constant(t));
    } else {
      im.set_known(known_from_tensor(t));
    }
    return true;
  }

  // Every other op folds only when all its present inputs are known integers.
  static const std::set<std::string> kFoldable = {
      "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Cast",    "Add",
      "Sub",    "Mul",       "Div",     "Equal",  "Where", "Identity", "Reshape"};
  if (!kFoldable.count(op) || n.input_size() == 0) return false;
  std::vector<const Known*> in;
  for (int i = 0; i < n.input_size(); ++i) {
    if (!im.has_input(i)) {
      in.push_back(nullptr);
      continue;
    }
    const Known* k = im.known(i);
    if (k == nullptr || !k->is_int()) return false;
    in.push_back(k);
  }
  if (in[0] == nullptr) return false;
  const Known& x = *in[0];
  const int rank = x.shape.rank();
  Known out;

  if (op == "Identity") {
    out = x;
  } else if (op == "Cast") {
    std::optional<DType> to = dtype_from_onnx(static_cast<int32_t>(im.attr_int("to", 0)));
    if (!to) return false;
    if (to->is_float()) {
      if (x.symbolic()) return false;
      out = known_from_tensor(known_to_tensor(x).to(*to));
    } else {
      out = x;
      out.dtype = *to;
      if (*to == kBool)
        for (size_t i = 0; i < out.v.size(); ++i) out.v[i] = out.v[i] != 0, out.batch[i] = 0;
    }
  } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Equal" ||
             op == "Where") {
    if (in.size() != (op == "Where" ? 3u : 2u)) im.invalid(fmt::format("{} inputs", in.size()));
    for (const Known* k : in)
      if (k == nullptr) return false;
    if (!fold_elementwise(op, in, &out)) return false;
  } else if (op == "Gather") {
    if (in.size() < 2 || in[1] == nullptr || in[1]->symbolic()) return false;
    int axis = normalize_axis(im.attr_int("axis", 0), rank, "Gather axis");
    if (rank == 0) im.invalid("Gather on a scalar");
    const Known& idx = *in[1];
    Shape s;
    for (int d = 0; d < axis; ++d) s.push_back(x.shape[d]);
    for (int64_t d : idx.shape.dims()) s.push_back(d);
    for (int d = axis + 1; d < rank; ++d) s.push_back(x.shape[d]);
    if (s.rank() > kMaxRank || checked_numel(s) > kMaxKnownElements) return false;
    int64_t outer = 1, inner = 1, dim = x.shape[axis];
    for (int d = 0; d < axis; ++d) outer *= x.shape[d];
    for (int d = axis + 1; d < rank; ++d) inner *= x.shape[d];
    std::vector<int64_t> flat;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j : idx.v) {
        int64_t k = j < 0 ? j + dim : j;
        if (k < 0 || k >= dim)
          im.invalid(fmt::format("Gather index {} is out of range for axis {} of size {}", j,
                                 axis, dim));
        for (int64_t i = 0; i < inner; ++i) flat.push_back((o * dim + k) * inner + i);
      }
    out = gather_flat(x, s, flat);
  } else if (op == "Unsqueeze" || op == "Squeeze") {
    std::vector<int64_t> axes;
    if (in.size() > 1 && in[1] != nullptr) {
      if (in[1]->symbolic()) return false;
      axes = in[1]->v;
    }
    Shape s;
    if (op == "Unsqueeze") {
      const int out_rank = rank + static_cast<int>(axes.size());
      if (out_rank > kMaxRank) return false;
      std::vector<bool> add(static_cast<size_t>(out_rank), false);
      for (int64_t a : axes) {
        int k = normalize_axis(a, out_rank, "Unsqueeze axis");
        if (add[static_cast<size_t>(k)]) im.invalid(fmt::format("Unsqueeze axis {} repeats", a));
        add[static_cast<size_t>(k)] = true;
      }
      for (int d = 0, j = 0; d < out_rank; ++d) s.push_back(add[static_cast<size_t>(d)] ? 1 : x.shape[j++]);
    } else {
      std::vector<bool> drop(static_cast<size_t>(rank), axes.empty());
      for (int64_t a : axes) drop[static_cast<size_t>(normalize_axis(a, rank, "Squeeze axis"))] = true;
      for (int d = 0; d < rank; ++d) {
        if (drop[static_cast<size_t>(d)] && x.shape[d] == 1) continue;
        if (drop[static_cast<size_t>(d)] && !axes.empty())
          im.invalid(fmt::format("Squeeze axis {} has size {}, not 1", d, x.shape[d]));
        s.push_back(x.shape[d]);
      }
    }
    out = reshaped(x, s);
  } else if (op == "Concat") {
    if (rank == 0) im.invalid("Concat of scalars");
    int axis = normalize_axis(im.attr_int("axis", 0), rank, "Concat axis");
    Shape s = x.shape;
    s[axis] = 0;
    for (const Known* k : in) {
      if (k == nullptr || k->shape.rank() != rank) return false;
      for (int d = 0; d < rank; ++d)
        if (d != axis && k->shape[d] != x.shape[d]) return false;
      s[axis] += k->shape[axis];
    }
    if (checked_numel(s) > kMaxKnownElements) return false;
    out = make_known(x.dtype, s);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= s[d];
    for (int d = axis + 1; d < rank; ++d) inner *= s[d];
    size_t e = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (const Known* k : in) {
        int64_t chunk = k->shape[axis] * inner;
        for (int64_t i = 0; i < chunk; ++i, ++e) {
          out.v[e] = k->v[static_cast<size_t>(o * chunk + i)];
          out.batch[e] = k->batch[static_cast<size_t>(o * chunk + i)];
        }
      }
  } else if (op == "Slice") {
    for (size_t i = 1; i < in.size(); ++i)
      if (in[i] != nullptr && in[i]->symbolic()) return false;
    if (in.size() < 3 || in[1] == nullptr || in[2] == nullptr) return false;
    const std::vector<int64_t>& starts = in[1]->v;
    const std::vector<int64_t>& ends = in[2]->v;
    std::vector<int64_t> axes, steps;
    if (in.size() > 3 && in[3] != nullptr) axes = in[3]->v;
    else for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    if (in.size() > 4 && in[4] != nullptr) steps = in[4]->v;
    else steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() ||
        steps.size() != starts.size())
      im.invalid("Slice starts, ends, axes and steps differ in length");
    std::vector<int64_t> lo(static_cast<size_t>(rank), 0), step(static_cast<size_t>(rank), 1);
    Shape s = x.shape;
    for (size_t i = 0; i < starts.size(); ++i) {
      int a = normalize_axis(axes[i], rank, "Slice axis");
      int64_t dim = x.shape[a], st = steps[i];
      if (st == 0) im.invalid("Slice step 0");
      int64_t b0 = starts[i], e0 = ends[i];
      if (b0 < 0) b0 += dim;
      if (e0 < 0) e0 += dim;
      if (st > 0) {
        b0 = std::clamp<int64_t>(b0, 0, dim);
        e0 = std::clamp<int64_t>(e0, 0, dim);
        s[a] = e0 > b0 ? (e0 - b0 + st - 1) / st : 0;
      } else {
        b0 = std::clamp<int64_t>(b0, -1, dim - 1);
        e0 = std::clamp<int64_t>(e0, -1, dim - 1);
        s[a] = b0 > e0 ? (b0 - e0 - st - 1) / -st : 0;
      }
      lo[static_cast<size_t>(a)] = b0;
      step[static_cast<size_t>(a)] = st;
    }
    std::vector<int64_t> flat;
    std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
    for (int64_t e = 0; e < s.numel(); ++e, next_index(s, idx)) {
      int64_t f = 0;
      for (int d = 0; d < rank; ++d)
        f = f * x.shape[d] + lo[static_cast<size_t>(d)] +
            idx[static_cast<size_t>(d)] * step[static_cast<size_t>(d)];
      flat.push_back(f);
    }
    out = gather_flat(x, s, flat);
  } else if (op == "Reshape") {
    if (in.size() < 2 || in[1] == nullptr || in[1]->symbolic()) return false;
    const std::vector<int64_t>& target = in[1]->v;
    if (target.size() > static_cast<size_t>(kMaxRank)) im.invalid("Reshape to rank > 8");
    Shape s;
    int infer = -1;
    int64_t known_product = 1;
    for (size_t i = 0; i < target.size(); ++i) {
      int64_t d = target[i];
      if (d == 0 && im.attr_int("allowzero", 0) == 0) {
        if (static_cast<int>(i) >= rank) im.invalid("Reshape copies a dimension the input lacks");
        d = x.shape[static_cast<int>(i)];
      }
      if (d == -1) {
        if (infer >= 0) im.invalid("Reshape has two -1 dimensions");
        infer = static_cast<int>(i);
        d = 1;
      } else if (d < 0) {
        im.invalid(fmt::format("Reshape dimension {} is negative", d));
      }
      if (d != 0 && known_product > kMaxKnownElements) return false;
      known_product *= d;
      s.push_back(d);
    }
    if (infer >= 0) {
      if (known_product == 0 || x.numel() % known_product != 0)
        im.invalid(fmt::format("Reshape of {} elements to {}", x.numel(), s.str()));
      s[infer] = x.numel() / known_product;
    }
    if (checked_numel(s) != x.numel())
      im.invalid(fmt::format("Reshape of {} to {}: element counts differ", x.shape.str(), s.str()));
    out = reshaped(x, s);
  } else {
    return false;
  }
  im.set_known(std::move(out));
  return true;
}

}  // namespace tessera::onnx_io
