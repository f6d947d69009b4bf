// Phase diagrams: see phase_diagram.h.
#include "gradscope/report/phase_diagram.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"
#include "gradscope/rundir/summary_file.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

double as_number(const ConfigValue& v, const std::string& key) {
  switch (v.index()) {
    case 0:
      return double(std::get<int64_t>(v));
    case 1:
      return std::get<double>(v);
    case 2:
      return std::get<bool>(v) ? 1 : 0;
    default:
      throw std::invalid_argument(key + " is not a number; a phase-diagram axis needs one");
  }
}

struct Cell {
  std::vector<double> numbers;  // finite z values
  int missing = 0;              // runs where z is null (e.g. never generalized)
  std::map<std::string, int> labels;
};

// Cell edges for sorted values: uniform cells, or geometric midpoints on a log axis.
std::vector<double> edges(const std::vector<double>& v, bool log, const std::string& key) {
  std::vector<double> e;
  const size_t n = v.size();
  if (!log) {
    for (size_t i = 0; i <= n; ++i) e.push_back(double(i));
    return e;
  }
  for (double x : v)
    if (!(x > 0))
      throw std::invalid_argument(
          fmt::format("{} has the value {}; a log axis needs values > 0 "
                      "(drop --log for it)",
                      key, x));
  std::vector<double> l;
  for (double x : v) l.push_back(std::log10(x));
  const double step0 = n > 1 ? l[1] - l[0] : 1, step1 = n > 1 ? l[n - 1] - l[n - 2] : 1;
  e.push_back(l[0] - step0 / 2);
  for (size_t i = 0; i + 1 < n; ++i) e.push_back((l[i] + l[i + 1]) / 2);
  e.push_back(l[n - 1] + step1 / 2);
  return e;
}

// Viridis-like colour at t in [0, 1].
std::string ramp(double t) {
  static const double stops[5][3] = {
      {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  t = std::clamp(t, 0.0, 1.0) * 4;
  const int i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  int c[3];
  for (int k = 0; k < 3; ++k)
    c[k] = static_cast<int>(std::lround(stops[i][k] + f * (stops[i + 1][k] - stops[i][k])));
  return fmt::format("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
}

const std::map<std::string, std::string>& regime_colours() {
  static const std::map<std::string, std::string> c = {{"comprehension", "#2ca02c"},
                                                       {"grokking", "#ff7f0e"},
                                                       {"memorization", "#1f77b4"},
                                                       {"confusion", "#bbbbbb"}};
  return c;
}

std::string short_number(double v) {
  if (v == 0) return "0";
  if (std::abs(v) >= 1e4 || std::abs(v) < 1e-3) return fmt::format("{:.2g}", v);
  return fmt::format("{:.4g}", v);
}

}  // namespace

std::string write_phase_diagram(const fs::path& sweep_dir, const PhaseDiagramOptions& o,
                                const fs::path& svg) {
  const Config defaults;
  for (const std::string* k : {&o.x, &o.y}) {
    if (k->empty()) throw std::invalid_argument("a phase diagram needs --x KEY and --y KEY");
    defaults.value(*k);  // throws "unknown key ... (did you mean ...)"
  }
  const bool regime = o.z == "regime";
  static const std::vector<std::string> fields = {"memorized_step", "generalized_step",
                                                  "grokking_delay", "steps_done",
                                                  "wall_time_s",    "steps_per_s"};
  if (!regime && o.z.rfind("final.", 0) != 0 &&
      std::find(fields.begin(), fields.end(), o.z) == fields.end())
    throw std::invalid_argument(
        "--z " + o.z +
        " (valid: regime, memorized_step, generalized_step, grokking_delay, steps_done, "
        "wall_time_s, steps_per_s, or final.<metric> such as final.test_acc)");
  // Runs: (x, y) -> cell.
  std::map<std::pair<double, double>, Cell> cells;
  int used = 0, skipped = 0;
  std::vector<fs::path> dirs;
  if (fs::is_directory(sweep_dir))
    for (const auto& e : fs::directory_iterator(sweep_dir))
      if (e.is_directory() && rundir::is_run_dir(e.path())) dirs.push_back(e.path());
  for (const fs::path& d : dirs) {
    json s;
    Config c;
    try {
      const std::optional<Summary> summary = read_summary(d);
      if (!summary) throw std::runtime_error("no summary");
      s = json::parse(summary_to_json(*summary).dump());
      c = read_run_config(d);
    } catch (const std::exception&) {
      ++skipped;  // an unfinished or corrupt run: left out
      continue;
    }
    const double x = as_number(c.value(o.x), o.x), y = as_number(c.value(o.y), o.y);
    Cell& cell = cells[{x, y}];
    json z = nullptr;
    if (regime) {
      z = s.value("regime", json());
    } else if (o.z.rfind("final.", 0) == 0) {
      const std::string m = o.z.substr(6);
      if (s.contains("final") && s["final"].contains(m)) z = s["final"][m];
    } else if (s.contains(o.z)) {
      z = s[o.z];
    }
    if (regime && z.is_string())
      cell.labels[z.get<std::string>()]++;
    else if (z.is_number())
      cell.numbers.push_back(z.get<double>());
    else
      cell.missing++;
    ++used;
  }
  if (cells.empty()) throw std::invalid_argument(sweep_dir.string() + ": no finished runs to draw");

  std::vector<double> xs, ys;
  for (const auto& [k, c] : cells) xs.push_back(k.first), ys.push_back(k.second);
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  std::sort(ys.begin(), ys.end());
  ys.erase(std::unique(ys.begin(), ys.end()), ys.end());
  const std::vector<double> ex = edges(xs, o.log_x, o.x), ey = edges(ys, o.log_y, o.y);

  double zlo = INFINITY, zhi = -INFINITY;
  for (const auto& [k, c] : cells)
    for (double v : c.numbers) zlo = std::min(zlo, v), zhi = std::max(zhi, v);
  const bool zlog = zlo > 0 && zhi / zlo > 20;
  auto scale = [&](double v) {
    if (!(zhi > zlo)) return 0.5;
    return zlog ? (std::log(v) - std::log(zlo)) / (std::log(zhi) - std::log(zlo))
                : (v - zlo) / (zhi - zlo);
  };

  const double W = 720, H = 480, x0 = 110, y0 = 60, pw = 420, ph = 340;
  auto px = [&](double e) { return x0 + (e - ex.front()) / (ex.back() - ex.front()) * pw; };
  auto py = [&](double e) { return y0 + ph - (e - ey.front()) / (ey.back() - ey.front()) * ph; };
  std::string out = fmt::format(
      "<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' font-family='sans-serif'>\n"
      "<rect width='100%' height='100%' fill='white'/>\n"
      "<text x='{}' y='26' text-anchor='middle' font-size='16'>{}: {}</text>\n",
      W, H, x0 + pw / 2,
      sweep_dir.filename().empty() ? sweep_dir.parent_path().filename().string()
                                   : sweep_dir.filename().string(),
      o.z);
  for (size_t i = 0; i < xs.size(); ++i)
    for (size_t j = 0; j < ys.size(); ++j) {
      auto it = cells.find({xs[i], ys[j]});
      const double cx0 = px(ex[i]), cx1 = px(ex[i + 1]), cy0 = py(ey[j + 1]), cy1 = py(ey[j]);
      std::string fill = "#f4f4f4", text = "", ink = "#000";
      if (it != cells.end()) {
        const Cell& c = it->second;
        if (regime) {
          std::string best;
          int n = 0;
          for (const auto& [label, count] : c.labels)
            if (count > n) best = label, n = count;
          fill = regime_colours().count(best) ? regime_colours().at(best) : "#dddddd";
          text = best.substr(0, 5);
        } else if (!c.numbers.empty()) {
          double mean = 0;
          for (double v : c.numbers) mean += v / double(c.numbers.size());
          fill = ramp(scale(mean));
          if (scale(mean) < 0.6) ink = "#fff";  // light text on the dark end of the ramp
          text = short_number(mean) + (c.missing ? fmt::format(" ({} never)", c.missing) : "");
        } else {
          fill = "#dddddd";
          text = "never";
        }
      }
      out += fmt::format(
          "<rect x='{:.1f}' y='{:.1f}' width='{:.1f}' height='{:.1f}' fill='{}' stroke='white'/>\n",
          cx0, cy0, cx1 - cx0, cy1 - cy0, fill);
      if (!text.empty())
        out += fmt::format(
            "<text x='{:.1f}' y='{:.1f}' text-anchor='middle' font-size='10' fill='{}'>{}</text>\n",
            (cx0 + cx1) / 2, (cy0 + cy1) / 2 + 4, ink, text);
    }
  // Ticks at cell centres, axis labels.
  for (size_t i = 0; i < xs.size(); ++i)
    out += fmt::format("<text x='{:.1f}' y='{}' text-anchor='middle' font-size='11'>{}</text>\n",
                       (px(ex[i]) + px(ex[i + 1])) / 2, y0 + ph + 16, short_number(xs[i]));
  for (size_t j = 0; j < ys.size(); ++j)
    out += fmt::format("<text x='{}' y='{:.1f}' text-anchor='end' font-size='11'>{}</text>\n",
                       x0 - 6, (py(ey[j]) + py(ey[j + 1])) / 2 + 4, short_number(ys[j]));
  out += fmt::format("<text x='{}' y='{}' text-anchor='middle' font-size='13'>{}{}</text>\n",
                     x0 + pw / 2, y0 + ph + 38, o.x, o.log_x ? " (log)" : "");
  out += fmt::format(
      "<text transform='translate({},{}) rotate(-90)' text-anchor='middle' "
      "font-size='13'>{}{}</text>\n",
      x0 - 62, y0 + ph / 2, o.y, o.log_y ? " (log)" : "");
  // Legend.
  const double lx = x0 + pw + 20;
  if (regime) {
    int k = 0;
    for (const char* r : {"confusion", "memorization", "grokking", "comprehension"}) {
      const double ly = y0 + 10 + 22 * k++;
      out += fmt::format("<rect x='{}' y='{}' width='16' height='16' fill='{}'/>\n", lx, ly,
                         regime_colours().at(r));
      out += fmt::format("<text x='{}' y='{}' font-size='12'>{}</text>\n", lx + 22, ly + 12, r);
    }
  } else if (zhi >= zlo) {
    for (int k = 0; k <= 20; ++k)
      out += fmt::format("<rect x='{}' y='{:.1f}' width='16' height='{:.1f}' fill='{}'/>\n", lx,
                         y0 + ph - (k + 1) * ph / 21, ph / 21 + 0.5, ramp(k / 20.0));
    out += fmt::format("<text x='{}' y='{}' font-size='11'>{}</text>\n", lx + 22, y0 + 10,
                       short_number(zhi));
    out += fmt::format("<text x='{}' y='{}' font-size='11'>{}</text>\n", lx + 22, y0 + ph,
                       short_number(zlo));
    out += fmt::format("<text x='{}' y='{}' font-size='11'>{}</text>\n", lx + 22, y0 + ph / 2,
                       zlog ? "(log)" : "");
    out += fmt::format("<rect x='{}' y='{}' width='16' height='16' fill='#dddddd'/>\n", lx,
                       y0 + ph + 10);
    out += fmt::format("<text x='{}' y='{}' font-size='11'>never</text>\n", lx + 22, y0 + ph + 22);
  }
  out += "</svg>\n";
  write_file_atomic(svg, out);
  return fmt::format(
      "{} cells from {} runs{}", xs.size() * ys.size(), used,
      skipped ? fmt::format(" ({} unfinished or unreadable runs left out)", skipped) : "");
}

}  // namespace gradscope
