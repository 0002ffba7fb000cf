#include "sections.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "charts.h"
#include "report_json.h"
#include "text.h"

namespace tessera::report {

using nlohmann::json;

namespace {

std::string cell(const std::string& html, std::string_view cls = "") {
  return cls.empty() ? "<td>" + html + "</td>"
                     : fmt::format("<td class=\"{}\">{}</td>", cls, html);
}

// A numeric cell: the value sorts by `data-sort`, missing values sort last.
std::string number_cell(std::optional<double> value, const std::string& shown, bool best) {
  if (!value) return "<td class=\"num missing\" data-sort=\"\">" + std::string(kMissing) + "</td>";
  return fmt::format("<td class=\"num{}\" data-sort=\"{:.9g}\">{}</td>", best ? " best" : "",
                     *value, html_escape(shown));
}

std::string fpga_resources_text(const json& resources) {
  std::string out;
  for (const char* key : {"lut", "ff", "dsp", "bram", "uram"}) {
    const auto count = number_at(resources, key);
    if (!count) continue;
    if (!out.empty()) out += " \u00b7 ";
    std::string upper(key);
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    out += upper + " " + format_count(*count);
    if (auto percent = number_at(resources, std::string(key) + "_percent")) {
      out += fmt::format(" ({:.0f} %)", *percent);
    }
  }
  const std::string device = string_at(resources, "device");
  if (!device.empty()) out += (out.empty() ? "" : " on ") + device;
  return out.empty() ? std::string(kMissing) : out;
}

// Index of the best finite value of `key` over targets without an error, if any.
std::optional<size_t> best_index(const json& targets, std::string_view key, bool lower) {
  std::optional<size_t> best;
  double best_value = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto v = number_at(targets[i], key);
    if (!v) continue;
    if (!best || (lower ? *v < best_value : *v > best_value)) best = i, best_value = *v;
  }
  return best;
}

std::string list_items(const json* strings) {
  std::string out;
  if (strings == nullptr) return out;
  for (const json& s : *strings) {
    if (s.is_string()) out += "<li>" + html_escape(s.get<std::string>()) + "</li>";
  }
  return out;
}

std::string config_text(const json* config) {
  if (config == nullptr || config->empty()) return std::string(kMissing);
  std::string out;
  for (const auto& [key, value] : config->items()) {
    if (!out.empty()) out += ", ";
    out += key + "=" + value_text(value);
  }
  return out;
}

// A figure named by its JSON key, formatted with the key's unit.
std::string figure_text(const std::string& key, const json& value) {
  if (!value.is_number()) return value_text(value);
  const double v = value.get<double>();
  if (!std::isfinite(v)) return std::string(kMissing);
  auto ends_with = [&](std::string_view suffix) {
    return key.size() >= suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(),
                                                      suffix) == 0;
  };
  if (ends_with("_seconds")) return format_si(v, "s");
  if (ends_with("_joules")) return format_si(v, "J");
  if (ends_with("_watts")) return format_si(v, "W");
  if (ends_with("_per_second")) return format_si(v, "/s");
  if (key == "area_mm2") return fmt::format("{:.3g} mm\u00b2", v);
  if (key == "accuracy" || key == "utilization") return format_percent(v, 2);
  return value_text(value);
}

std::string figures_table(const json* figures) {
  if (figures == nullptr || figures->empty()) return "";
  std::string out = "<table class=\"figures\"><tbody>";
  for (const auto& [key, value] : figures->items()) {
    out += "<tr><th>" + html_escape(key) + "</th><td>" + html_escape(figure_text(key, value)) +
           "</td></tr>";
  }
  return out + "</tbody></table>";
}

std::string constraint_text(const json& c) {
  if (!c.is_object()) return value_text(c);
  std::string out = string_at(c, "metric", "?") + " " + string_at(c, "op", "?") + " ";
  const auto it = c.find("value");
  out += it != c.end() ? figure_text(string_at(c, "metric"), *it) : std::string(kMissing);
  const std::string why = string_at(c, "why");
  if (!why.empty()) out += " (" + why + ")";
  return out;
}

}  // namespace

std::string method_badge(const std::string& method) {
  if (method.empty()) return "<span class=\"badge\">" + std::string(kMissing) + "</span>";
  const bool known = method == "measured" || method == "modelled" || method == "simulated";
  return fmt::format("<span class=\"badge{}\">{}</span>",
                     known ? " badge-" + method : std::string(), html_escape(method));
}

std::string header_section(const json& report) {
  const json& model = report["model"];
  const std::string name = string_at(model, "name", "?");
  std::string out = "<header><h1>Tessera comparison: <span class=\"model-name\">" +
                    html_escape(name) + "</span></h1><dl class=\"facts\">";
  auto fact = [&](std::string_view term, const std::string& text) {
    out += "<div><dt>" + html_escape(term) + "</dt><dd>" + html_escape(text) + "</dd></div>";
  };
  if (auto p = number_at(model, "parameters")) fact("parameters", format_count(*p));
  if (const json* shape = array_at(model, "input_shape")) fact("input shape", value_text(*shape));
  fact("dataset", string_at(model, "dataset", "none"));
  if (auto b = number_at(report, "batch")) {
    fact("throughput batch", format_count(*b));
  }
  fact("latency batch", "1");
  const std::string created = string_at(report, "created");
  if (!created.empty()) fact("created", created);
  out += "</dl>";
  if (const json* training = object_at(model, "training")) {
    out += "<p class=\"training\">Trained on <b>" +
           html_escape(string_at(*training, "device", "?")) + "</b>";
    if (auto e = number_at(*training, "epochs")) out += fmt::format(", {} epochs", format_count(*e));
    if (auto b = number_at(*training, "batch_size")) {
      out += ", batch " + format_count(*b);
    }
    if (auto s = number_at(*training, "seconds")) out += " in " + html_escape(format_si(*s, "s"));
    if (auto l = number_at(*training, "final_loss")) out += fmt::format("; final loss {:.4g}", *l);
    if (auto a = number_at(*training, "test_accuracy")) {
      out += "; test accuracy <b>" + html_escape(format_percent(*a, 2)) + "</b>";
    }
    out += ".</p>";
  } else {
    out += "<p class=\"training\">The model was not trained in this run.</p>";
  }
  return out + "</header>";
}

std::string comparison_table(const json& report) {
  const json& targets = report["targets"];
  if (targets.empty()) return "<p class=\"empty-chart\">No targets were compared.</p>";
  const std::string batch =
      number_at(report, "batch") ? format_count(*number_at(report, "batch")) : "B";
  const auto best_acc = best_index(targets, "accuracy", false);
  const auto best_lat = best_index(targets, "latency_seconds", true);
  const auto best_thr = best_index(targets, "throughput_per_second", false);
  const auto best_energy = best_index(targets, "energy_per_inference_joules", true);
  const auto best_power = best_index(targets, "power_watts", true);
  std::string out =
      "<div class=\"table-wrap\"><table id=\"comparison\" class=\"sortable\"><thead><tr>"
      "<th>target</th><th>hardware</th><th>method</th><th>numerics</th>"
      "<th class=\"num\">accuracy</th><th class=\"num\">latency<br><small>batch 1</small></th>"
      "<th class=\"num\">throughput<br><small>batch " +
      html_escape(batch) +
      "</small></th><th class=\"num\">energy<br><small>per inference</small></th>"
      "<th class=\"num\">power</th><th>area / FPGA resources</th>"
      "<th class=\"num\">utilization</th><th>bound</th><th>notes</th></tr></thead><tbody>";
  for (size_t i = 0; i < targets.size(); ++i) {
    const json& t = targets[i];
    const std::string name = string_at(t, "target", "?");
    out += fmt::format("<tr{}><td class=\"target\"><span class=\"swatch\" style=\"background:{}\">"
                       "</span>{}</td>",
                       string_at(t, "error").empty() ? "" : " class=\"failed\"", target_colour(i),
                       html_escape(name));
    out += cell(html_escape(string_at(t, "device", std::string(kMissing))), "hardware");
    out += cell(method_badge(string_at(t, "method")));
    const std::string error = string_at(t, "error");
    if (!error.empty()) {
      // A failed target keeps its row: the error takes the place of its figures.
      out += "<td colspan=\"10\" class=\"error\">error: " + html_escape(error) + "</td></tr>";
      continue;
    }
    out += cell(html_escape(string_at(t, "numerics", std::string(kMissing))));
    auto num = [&](std::string_view key, auto format, std::optional<size_t> best) {
      const auto v = number_at(t, key);
      out += number_cell(v, v ? format(*v) : std::string(), best && *best == i);
    };
    num("accuracy", [](double v) { return format_percent(v, 2); }, best_acc);
    num("latency_seconds", [](double v) { return format_si(v, "s"); }, best_lat);
    num("throughput_per_second", [](double v) { return format_si(v, "/s"); }, best_thr);
    num("energy_per_inference_joules", [](double v) { return format_si(v, "J"); }, best_energy);
    num("power_watts", [](double v) { return format_si(v, "W"); }, best_power);
    std::string area;
    if (auto a = number_at(t, "area_mm2")) area = fmt::format("{:.3g} mm\u00b2", *a);
    if (const json* res = object_at(t, "fpga_resources")) {
      area += (area.empty() ? "" : "; ") + fpga_resources_text(*res);
    }
    out += cell(area.empty() ? std::string(kMissing) : html_escape(area));
    num("utilization", [](double v) { return format_percent(v, 0); }, std::nullopt);
    out += cell(html_escape(string_at(t, "bound", std::string(kMissing))));
    // Simulators explain their assumptions at length: the notes fold away, so a row stays
    // one line high and the figures can be compared down the columns.
    const json* note_list = array_at(t, "notes");
    const std::string notes = list_items(note_list);
    out += cell(notes.empty() ? std::string()
                              : fmt::format("<details class=\"notes\"><summary>{} note{}</summary>"
                                            "<ul class=\"notes\">{}</ul></details>",
                                            note_list->size(), note_list->size() == 1 ? "" : "s",
                                            notes));
    out += "</tr>";
  }
  return out + "</tbody></table></div>";
}

std::string exploration_table(const json& exploration) {
  const json* points = array_at(exploration, "points");
  if (points == nullptr || points->empty()) {
    return "<p class=\"empty-chart\">The exploration has no points.</p>";
  }
  // Columns: the sweep's keys in order, then any other config key seen in a point.
  std::vector<std::string> keys;
  if (const json* sweep = object_at(exploration, "sweep")) {
    for (const auto& item : sweep->items()) keys.push_back(item.key());
  }
  for (const json& p : *points) {
    if (const json* config = object_at(p, "config")) {
      for (const auto& item : config->items()) {
        if (std::find(keys.begin(), keys.end(), item.key()) == keys.end()) {
          keys.push_back(item.key());
        }
      }
    }
  }
  std::string out =
      "<div class=\"table-wrap\"><table id=\"exploration-points\" class=\"sortable\"><thead><tr>"
      "<th class=\"num\">#</th>";
  for (const std::string& k : keys) out += "<th>" + html_escape(k) + "</th>";
  out += "<th class=\"num\">latency</th><th class=\"num\">energy</th>"
         "<th class=\"num\">accuracy</th><th class=\"num\">area</th>"
         "<th class=\"num\">throughput</th><th>Pareto</th><th>cache</th></tr></thead><tbody>";
  for (size_t i = 0; i < points->size(); ++i) {
    const json& p = (*points)[i];
    const auto pareto = p.find("pareto");
    const bool on_front = pareto != p.end() && pareto->is_boolean() && pareto->get<bool>();
    out += fmt::format("<tr{}><td class=\"num\" data-sort=\"{}\">{}</td>",
                       on_front ? " class=\"pareto\"" : "", i + 1, i + 1);
    const json* config = object_at(p, "config");
    for (const std::string& k : keys) {
      const auto v = config != nullptr ? config->find(k) : json::const_iterator();
      out += cell(config != nullptr && v != config->end() ? html_escape(value_text(*v))
                                                          : std::string(kMissing));
    }
    const std::string error = string_at(p, "error");
    if (!error.empty()) {
      out += "<td colspan=\"5\" class=\"error\">error: " + html_escape(error) + "</td>";
    } else {
      auto num = [&](std::string_view key, auto format) {
        const auto v = number_at(p, key);
        out += number_cell(v, v ? format(*v) : std::string(), false);
      };
      num("latency_seconds", [](double v) { return format_si(v, "s"); });
      num("energy_per_inference_joules", [](double v) { return format_si(v, "J"); });
      num("accuracy", [](double v) { return format_percent(v, 2); });
      num("area_mm2", [](double v) { return fmt::format("{:.3g} mm\u00b2", v); });
      num("throughput_per_second", [](double v) { return format_si(v, "/s"); });
    }
    out += cell(on_front ? "\u2605 yes" : "", on_front ? "pareto-mark" : "");
    const auto cached = p.find("cached");
    out += cell(cached != p.end() && cached->is_boolean() && cached->get<bool>() ? "cached" : "");
    out += "</tr>";
  }
  return out + "</tbody></table></div>";
}

std::string advice_section(const json& advice) {
  std::string out = "<div class=\"advice\">";
  const std::string scenario = string_at(advice, "scenario", "?");
  const auto met_it = advice.find("met");
  const bool has_met = met_it != advice.end() && met_it->is_boolean();
  const bool met = has_met && met_it->get<bool>();
  out += "<p class=\"scenario\">Scenario <b>" + html_escape(scenario) + "</b>";
  if (has_met) {
    out += met ? " <span class=\"verdict verdict-met\">all constraints met</span>"
               : " <span class=\"verdict verdict-unmet\">constraints not met</span>";
  }
  const std::string objective = string_at(advice, "objective");
  if (!objective.empty()) out += "; among the configurations that meet them, the best " +
                                 html_escape(objective) + " wins";
  out += ".</p>";
  if (const json* constraints = array_at(advice, "constraints"); constraints && !constraints->empty()) {
    out += "<h3>Constraints</h3><ul class=\"constraints\">";
    for (const json& c : *constraints) out += "<li>" + html_escape(constraint_text(c)) + "</li>";
    out += "</ul>";
  }
  if (const json* rec = object_at(advice, "recommendation")) {
    out += "<h3>Recommendation</h3><p class=\"recommendation\"><b>" +
           html_escape(string_at(*rec, "target", std::string(kMissing))) + "</b>";
    const json* config = object_at(*rec, "config");
    if (config != nullptr && !config->empty()) {
      out += " with " + html_escape(config_text(config));
    }
    out += "</p>" + figures_table(object_at(*rec, "figures"));
  } else {
    out += "<p class=\"recommendation\">No recommendation.</p>";
  }
  const std::string reasons = list_items(array_at(advice, "reasons"));
  if (!reasons.empty()) out += "<h3>Why</h3><ul class=\"reasons\">" + reasons + "</ul>";
  if (const json* unmet = array_at(advice, "unmet"); unmet && !unmet->empty()) {
    out += "<h3>Constraints that cannot be met</h3><ul class=\"unmet\">";
    for (const json& u : *unmet) {
      const auto c = u.find("constraint");
      out += "<li><b>" + html_escape(c != u.end() ? constraint_text(*c) : std::string("?")) +
             "</b>";
      const auto closest = u.find("closest");
      if (closest != u.end() && closest->is_object()) {
        out += "; closest: " + html_escape(string_at(*closest, "target", ""));
        const json* config = object_at(*closest, "config");
        if (config != nullptr && !config->empty()) out += " with " + html_escape(config_text(config));
        out += figures_table(object_at(*closest, "figures"));
      } else if (closest != u.end() && !closest->is_null()) {
        out += "; closest: " + html_escape(value_text(*closest));
      }
      out += "</li>";
    }
    out += "</ul>";
  }
  return out + "</div>";
}

}  // namespace tessera::report
