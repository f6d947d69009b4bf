// SVG curve plots: see plot.h. A tiny plotting layer of our own: axes with decade or linear
// ticks, polylines, a legend; enough for every curve gradscope draws.
#include "gradscope/report/plot.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "gradscope/run/config.h"
#include "gradscope/run/run_files.h"

namespace gradscope {
namespace {

struct Series {
  std::string label, color;
  std::vector<std::pair<double, double>> points;  // (x, y), finite and plottable only
};

struct Axis {
  double lo, hi;
  bool log;
  double map(double v, double a, double b) const {  // data -> pixels between a and b
    const double t = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo))
                         : (v - lo) / (hi - lo);
    return a + t * (b - a);
  }
};

std::string tick_label(double v, bool log) {
  if (log) {
    const int e = static_cast<int>(std::lround(std::log10(v)));
    if (e >= 0 && e <= 5) return fmt::format("{}", static_cast<int64_t>(std::llround(v)));
    return fmt::format("1e{}", e);
  }
  return fmt::format("{:g}", v);
}

// One panel at (x0, y0) of size w x h.
std::string panel(double x0, double y0, double w, double h, const Axis& ax, const Axis& ay,
                  const std::vector<Series>& series, const std::string& title,
                  const std::string& ylabel) {
  std::string s;
  s += fmt::format("<rect x='{}' y='{}' width='{}' height='{}' fill='white' stroke='#444'/>\n", x0,
                   y0, w, h);
  s += fmt::format(
      "<text x='{}' y='{}' text-anchor='middle' font-size='15' font-weight='bold'>{}</text>\n",
      x0 + w / 2, y0 - 10, title);
  // x ticks (decades) with grid lines.
  for (double v = std::pow(10.0, std::floor(std::log10(ax.lo))); v <= ax.hi * 1.0001; v *= 10) {
    if (v < ax.lo * 0.9999) continue;
    const double px = ax.map(v, x0, x0 + w);
    s += fmt::format("<line x1='{0}' y1='{1}' x2='{0}' y2='{2}' stroke='#ddd'/>\n", px, y0, y0 + h);
    s += fmt::format("<text x='{}' y='{}' text-anchor='middle' font-size='12'>{}</text>\n", px,
                     y0 + h + 16, tick_label(v, true));
  }
  s += fmt::format("<text x='{}' y='{}' text-anchor='middle' font-size='13'>step</text>\n",
                   x0 + w / 2, y0 + h + 36);
  // y ticks.
  std::vector<double> yt;
  if (ay.log) {
    const double first = std::pow(10.0, std::ceil(std::log10(ay.lo)));
    const int decades = static_cast<int>(std::log10(ay.hi / ay.lo));
    const double stride = std::pow(10.0, std::max(1, decades / 6));
    for (double v = first; v <= ay.hi * 1.0001; v *= stride) yt.push_back(v);
  } else {
    for (int i = 0; i <= 5; ++i) yt.push_back(ay.lo + (ay.hi - ay.lo) * i / 5);
  }
  for (double v : yt) {
    const double py = ay.map(v, y0 + h, y0);
    s += fmt::format("<line x1='{0}' y1='{1}' x2='{2}' y2='{1}' stroke='#ddd'/>\n", x0, py, x0 + w);
    s += fmt::format("<text x='{}' y='{}' text-anchor='end' font-size='12'>{}</text>\n", x0 - 6,
                     py + 4, tick_label(v, ay.log));
  }
  s += fmt::format(
      "<text transform='translate({},{}) rotate(-90)' text-anchor='middle' "
      "font-size='13'>{}</text>\n",
      x0 - 52, y0 + h / 2, ylabel);
  // Curves.
  for (const Series& sr : series) {
    std::string pts;
    for (const auto& [x, y] : sr.points)
      pts += fmt::format("{:.1f},{:.1f} ", ax.map(x, x0, x0 + w),
                         ay.map(std::clamp(y, ay.lo, ay.hi), y0 + h, y0));
    s += fmt::format("<polyline fill='none' stroke='{}' stroke-width='2' points='{}'/>\n", sr.color,
                     pts);
  }
  // Legend, on a white box.
  s += fmt::format("<rect x='{}' y='{}' width='112' height='{}' fill='white' stroke='#ccc'/>\n",
                   x0 + w - 128, y0 + 4, 8 + 18 * static_cast<double>(series.size()));
  for (size_t i = 0; i < series.size(); ++i) {
    const double ly = y0 + 16 + 18 * static_cast<double>(i);
    s += fmt::format("<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='{}' stroke-width='3'/>\n",
                     x0 + w - 120, ly - 4, x0 + w - 96, ly - 4, series[i].color);
    s += fmt::format("<text x='{}' y='{}' font-size='12'>{}</text>\n", x0 + w - 90, ly,
                     series[i].label);
  }
  return s;
}

}  // namespace

void write_curves_svg(const std::filesystem::path& run_dir, const std::filesystem::path& svg) {
  const std::vector<MetricsRow> rows = read_metrics(run_dir);
  Series train_loss{"train", "#1f77b4", {}}, test_loss{"test", "#d62728", {}};
  Series train_acc{"train", "#1f77b4", {}}, test_acc{"test", "#d62728", {}};
  for (const MetricsRow& r : rows) {
    const double x = double(r.step());
    if (x < 1) continue;
    auto add = [&](Series& s, const char* key, bool positive) {
      const double y = r.get(key);
      if (std::isfinite(y) && (!positive || y > 0)) s.points.emplace_back(x, y);
    };
    add(train_loss, "train_loss", true);
    add(test_loss, "test_loss", true);
    add(train_acc, "train_acc", false);
    add(test_acc, "test_acc", false);
  }
  if (train_loss.points.empty())
    throw std::runtime_error(run_dir.string() +
                             "/metrics.jsonl: no logged steps after step 0 to plot");
  const double xmax = train_loss.points.back().first;
  const Axis ax{1.0, std::pow(10.0, std::ceil(std::log10(std::max(xmax, 10.0)))), true};
  double lmin = INFINITY, lmax = 0;
  for (const Series* s : {&train_loss, &test_loss})
    for (const auto& p : s->points)
      lmin = std::min(lmin, p.second), lmax = std::max(lmax, p.second);
  const Axis ay_loss{std::pow(10.0, std::floor(std::log10(lmin))),
                     std::pow(10.0, std::ceil(std::log10(lmax))), true};
  const Axis ay_acc{0.0, 1.0, false};
  // Title: the run's name and seed from its config.toml, else the directory's name.
  std::string name = run_dir.filename().empty() ? run_dir.parent_path().filename().string()
                                                : run_dir.filename().string();
  if (std::filesystem::exists(run_dir / "config.toml")) {
    const Config c = Config::from_file(run_dir / "config.toml");
    name = fmt::format("{} (seed {})", c.string("name"), c.integer("seed"));
  }
  std::string out =
      "<svg xmlns='http://www.w3.org/2000/svg' width='1100' height='460' "
      "font-family='sans-serif'>\n"
      "<rect width='100%' height='100%' fill='white'/>\n";
  out += fmt::format("<text x='550' y='24' text-anchor='middle' font-size='17'>{}</text>\n", name);
  out +=
      panel(90, 70, 420, 320, ax, ay_loss, {train_loss, test_loss}, "loss (cross-entropy)", "loss");
  out += panel(630, 70, 420, 320, ax, ay_acc, {train_acc, test_acc}, "accuracy", "accuracy");
  out += "</svg>\n";
  write_file_atomic(svg, out);
}

}  // namespace gradscope
