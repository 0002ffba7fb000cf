// CSV datasets, RFC 4180 style: fields separated by a delimiter, optionally "quoted" (a
// quote inside is written ""; quoted fields may span lines), records ended by LF or CRLF.
// Blank lines are skipped. Every error names file:line:column and the offending text.
#include <charconv>
#include <cstring>
#include <vector>

#include "formats.h"
#include "tessera/core/error.h"
#include "tessera/data/loaders.h"

namespace tessera {
namespace data_internal {
namespace {

struct Field {
  std::string text;
  int64_t line = 0;
  int64_t column = 0;  // 1-based byte column where the field starts
  bool quoted = false;
};

// Shows a field in an error message: bounded in length, control characters escaped.
std::string shown(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 40; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c < 0x20 || c == 0x7f) ? fmt::format("\\x{:02x}", c) : std::string(1, s[i]);
  }
  if (s.size() > 40) out += "...";
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

class CsvReader {
 public:
  CsvReader(std::string_view text, const std::string& name, char delimiter)
      : text_(text), name_(name), delimiter_(delimiter) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = line_start_ = 3;  // UTF-8 BOM
  }

  // The next record into `fields` (reused); false at the end of the text.
  bool next(std::vector<Field>& fields) {
    if (pos_ >= text_.size()) return false;
    size_t used = 0;
    for (;;) {
      if (used == fields.size()) fields.emplace_back();
      Field& f = fields[used++];
      f.text.clear();
      f.line = line_;
      f.column = static_cast<int64_t>(pos_ - line_start_) + 1;
      f.quoted = pos_ < text_.size() && text_[pos_] == '"';
      if (f.quoted) {
        read_quoted(f);
      } else {
        size_t end = pos_;
        while (end < text_.size() && text_[end] != delimiter_ && text_[end] != '\n') ++end;
        std::string_view s = text_.substr(pos_, end - pos_);
        if (end < text_.size() && text_[end] == '\n' && !s.empty() && s.back() == '\r') {
          s.remove_suffix(1);
        }
        f.text.assign(s);
        pos_ = end;
      }
      if (pos_ < text_.size() && text_[pos_] == delimiter_) {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size()) new_line(++pos_);  // '\n'
      break;
    }
    fields.resize(used);
    return true;
  }

  [[noreturn]] void fail(int64_t line, int64_t column, const std::string& what) const {
    throw_error(ErrorKind::kInvalidArgument,
                fmt::format("{}:{}:{}: {}", name_, line, column, what));
  }

 private:
  void new_line(size_t start) {
    ++line_;
    line_start_ = start;
  }

  void read_quoted(Field& f) {
    ++pos_;  // opening quote
    for (;;) {
      size_t q = text_.find('"', pos_);
      if (q == std::string_view::npos) fail(f.line, f.column, "unterminated quoted field");
      for (size_t i = pos_; i < q; ++i) {
        if (text_[i] == '\n') new_line(i + 1);
      }
      f.text.append(text_.substr(pos_, q - pos_));
      pos_ = q + 1;
      if (pos_ < text_.size() && text_[pos_] == '"') {  // "" is a quote
        f.text.push_back('"');
        ++pos_;
        continue;
      }
      break;
    }
    if (pos_ + 1 < text_.size() && text_[pos_] == '\r' && text_[pos_ + 1] == '\n') ++pos_;
    if (pos_ < text_.size() && text_[pos_] != delimiter_ && text_[pos_] != '\n') {
      fail(line_, static_cast<int64_t>(pos_ - line_start_) + 1,
           fmt::format("unexpected '{}' after a closing quote", shown(text_.substr(pos_, 1))));
    }
  }

  std::string_view text_;
  const std::string& name_;
  char delimiter_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  int64_t line_ = 1;
};

bool is_blank(const std::vector<Field>& fields) {
  return fields.size() == 1 && !fields[0].quoted && trim(fields[0].text).empty();
}

}  // namespace

Dataset parse_csv(std::string_view text, const std::string& name, const CsvOptions& options) {
  TS_CHECK(options.delimiter != '"' && options.delimiter != '\n' && options.delimiter != '\r',
           ErrorKind::kInvalidArgument, "CSV delimiter '{}' is not allowed",
           shown(std::string_view(&options.delimiter, 1)));
  TS_CHECK(!text.empty(), ErrorKind::kInvalidArgument, "file '{}' is empty (expected CSV)", name);
  CsvReader reader(text, name, options.delimiter);
  std::vector<Field> fields;
  auto next_nonblank = [&]() {
    while (reader.next(fields)) {
      if (!is_blank(fields)) return true;
    }
    return false;
  };

  std::vector<std::string> names;
  int64_t header_line = 0;
  if (options.header) {
    TS_CHECK(next_nonblank(), ErrorKind::kInvalidArgument, "file '{}' has no header line", name);
    for (const Field& f : fields) names.emplace_back(trim(f.text));
    header_line = fields[0].line;
  }
  bool have_row = next_nonblank();
  TS_CHECK(have_row, ErrorKind::kInvalidArgument, "file '{}' has no data rows", name);
  size_t columns = options.header ? names.size() : fields.size();
  TS_CHECK(columns >= 2, ErrorKind::kInvalidArgument,
           "file '{}' has {} column; a dataset needs features and a label", name, columns);
  if (!options.header) {
    for (size_t c = 0; c < columns; ++c) names.push_back(fmt::format("{}", c));
  }

  // The label column: by name, else by 0-based index, else the last one.
  size_t label = columns - 1;
  const std::string& wanted = options.label_column;
  if (!wanted.empty()) {
    size_t found = columns;
    for (size_t c = 0; c < columns && options.header; ++c) {
      if (names[c] == wanted && found == columns) found = c;
    }
    if (found == columns) {
      size_t index = 0;
      auto [end, ec] = std::from_chars(wanted.data(), wanted.data() + wanted.size(), index);
      if (ec == std::errc() && end == wanted.data() + wanted.size() && index < columns) {
        found = index;
      }
    }
    if (found == columns) {
      std::string list;
      for (size_t c = 0; c < columns && c < 32; ++c) list += (c ? ", " : "") + names[c];
      if (columns > 32) list += ", ...";
      throw_error(
          ErrorKind::kInvalidArgument,
          fmt::format("file '{}': no label column '{}' ({} columns{}{})", name, wanted, columns,
                      options.header ? ": " : "; 0-based indices", options.header ? list : ""));
    }
    label = found;
  }

  std::vector<float> features;
  std::vector<int32_t> int_labels;
  std::vector<float> float_labels;
  do {
    const Field& first = fields[0];
    TS_CHECK(fields.size() == columns, ErrorKind::kInvalidArgument,
             "{}:{}:{}: expected {} fields{}, found {}", name, first.line, first.column, columns,
             options.header ? fmt::format(" as in the header (line {})", header_line) : "",
             fields.size());
    for (size_t c = 0; c < columns; ++c) {
      const Field& f = fields[c];
      std::string_view s = trim(f.text);
      // from_chars rejects a leading '+', which spreadsheets write; "+-1" stays an error.
      if (s.size() > 1 && s[0] == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
      const char* b = s.data();
      const char* e = s.data() + s.size();
      if (s.empty()) {
        reader.fail(f.line, f.column, fmt::format("empty field in column '{}'", names[c]));
      }
      if (c == label && options.integer_labels) {
        int32_t v = 0;
        auto [end, ec] = std::from_chars(b, e, v);
        if (ec != std::errc() || end != e) {
          reader.fail(
              f.line, f.column,
              fmt::format("label '{}' in column '{}' is not an integer class id{}", shown(f.text),
                          names[c], ec == std::errc::result_out_of_range ? " (out of range)" : ""));
        }
        int_labels.push_back(v);
        continue;
      }
      float v = 0;
      auto [end, ec] = std::from_chars(b, e, v);
      if (ec != std::errc() || end != e) {
        reader.fail(
            f.line, f.column,
            fmt::format("cannot parse '{}' in column '{}' as a number{}", shown(f.text), names[c],
                        ec == std::errc::result_out_of_range ? " (out of f32 range)" : ""));
      }
      (c == label ? float_labels : features).push_back(v);
    }
  } while (next_nonblank());

  int64_t n =
      static_cast<int64_t>(options.integer_labels ? int_labels.size() : float_labels.size());
  int64_t f = static_cast<int64_t>(columns) - 1;
  Dataset d;
  d.name = name;
  d.x = Tensor::zeros(kF32, {n, f});
  std::memcpy(d.x.raw_data(), features.data(), features.size() * sizeof(float));
  if (options.integer_labels) {
    d.y = Tensor::zeros(kI32, {n});
    std::memcpy(d.y.raw_data(), int_labels.data(), int_labels.size() * sizeof(int32_t));
  } else {
    d.y = Tensor::zeros(kF32, {n});
    std::memcpy(d.y.raw_data(), float_labels.data(), float_labels.size() * sizeof(float));
  }
  return d;
}

}  // namespace data_internal

Dataset read_csv_dataset(const std::string& path, const CsvOptions& options) {
  return data_internal::parse_csv(data_internal::read_file_bytes(path), path, options);
}

}  // namespace tessera
