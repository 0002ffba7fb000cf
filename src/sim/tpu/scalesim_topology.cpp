// SCALE-Sim topology .csv files: convolution rows (its conv_nets/ files) or M,N,K rows (its
// GEMM_mnk/ files). SCALE-Sim drops the field after the last comma (its rows end with one); we
// accept rows with or without the trailing comma.
#include <string>

#include "scalesim_text.h"
#include "tessera/core/error.h"
#include "tessera/sim/tpu/scalesim.h"

namespace tessera::sim {
namespace {

const char* const kConvColumns[] = {"Layer name",   "IFMAP Height", "IFMAP Width",
                                    "Filter Height", "Filter Width", "Channels",
                                    "Num Filter",   "Strides",      "Stride width"};
const char* const kGemmColumns[] = {"Layer name", "M", "N", "K"};

std::vector<std::string_view> row_fields(std::string_view line) {
  std::vector<std::string_view> fields = scalesim_text::split(line, ',');
  for (auto& f : fields) f = scalesim_text::trim(f);
  while (!fields.empty() && fields.back().empty()) fields.pop_back();
  return fields;
}

bool header_is_gemm(std::string_view header) {
  const auto f = row_fields(header);
  return f.size() == 4 && scalesim_text::lower(f[1]) == "m" && scalesim_text::lower(f[2]) == "n" &&
         scalesim_text::lower(f[3]) == "k";
}

int64_t positive(std::string_view field, std::string_view source, int line, const char* column) {
  const auto v = scalesim_text::to_int(field);
  TS_CHECK(v.has_value(), ErrorKind::kInvalidArgument,
           "{}:{}: column '{}': expected an integer, got '{}'", source, line, column, field);
  TS_CHECK(*v > 0, ErrorKind::kInvalidArgument, "{}:{}: column '{}': expected a value > 0, got {}",
           source, line, column, *v);
  return *v;
}

// SCALE-Sim's output size: ceil((h - r + stride) / stride). Where the stride does not divide
// h - r, the last window hangs over the edge (its missing pixels are null requests) and counts as
// an output row, one more than floor((h - r) / stride) + 1.
ScaleSimLayer conv_layer(std::string name, int64_t h, int64_t w, int64_t r, int64_t s, int64_t c,
                         int64_t filters, int64_t sh, int64_t sw) {
  ScaleSimLayer l;
  l.name = std::move(name);
  l.is_conv = true;
  l.conv = {.n = 1, .h = h, .w = w, .c = c, .r = r, .s = s, .filters = filters,
            .p = (h - r + sh - 1) / sh + 1, .q = (w - s + sw - 1) / sw + 1, .stride_h = sh,
            .stride_w = sw};
  l.gemm = {.batch = 1, .m = l.conv.p * l.conv.q, .n = filters, .k = r * s * c};
  return l;
}

}  // namespace

std::vector<ScaleSimLayer> parse_scalesim_topology(std::string_view text, std::string_view source,
                                                   TopologyFormat format) {
  const std::vector<std::string_view> lines = scalesim_text::split_lines(text);
  TS_CHECK(!lines.empty() && !scalesim_text::trim(lines[0]).empty(), ErrorKind::kInvalidArgument,
           "{}:1: expected a header row", source);
  const bool gemm = format == TopologyFormat::kGemm ||
                    (format == TopologyFormat::kAuto && header_is_gemm(lines[0]));
  std::vector<ScaleSimLayer> layers;
  for (size_t i = 1; i < lines.size(); ++i) {
    const int line = static_cast<int>(i + 1);
    if (scalesim_text::trim(lines[i]).empty()) continue;
    const auto f = row_fields(lines[i]);
    if (gemm) {
      TS_CHECK(f.size() == 4, ErrorKind::kInvalidArgument,
               "{}:{}: expected 4 fields (Layer name, M, N, K), got {}", source, line, f.size());
      ScaleSimLayer l;
      l.name = std::string(f[0]);
      l.is_conv = false;
      l.gemm = {.batch = 1,
                .m = positive(f[1], source, line, kGemmColumns[1]),
                .n = positive(f[2], source, line, kGemmColumns[2]),
                .k = positive(f[3], source, line, kGemmColumns[3])};
      layers.push_back(std::move(l));
      continue;
    }
    TS_CHECK(f.size() == 8 || f.size() == 9, ErrorKind::kInvalidArgument,
             "{}:{}: expected 8 or 9 fields (Layer name, IFMAP Height, IFMAP Width, Filter "
             "Height, Filter Width, Channels, Num Filter, Strides[, Stride width]), got {}",
             source, line, f.size());
    int64_t v[9] = {};
    for (size_t j = 1; j < f.size(); ++j) v[j] = positive(f[j], source, line, kConvColumns[j]);
    if (f.size() == 8) v[8] = v[7];
    TS_CHECK(v[3] <= v[1], ErrorKind::kInvalidArgument,
             "{}:{}: Filter Height {} is larger than IFMAP Height {}", source, line, v[3], v[1]);
    TS_CHECK(v[4] <= v[2], ErrorKind::kInvalidArgument,
             "{}:{}: Filter Width {} is larger than IFMAP Width {}", source, line, v[4], v[2]);
    const std::string name(f[0]);
    if (name.find("DP") != std::string::npos) {  // depthwise: one layer per channel
      for (int64_t ch = 0; ch < v[5]; ++ch) {
        layers.push_back(conv_layer(name + "Channel_" + std::to_string(ch), v[1], v[2], v[3],
                                    v[4], 1, v[6], v[7], v[8]));
      }
    } else {
      layers.push_back(conv_layer(name, v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]));
    }
  }
  TS_CHECK(!layers.empty(), ErrorKind::kInvalidArgument, "{}: no layers after the header",
           source);
  return layers;
}

std::vector<ScaleSimLayer> read_scalesim_topology(const std::string& path, TopologyFormat format) {
  return parse_scalesim_topology(scalesim_text::read_text_file(path, "SCALE-Sim topology"), path,
                                 format);
}

}  // namespace tessera::sim
