// DType::parse: the inverse of DType::name(), plus the Xilinx / hls4ml spellings
// ap_fixed<W,I,Q,O,N> and ap_ufixed<...>. Every input either parses or throws
// Error(kInvalidArgument) quoting the text; nothing else can happen (fuzzed in
// tests/fuzz/dtype_parse_fuzz.cpp).
#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "mode_names.h"
#include "tessera/core/dtype.h"
#include "tessera/core/error.h"

namespace tessera {
namespace {

constexpr std::string_view kExpected =
    "expected f32, f16, bf16, i8, i32, i64, bool, fixed<W,I[,rounding,overflow]>, "
    "ufixed<W,I[,rounding,overflow]> or ap_[u]fixed<W,I[,Q[,O[,0]]]>";

// The text as it appears in a message: printable, and bounded so that a megabyte of junk
// does not become a megabyte of error message.
std::string quote(std::string_view text) {
  constexpr size_t kMaxShown = 80;
  std::string s = "'";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\'' || c == '\\') {
      s += '\\';
      s += static_cast<char>(c);
    } else if (std::isprint(c)) {
      s += static_cast<char>(c);
    } else {
      s += fmt::format("\\x{:02x}", c);
    }
  }
  if (text.size() > kMaxShown) s += "…";
  return s + "'";
}

[[noreturn]] void fail(std::string_view text, std::string_view problem) {
  throw_error(ErrorKind::kInvalidArgument,
              fmt::format("invalid dtype {}: {}; {}", quote(text), problem, kExpected));
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) {
  return is_ident_start(c) || std::isdigit(static_cast<unsigned char>(c));
}

class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }
  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }
  bool eat(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string_view identifier() {
    skip_space();
    size_t start = pos_;
    if (pos_ < text_.size() && is_ident_start(text_[pos_])) {
      while (pos_ < text_.size() && is_ident_char(text_[pos_])) ++pos_;
    }
    return text_.substr(start, pos_ - start);
  }
  // A decimal integer with an optional sign; nullopt when absent or out of int range.
  std::optional<int> integer(bool* out_of_range) {
    skip_space();
    size_t start = pos_;
    if (pos_ < text_.size() && (text_[pos_] == '-' || text_[pos_] == '+')) ++pos_;
    size_t digits = pos_;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    if (pos_ == digits) {
      pos_ = start;
      return std::nullopt;
    }
    // from_chars rejects a leading '+'.
    const char* first = text_.data() + (text_[start] == '+' ? start + 1 : start);
    int value = 0;
    auto [ptr, ec] = std::from_chars(first, text_.data() + pos_, value);
    if (ec != std::errc() || ptr != text_.data() + pos_) {
      *out_of_range = true;
      return std::nullopt;
    }
    return value;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

std::optional<Rounding> parse_rounding(std::string_view word) {
  for (const auto& row : detail::kRoundingNames)
    if (word == row.name || word == row.xilinx) return row.mode;
  return std::nullopt;
}

std::optional<Overflow> parse_overflow(std::string_view word) {
  for (const auto& row : detail::kOverflowNames)
    if (word == row.name || word == row.xilinx) return row.mode;
  return std::nullopt;
}

// After "fixed" / "ufixed" / "ap_fixed" / "ap_ufixed": <W,I[,Q[,O[,N]]]>.
DType parse_fixed_params(std::string_view text, Cursor& cur, bool is_signed, bool xilinx) {
  if (!cur.eat('<')) fail(text, "expected '<' after the fixed-point type name");
  bool out_of_range = false;
  std::optional<int> width = cur.integer(&out_of_range);
  if (!width) fail(text, out_of_range ? "the width is out of range" : "expected the width W");
  if (!cur.eat(',')) fail(text, "expected ',' and the integer bits I after the width");
  std::optional<int> int_bits = cur.integer(&out_of_range);
  if (!int_bits) {
    fail(text, out_of_range ? "the integer bits are out of range"
                            : "expected the integer bits I after the width");
  }
  FixedFormat f{*width, *int_bits, is_signed, Rounding::kTruncate, Overflow::kWrap};
  if (cur.eat(',')) {
    std::string_view word = cur.identifier();
    std::optional<Rounding> r = parse_rounding(word);
    if (!r) {
      fail(text,
           "expected a rounding mode (trn, trn_zero, rnd, rnd_zero, rnd_inf, "
           "rnd_min_inf, rnd_conv or AP_TRN … AP_RND_CONV)");
    }
    f.rounding = *r;
    if (cur.eat(',')) {
      std::optional<Overflow> o = parse_overflow(cur.identifier());
      if (!o) {
        fail(text,
             "expected an overflow mode (wrap, sat, sat_zero, sat_sym or AP_WRAP, "
             "AP_SAT, AP_SAT_ZERO, AP_SAT_SYM)");
      }
      f.overflow = *o;
      if (cur.eat(',')) {
        // ap_fixed's 5th parameter: saturation bits for AP_WRAP. Only 0 (the default) is
        // the plain wrap we implement.
        if (!xilinx) fail(text, "fixed<…> takes at most 4 parameters");
        std::optional<int> n = cur.integer(&out_of_range);
        if (!n) fail(text, "expected the saturation bit count N");
        if (*n != 0) fail(text, "saturation bits N other than 0 are not supported");
      }
    }
  }
  if (!cur.eat('>')) fail(text, "expected '>' after the fixed-point parameters");
  if (!cur.at_end()) fail(text, "unexpected text after '>'");
  try {
    return DType::fixed(f);
  } catch (const Error& e) {
    fail(text, e.what());
  }
}

}  // namespace

DType DType::parse(std::string_view text) {
  Cursor cur(text);
  std::string_view word = cur.identifier();
  if (word.empty()) fail(text, "expected a type name");
  struct Simple {
    std::string_view name;
    DType type;
  };
  static constexpr Simple kSimple[] = {{"f32", kF32}, {"f16", kF16}, {"bf16", kBF16}, {"i8", kI8},
                                       {"i32", kI32}, {"i64", kI64}, {"bool", kBool}};
  for (const Simple& s : kSimple) {
    if (word == s.name) {
      if (!cur.at_end()) fail(text, fmt::format("unexpected text after '{}'", s.name));
      return s.type;
    }
  }
  if (word == "fixed") return parse_fixed_params(text, cur, true, false);
  if (word == "ufixed") return parse_fixed_params(text, cur, false, false);
  if (word == "ap_fixed") return parse_fixed_params(text, cur, true, true);
  if (word == "ap_ufixed") return parse_fixed_params(text, cur, false, true);
  fail(text, "unknown type name");
}

}  // namespace tessera
