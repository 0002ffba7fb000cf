// Shared by the report's tests: the fixture document and a small well-formedness check of
// the inline SVG (the page is HTML, but every chart must also be well-formed XML).
#pragma once

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessera::report::test {

inline nlohmann::json load_fixture() {
  const std::string path =
      std::string(TESSERA_SOURCE_DIR) + "/tests/report/fixtures/compare_report.json";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

// Every <svg>…</svg> fragment of a page.
inline std::vector<std::string> svg_fragments(const std::string& html) {
  std::vector<std::string> out;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) {
    const size_t end = html.find("</svg>", at);
    if (end == std::string::npos) {
      out.push_back(html.substr(at));  // unterminated: the checker reports it
      break;
    }
    out.push_back(html.substr(at, end + 6 - at));
  }
  return out;
}

// "" when `xml` is one well-formed element (tags balanced, attributes quoted, entities
// valid, no stray '<'); else what is wrong and where.
inline std::string xml_problem(const std::string& xml) {
  std::vector<std::string> open;
  size_t i = 0, roots = 0;
  auto name_at = [&](size_t& p) {
    const size_t start = p;
    while (p < xml.size() && (std::isalnum(static_cast<unsigned char>(xml[p])) || xml[p] == '-' ||
                              xml[p] == ':' || xml[p] == '_')) {
      ++p;
    }
    return xml.substr(start, p - start);
  };
  auto entity_ok = [&](size_t p) {
    const size_t semi = xml.find(';', p);
    if (semi == std::string::npos || semi - p > 8) return false;
    const std::string body = xml.substr(p + 1, semi - p - 1);
    if (body.empty()) return false;
    if (body[0] == '#') return body.size() > 1;
    for (char c : body) {
      if (!std::isalpha(static_cast<unsigned char>(c))) return false;
    }
    return true;
  };
  while (i < xml.size()) {
    const char c = xml[i];
    if (c == '&') {
      if (!entity_ok(i)) return "bad entity at " + std::to_string(i);
      ++i;
    } else if (c != '<') {
      if (open.empty() && !std::isspace(static_cast<unsigned char>(c))) {
        return "text outside the root at " + std::to_string(i);
      }
      ++i;
    } else if (i + 1 < xml.size() && xml[i + 1] == '/') {
      size_t p = i + 2;
      const std::string name = name_at(p);
      if (p >= xml.size() || xml[p] != '>') return "bad end tag at " + std::to_string(i);
      if (open.empty() || open.back() != name) return "unbalanced </" + name + ">";
      open.pop_back();
      i = p + 1;
    } else {
      size_t p = i + 1;
      const std::string name = name_at(p);
      if (name.empty()) return "stray '<' at " + std::to_string(i);
      if (open.empty() && ++roots > 1) return "more than one root";
      for (;;) {
        while (p < xml.size() && std::isspace(static_cast<unsigned char>(xml[p]))) ++p;
        if (p >= xml.size()) return "unterminated <" + name + ">";
        if (xml[p] == '>') {
          open.push_back(name);
          ++p;
          break;
        }
        if (xml.compare(p, 2, "/>") == 0) {
          p += 2;
          break;
        }
        const std::string attribute = name_at(p);
        if (attribute.empty() || p + 1 >= xml.size() || xml[p] != '=' || xml[p + 1] != '"') {
          return "bad attribute in <" + name + "> at " + std::to_string(p);
        }
        const size_t close = xml.find('"', p + 2);
        if (close == std::string::npos) return "unterminated attribute in <" + name + ">";
        for (size_t q = p + 2; q < close; ++q) {
          if (xml[q] == '<') return "'<' in an attribute of <" + name + ">";
          if (xml[q] == '&' && !entity_ok(q)) return "bad entity in an attribute of <" + name + ">";
        }
        p = close + 1;
      }
      i = p;
    }
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  return roots == 1 ? "" : "no root element";
}

}  // namespace tessera::report::test
