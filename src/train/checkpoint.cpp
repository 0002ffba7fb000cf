// The native checkpoint format (docs/checkpoint-format.md): a fixed 32-byte prelude, a JSON
// header, then 64-byte-aligned raw little-endian tensors, each with its CRC32. The reader
// trusts no length or offset before checking it against the file, so a truncated or
// corrupt file is an Error naming the file and the record, never a crash.
#include "tessera/train/checkpoint.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "tessera/core/atomic_file.h"
#include "tessera/core/error.h"

namespace tessera {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the checkpoint format stores little-endian data; add byte swapping");

using nlohmann::json;

constexpr size_t kPreludeBytes = 32;
constexpr size_t kAlign = 64;
constexpr const char* kRoleModel = "model";
constexpr const char* kRoleOptimizer = "optimizer";

size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

uint32_t crc32_of(const char* p, size_t n) {
  return static_cast<uint32_t>(
      ::crc32_z(0L, reinterpret_cast<const Bytef*>(p), static_cast<z_size_t>(n)));
}

template <typename T>
void put(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T>
T get(const std::string& in, size_t pos) {
  T v;
  std::memcpy(&v, in.data() + pos, sizeof(T));
  return v;
}

json compile_to_json(const CompileConfig& c) {
  const OptimizerOptions& o = c.optimizer_options;
  return {{"optimizer", c.optimizer},
          {"optimizer_options",
           {{"learning_rate", o.learning_rate},
            {"momentum", o.momentum},
            {"nesterov", o.nesterov},
            {"beta_1", o.beta_1},
            {"beta_2", o.beta_2},
            {"epsilon", o.epsilon},
            {"weight_decay", o.weight_decay},
            {"rho", o.rho},
            {"clipnorm", o.clipnorm},
            {"clipvalue", o.clipvalue},
            {"global_clipnorm", o.global_clipnorm},
            {"gradient_accumulation_steps", o.gradient_accumulation_steps}}},
          {"loss", c.loss},
          {"loss_options", {{"from_logits", c.loss_options.from_logits}}},
          {"metrics", c.metrics},
          {"backends", c.backends},
          {"device", c.device},
          {"dtype_policy", c.dtype_policy},
          {"recompute", c.recompute}};
}

// Reads header fields with errors that name the file and the field.
class HeaderReader {
 public:
  explicit HeaderReader(const std::string& path) : path_(path) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw_error(ErrorKind::kInvalidArgument, fmt::format("checkpoint '{}': {}", path_, what));
  }

  const json& field(const json& j, const char* key, const std::string& record) const {
    if (!j.is_object() || !j.contains(key))
      fail(fmt::format("{}: missing field '{}'", record, key));
    return j.at(key);
  }
  std::string str(const json& j, const char* key, const std::string& record) const {
    const json& v = field(j, key, record);
    if (!v.is_string()) fail(fmt::format("{}: field '{}' must be a string", record, key));
    return v.get<std::string>();
  }
  uint64_t uint(const json& j, const char* key, const std::string& record) const {
    const json& v = field(j, key, record);
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
      fail(fmt::format("{}: field '{}' must be a non-negative integer", record, key));
    return v.get<uint64_t>();
  }
  double num(const json& j, const char* key, const std::string& record, double dflt) const {
    if (!j.contains(key)) return dflt;
    const json& v = j.at(key);
    if (!v.is_number()) fail(fmt::format("{}: field '{}' must be a number", record, key));
    return v.get<double>();
  }
  bool boolean(const json& j, const char* key, const std::string& record, bool dflt) const {
    if (!j.contains(key)) return dflt;
    const json& v = j.at(key);
    if (!v.is_boolean()) fail(fmt::format("{}: field '{}' must be true or false", record, key));
    return v.get<bool>();
  }
  std::vector<std::string> strings(const json& j, const char* key,
                                   const std::string& record) const {
    std::vector<std::string> out;
    if (!j.contains(key)) return out;
    const json& v = j.at(key);
    if (!v.is_array()) fail(fmt::format("{}: field '{}' must be a list of strings", record, key));
    for (const json& e : v) {
      if (!e.is_string())
        fail(fmt::format("{}: field '{}' must be a list of strings", record, key));
      out.push_back(e.get<std::string>());
    }
    return out;
  }

 private:
  const std::string& path_;
};

CompileConfig compile_from_json(const json& j, const HeaderReader& r) {
  const std::string rec = "header field 'compile'";
  if (!j.is_object()) r.fail(rec + ": must be an object or null");
  CompileConfig c;
  c.optimizer = r.str(j, "optimizer", rec);
  if (j.contains("optimizer_options")) {
    const json& o = j.at("optimizer_options");
    const std::string orec = rec + ".optimizer_options";
    if (!o.is_object()) r.fail(orec + ": must be an object");
    OptimizerOptions& oo = c.optimizer_options;
    oo.learning_rate = r.num(o, "learning_rate", orec, oo.learning_rate);
    oo.momentum = r.num(o, "momentum", orec, oo.momentum);
    oo.nesterov = r.boolean(o, "nesterov", orec, oo.nesterov);
    oo.beta_1 = r.num(o, "beta_1", orec, oo.beta_1);
    oo.beta_2 = r.num(o, "beta_2", orec, oo.beta_2);
    oo.epsilon = r.num(o, "epsilon", orec, oo.epsilon);
    oo.weight_decay = r.num(o, "weight_decay", orec, oo.weight_decay);
    oo.rho = r.num(o, "rho", orec, oo.rho);
    oo.clipnorm = r.num(o, "clipnorm", orec, oo.clipnorm);
    oo.clipvalue = r.num(o, "clipvalue", orec, oo.clipvalue);
    oo.global_clipnorm = r.num(o, "global_clipnorm", orec, oo.global_clipnorm);
    double k = r.num(o, "gradient_accumulation_steps", orec, 0);
    if (!(k >= 0 && k <= 1e9 && k == std::floor(k)))
      r.fail(orec + ": field 'gradient_accumulation_steps' must be an integer >= 0");
    oo.gradient_accumulation_steps = static_cast<int64_t>(k);
  }
  c.loss = r.str(j, "loss", rec);
  if (j.contains("loss_options")) {
    c.loss_options.from_logits =
        r.boolean(j.at("loss_options"), "from_logits", rec + ".loss_options", false);
  }
  c.metrics = r.strings(j, "metrics", rec);
  std::vector<std::string> backends = r.strings(j, "backends", rec);
  if (!backends.empty()) c.backends = backends;
  // The device is a property of the run: a model saved from a GPU run loads on any machine
  // and uses a GPU where there is one.
  if (j.contains("device")) c.device = r.str(j, "device", rec);
  if (c.device == "cuda") c.device = "auto";
  if (j.contains("dtype_policy")) c.dtype_policy = r.str(j, "dtype_policy", rec);
  c.recompute = r.boolean(j, "recompute", rec, false);
  return c;
}

struct Record {
  std::string role, name;
  DType dtype;
  Shape shape;
  uint64_t offset = 0, bytes = 0;  // offset from the start of the data section
};

// A checked checkpoint in memory: the file's bytes, its header and its tensor table.
struct Checked {
  std::string bytes;
  json header;
  size_t data_start = 0;
  std::vector<Record> records;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TS_CHECK(in.good(), ErrorKind::kNotFound, "checkpoint '{}': cannot open: {}", path,
           std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  TS_CHECK(!in.bad(), ErrorKind::kIo, "checkpoint '{}': read failed", path);
  return bytes;
}

Record parse_record(const json& t, size_t index, const HeaderReader& r) {
  std::string rec = fmt::format("tensor table entry {}", index);
  Record out;
  out.name = r.str(t, "name", rec);
  rec = fmt::format("tensor '{}'", out.name);
  out.role = r.str(t, "role", rec);
  if (out.role != kRoleModel && out.role != kRoleOptimizer)
    r.fail(fmt::format("{}: role '{}' is neither 'model' nor 'optimizer'", rec, out.role));
  std::string dtype = r.str(t, "dtype", rec);
  try {
    out.dtype = DType::parse(dtype);
  } catch (const Error&) {
    r.fail(fmt::format("{}: unknown dtype '{}'", rec, dtype));
  }
  const json& shape = r.field(t, "shape", rec);
  if (!shape.is_array() || shape.size() > static_cast<size_t>(kMaxRank))
    r.fail(fmt::format("{}: shape must be a list of at most {} sizes", rec, kMaxRank));
  uint64_t numel = 1;
  for (const json& d : shape) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > (int64_t{1} << 40))
      r.fail(fmt::format("{}: shape {} has an invalid size", rec, shape.dump()));
    out.shape.push_back(d.get<int64_t>());
    numel *= static_cast<uint64_t>(d.get<int64_t>());
    if (numel > (uint64_t{1} << 40))
      r.fail(fmt::format("{}: shape {} is too large", rec, shape.dump()));
  }
  out.offset = r.uint(t, "offset", rec);
  out.bytes = r.uint(t, "bytes", rec);
  if (out.bytes != numel * out.dtype.size())
    r.fail(fmt::format("{}: {} bytes do not fit shape {} of {}", rec, out.bytes, out.shape.str(),
                       out.dtype.name()));
  if (out.offset % kAlign != 0)
    r.fail(fmt::format("{}: offset {} is not a multiple of {}", rec, out.offset, kAlign));
  return out;
}

Checked check_file(const std::string& path) {
  HeaderReader r(path);
  Checked c;
  c.bytes = read_file(path);
  const std::string& b = c.bytes;
  if (b.size() < kPreludeBytes)
    r.fail(fmt::format("truncated: {} bytes, shorter than the {}-byte prelude", b.size(),
                       kPreludeBytes));
  if (std::memcmp(b.data(), kCheckpointMagic, sizeof kCheckpointMagic) != 0)
    r.fail("bad magic: not a Tessera checkpoint");
  uint32_t version = get<uint32_t>(b, 8);
  if (version != kCheckpointVersion)
    r.fail(fmt::format("unsupported format version {} (this build reads version {})", version,
                       kCheckpointVersion));
  uint32_t header_crc = get<uint32_t>(b, 12);
  uint64_t header_bytes = get<uint64_t>(b, 16);
  uint64_t file_bytes = get<uint64_t>(b, 24);
  if (file_bytes != b.size())
    r.fail(fmt::format("{}: file is {} bytes, the prelude says {}",
                       b.size() < file_bytes ? "truncated" : "wrong size", b.size(), file_bytes));
  if (header_bytes > b.size() - kPreludeBytes)
    r.fail(fmt::format("truncated header: {} bytes declared, {} present", header_bytes,
                       b.size() - kPreludeBytes));
  uint32_t actual_crc = crc32_of(b.data() + kPreludeBytes, header_bytes);
  if (actual_crc != header_crc)
    r.fail(fmt::format("header: CRC32 mismatch (stored {:08x}, computed {:08x})", header_crc,
                       actual_crc));
  try {
    c.header = json::parse(b.begin() + kPreludeBytes,
                           b.begin() + static_cast<std::ptrdiff_t>(kPreludeBytes + header_bytes));
  } catch (const json::exception& e) {
    r.fail(fmt::format("header: invalid JSON: {}", e.what()));
  }
  if (!c.header.is_object()) r.fail("header: not a JSON object");
  c.data_start = align_up(kPreludeBytes + header_bytes);
  r.uint(c.header, "epoch", "header");
  r.field(c.header, "model", "header");
  const json& table = r.field(c.header, "tensors", "header");
  if (!table.is_array()) r.fail("header: field 'tensors' must be a list");

  // Tensors must be laid out in order, without overlap, inside the file, with zero padding
  // between them, so that any flipped byte anywhere is detected.
  size_t pos = c.data_start;
  if (pos > b.size())
    r.fail(fmt::format("truncated: no data section (file is {} bytes)", b.size()));
  auto check_padding = [&](size_t from, size_t to, const std::string& where) {
    for (size_t i = from; i < to; ++i)
      if (b[i] != 0) r.fail(fmt::format("non-zero padding byte at offset {} {}", i, where));
  };
  check_padding(kPreludeBytes + header_bytes, pos, "after the header");
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < table.size(); ++i) {
    Record rec = parse_record(table[i], i, r);
    std::string what = fmt::format("tensor '{}'", rec.name);
    if (!seen.insert({rec.role, rec.name}).second)
      r.fail(fmt::format("{}: appears twice in the tensor table", what));
    uint64_t begin = c.data_start + rec.offset;
    if (rec.offset > b.size() || begin < pos)
      r.fail(fmt::format("{}: offset {} overlaps the previous tensor or lies outside the file",
                         what, rec.offset));
    if (rec.bytes > b.size() - begin)
      r.fail(fmt::format("{}: truncated data ({} bytes at offset {}, file is {} bytes)", what,
                         rec.bytes, begin, b.size()));
    check_padding(pos, begin, "before " + what);
    uint32_t stored = static_cast<uint32_t>(r.uint(table[i], "crc32", what));
    uint32_t actual = crc32_of(b.data() + begin, rec.bytes);
    if (stored != actual)
      r.fail(
          fmt::format("{}: CRC32 mismatch (stored {:08x}, computed {:08x})", what, stored, actual));
    pos = begin + rec.bytes;
    c.records.push_back(std::move(rec));
  }
  if (pos != b.size())
    r.fail(fmt::format("{} unexpected bytes after the last tensor", b.size() - pos));
  return c;
}

}  // namespace

void save_model(const Model& model, const std::string& path) {
  struct Entry {
    const char* role;
    VariablePtr var;
  };
  std::vector<Entry> entries;
  for (const VariablePtr& v : model.net().variables()) entries.push_back({kRoleModel, v});
  if (model.compiled()) {
    // optimizer() is non-const only because training mutates it; saving only reads.
    Optimizer* opt = const_cast<Model&>(model).optimizer();
    for (const VariablePtr& v : opt->variables()) entries.push_back({kRoleOptimizer, v});
  }

  json table = json::array();
  std::vector<Tensor> data;
  size_t offset = 0;
  for (const Entry& e : entries) {
    Tensor t = e.var->value.contiguous();
    const char* p = static_cast<const char*>(t.raw_data());
    offset = align_up(offset);
    table.push_back({{"name", e.var->name},
                     {"role", e.role},
                     {"dtype", t.dtype().name()},
                     {"shape", t.shape().to_vector()},
                     {"offset", offset},
                     {"bytes", t.nbytes()},
                     {"crc32", crc32_of(p, t.nbytes())},
                     {"trainable", e.var->trainable}});
    offset += t.nbytes();
    data.push_back(std::move(t));
  }
  json header = {{"format", "tessera-checkpoint"},
                 {"version", kCheckpointVersion},
                 {"model", model.net().to_json()},
                 {"compile", model.compiled() ? compile_to_json(model.compile_config()) : json()},
                 {"epoch", model.epoch()},
                 {"tensors", std::move(table)}};
  if (model.compiled()) {
    header["optimizer_config"] = const_cast<Model&>(model).optimizer()->config();
  }
  // Saved inside an epoch: where its batches stopped, so a resumed fit goes on from there.
  if (model.position().batch > 0)
    header["position"] = {{"batch", model.position().batch},
                          {"batch_size", model.position().batch_size}};
  std::string text = header.dump();

  std::string out;
  size_t data_start = align_up(kPreludeBytes + text.size());
  size_t total = data_start + offset;
  out.reserve(total);
  out.append(kCheckpointMagic, sizeof kCheckpointMagic);
  put<uint32_t>(out, kCheckpointVersion);
  put<uint32_t>(out, crc32_of(text.data(), text.size()));
  put<uint64_t>(out, text.size());
  put<uint64_t>(out, total);
  out += text;
  for (const Tensor& t : data) {
    out.resize(align_up(out.size() - data_start) + data_start, '\0');
    out.append(static_cast<const char*>(t.raw_data()), t.nbytes());
  }
  TS_ASSERT(out.size() == total);
  write_file_atomic(path, out);
}

bool is_checkpoint_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[sizeof kCheckpointMagic] = {};
  if (!in.read(magic, sizeof magic)) return false;
  return std::memcmp(magic, kCheckpointMagic, sizeof magic) == 0;
}

json read_checkpoint_header(const std::string& path) { return check_file(path).header; }

Model load_model(const std::string& path, const LoadOptions& options) {
  Checked c = check_file(path);
  HeaderReader r(path);
  Functional net;
  try {
    net = Functional::from_json(c.header.at("model"));
  } catch (const Error& e) {
    r.fail(fmt::format("header field 'model': {}", e.what()));
  } catch (const json::exception& e) {
    r.fail(fmt::format("header field 'model': {}", e.what()));
  }
  Model model(std::move(net));
  const json& compile = c.header.contains("compile") ? c.header.at("compile") : json();
  if (!compile.is_null()) {
    CompileConfig config = compile_from_json(compile, r);
    if (!options.backends.empty()) {
      config.backends = options.backends;
      config.device.clear();
    }
    if (!options.device.empty()) config.device = options.device;
    try {
      model.compile(std::move(config));
    } catch (const Error& e) {
      r.fail(fmt::format("header field 'compile': {}", e.what()));
    }
  }

  std::map<std::pair<std::string, std::string>, VariablePtr> vars;
  auto add = [&](const char* role, const std::vector<VariablePtr>& vs) {
    for (const VariablePtr& v : vs) vars[{role, v->name}] = v;
  };
  add(kRoleModel, model.net().variables());
  if (model.compiled()) add(kRoleOptimizer, model.optimizer()->variables());

  std::set<std::pair<std::string, std::string>> filled;
  for (const Record& rec : c.records) {
    auto it = vars.find({rec.role, rec.name});
    if (it == vars.end())
      r.fail(fmt::format("tensor '{}' ({}) matches no variable of the model", rec.name, rec.role));
    Tensor& dst = it->second->value;
    if (dst.shape() != rec.shape || !(dst.dtype() == rec.dtype))
      r.fail(fmt::format("tensor '{}': {} {} in the file, the model has {} {}", rec.name,
                         rec.dtype.name(), rec.shape.str(), dst.dtype().name(), dst.shape().str()));
    TS_ASSERT(dst.is_contiguous());
    // In place: compiled programs share the variable's buffer.
    std::memcpy(dst.raw_data(), c.bytes.data() + c.data_start + rec.offset, rec.bytes);
    filled.insert({rec.role, rec.name});
  }
  for (const auto& [key, var] : vars) {
    if (!filled.count(key))
      r.fail(fmt::format("{} variable '{}' has no tensor in the file", key.first, key.second));
  }
  model.set_epoch(static_cast<int>(r.uint(c.header, "epoch", "header")));
  if (c.header.contains("position")) {
    const json& p = c.header.at("position");
    if (!p.is_object()) r.fail("header field 'position' must be an object");
    model.set_position({static_cast<int64_t>(r.uint(p, "batch", "position")),
                        static_cast<int64_t>(r.uint(p, "batch_size", "position"))});
  }
  return model;
}

}  // namespace tessera
