// Phase diagrams: see phase_diagram.h.
#include "gradscope/report/phase_diagram.h"
#include "gradscope/report/style.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/index/results_index.h"
#include "gradscope/report/svg.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/paths.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;
using Row = std::vector<std::string>;
using Columns = std::map<std::string, size_t>;  // column name -> position in a Row

double as_number(const ConfigValue& v, const std::string& key) {
  switch (v.index()) {
    case 0:
      return double(std::get<int64_t>(v));
    case 1:
      return std::get<double>(v);
    case 2:
      return std::get<bool>(v) ? 1 : 0;
    default:
      throw std::invalid_argument(
          key + " is not a number; a plot axis needs one (valid: a numeric config key)");
  }
}

const std::vector<std::string>& summary_fields() {
  static const std::vector<std::string> fields = {
      "memorized_step", "generalized_step", "grokking_delay", "steps_done",
      "n_params",       "wall_time_s",      "steps_per_s"};
  return fields;
}
bool is_summary_field(const std::string& f) {
  return std::find(summary_fields().begin(), summary_fields().end(), f) != summary_fields().end();
}

// Throws std::invalid_argument naming `option` when `field` is neither a summary field nor
// final.<metric> (nor regime, where a label may be drawn).
void check_field(const std::string& option, const std::string& field, bool regime) {
  if ((regime && field == "regime") || field.rfind("final.", 0) == 0 || is_summary_field(field))
    return;
  std::string valid = regime ? "regime, " : "";
  for (const std::string& f : summary_fields()) valid += f + ", ";
  throw std::invalid_argument(option + " " + field + " (valid: " + valid +
                              "or final.<metric> such as final.test_acc)");
}

// Throws std::invalid_argument when x or y is not a numeric config key or z is unknown.
void validate(const PhaseDiagramOptions& o) {
  const Config defaults;
  for (const std::string* k : {&o.x, &o.y}) {
    if (k->empty()) throw std::invalid_argument("a phase diagram needs --x KEY and --y KEY");
    as_number(defaults.value(*k), *k);  // value() throws "unknown key ... (did you mean ...)"
  }
  check_field("--z", o.z, true);
}

std::optional<double> parse_number(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') return std::nullopt;
  return v;
}

// Whether a run with this status has a summary (it ended); the others are unfinished.
bool has_summary(const std::string& status) {
  return status == "completed" || status == "diverged" || status == "interrupted";
}

struct Cell {
  std::vector<double> numbers;  // finite z values
  int missing = 0;              // runs where z is null (e.g. never generalized)
  std::map<std::string, int> labels;
};

// The finished runs of a sweep by (x, y), and how many runs were left out as unfinished.
struct Grid {
  std::map<std::pair<double, double>, Cell> cells;
  int used = 0, unfinished = 0;
};

// A run's value of a numeric config key.
double axis_value(const Row& row, const Columns& col, const std::string& key) {
  const std::optional<double> v = parse_number(row[col.at(key)]);
  if (!v)
    throw std::invalid_argument(fmt::format(
        "{}: {} is missing from the index (`gradscope index rebuild ROOT` refreshes it)",
        row[col.at("dir")], key));
  return *v;
}

// A run's z as the index holds it: a number, a label (regime), or empty (null). final.<metric>
// is the final_<metric> column where there is one, else the metric's last logged value.
std::string z_text(ResultsIndex& index, const Row& row, const Columns& col, const std::string& z) {
  if (z.rfind("final.", 0) != 0) return row[col.at(z)];
  const std::string metric = z.substr(6);
  if (col.count("final_" + metric)) return row[col.at("final_" + metric)];
  const std::optional<double> v = index.final_metric(row[col.at("dir")], metric);
  return v ? fmt::format("{}", *v) : "";
}

// The runs indexed with sweep = the sweep directory's name, in the index of its runs root: the
// finished ones, and how many are not.
struct SweepRows {
  std::unique_ptr<ResultsIndex> index;
  std::vector<Row> finished;
  Columns col;
  int unfinished = 0;
};
SweepRows sweep_rows(const fs::path& sweep) {
  const fs::path root = sweep.parent_path(), db = rundir::index_file(root);
  if (!fs::exists(db))
    throw std::invalid_argument(
        fmt::format("{}: no results index (`gradscope index rebuild {}` makes one)", db.string(),
                    root.string()));
  SweepRows s;
  s.index = std::make_unique<ResultsIndex>(db, IndexAccess::read);
  std::vector<std::string> names;
  for (Row& row : s.index->select({}, names)) {
    if (s.col.empty())
      for (size_t i = 0; i < names.size(); ++i) s.col[names[i]] = i;
    if (row[s.col.at("sweep")] != sweep.filename().string()) continue;
    if (has_summary(row[s.col.at("status")]))
      s.finished.push_back(std::move(row));
    else
      ++s.unfinished;
  }
  return s;
}

Grid read_grid(const fs::path& sweep, const PhaseDiagramOptions& o) {
  SweepRows s = sweep_rows(sweep);
  ResultsIndex& index = *s.index;
  const Columns& col = s.col;
  Grid g;
  g.unfinished = s.unfinished;
  bool any_z = false;  // a final.<metric> no run logs at all is a misspelling, not "never"
  for (const Row& row : s.finished) {
    Cell& cell = g.cells[{axis_value(row, col, o.x), axis_value(row, col, o.y)}];
    const std::string z = z_text(index, row, col, o.z);
    any_z = any_z || !z.empty();
    const std::optional<double> v = parse_number(z);
    if (o.z == "regime" && !z.empty())
      cell.labels[z]++;
    else if (o.z != "regime" && v && std::isfinite(*v))
      cell.numbers.push_back(*v);
    else
      cell.missing++;
    ++g.used;
  }
  if (!any_z && !s.finished.empty() && o.z.rfind("final.", 0) == 0 &&
      !col.count("final_" + o.z.substr(6)) && !index.has_metric(o.z.substr(6)))
    throw std::invalid_argument(fmt::format(
        "--z {}: no finished run of {} has a value of it (valid: final.<a metric its runs log>, "
        "such as final.test_acc)",
        o.z, sweep.filename().string()));
  return g;
}

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
      throw std::invalid_argument(fmt::format(
          "{} has the value {}; a log axis needs values > 0 (drop --log for it)", key, x));
  std::vector<double> l;
  for (double x : v) l.push_back(std::log10(x));
  const double step0 = n > 1 ? l[1] - l[0] : 1, step1 = n > 1 ? l[n - 1] - l[n - 2] : 1;
  e.push_back(l[0] - step0 / 2);
  for (size_t i = 0; i + 1 < n; ++i) e.push_back((l[i] + l[i + 1]) / 2);
  e.push_back(l[n - 1] + step1 / 2);
  return e;
}

// Where the cells go: the distinct x and y values, their cell edges, and the plot box.
struct Layout {
  static constexpr double W = 720, H = 480, x0 = 110, y0 = 60, pw = 420, ph = 340;
  std::vector<double> xs, ys, ex, ey;
  Layout(const Grid& g, const PhaseDiagramOptions& o) {
    for (const auto& [k, c] : g.cells) xs.push_back(k.first), ys.push_back(k.second);
    for (std::vector<double>* v : {&xs, &ys}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    ex = edges(xs, o.log_x, o.x);
    ey = edges(ys, o.log_y, o.y);
  }
  double px(double e) const { return x0 + (e - ex.front()) / (ex.back() - ex.front()) * pw; }
  double py(double e) const { return y0 + ph - (e - ey.front()) / (ey.back() - ey.front()) * ph; }
};

// The colour scale of numeric z values: linear, or log when they span more than a factor 20.
struct ZScale {
  double lo = INFINITY, hi = -INFINITY;
  bool log = false;
  explicit ZScale(const Grid& g) {
    for (const auto& [k, c] : g.cells)
      for (double v : c.numbers) lo = std::min(lo, v), hi = std::max(hi, v);
    log = lo > 0 && hi / lo > 20;
  }
  double operator()(double v) const {  // v -> [0, 1]
    if (!(hi > lo)) return 0.5;
    return log ? (std::log(v) - std::log(lo)) / (std::log(hi) - std::log(lo))
               : (v - lo) / (hi - lo);
  }
};

std::string short_number(double v) {
  if (v == 0) return "0";
  if (std::abs(v) >= 1e4 || std::abs(v) < 1e-3) return fmt::format("{:.2g}", v);
  return fmt::format("{:.4g}", v);
}

std::string most_common(const std::map<std::string, int>& labels) {
  std::string best;
  int n = 0;
  for (const auto& [label, count] : labels)
    if (count > n) best = label, n = count;
  return best;
}

// One cell (null: no runs there) in the box from (x0, y0) to (x1, y1): its fill, and inside it
// the regime, or the mean and how many runs never got there.
std::string cell_svg(const Cell* cell, bool regime, const ZScale& z, double x0, double y0,
                     double x1, double y1) {
  std::string fill = style::kEmpty, text, ink = "#000";
  if (cell && regime) {
    const std::string best = most_common(cell->labels);
    fill = style::regime_colour(best);
    text = best.substr(0, 5);
  } else if (cell && !cell->numbers.empty()) {
    double mean = 0;
    for (double v : cell->numbers) mean += v / double(cell->numbers.size());
    fill = ramp_colour(z(mean));
    if (z(mean) < 0.6) ink = "#fff";  // light text on the dark end of the ramp
    text = short_number(mean) + (cell->missing ? fmt::format(" ({} never)", cell->missing) : "");
  } else if (cell) {
    fill = style::kMissing;
    text = "never";
  }
  std::string s = svg_rect(x0, y0, x1 - x0, y1 - y0, fill, "white");
  if (!text.empty())
    s += svg_text((x0 + x1) / 2, (y0 + y1) / 2 + 4, text,
                  {.size = 10, .anchor = "middle", .fill = ink});
  return s;
}

// Ticks at the cell centres and the axis labels.
std::string axes_svg(const Layout& l, const PhaseDiagramOptions& o) {
  std::string s;
  for (size_t i = 0; i < l.xs.size(); ++i)
    s += svg_text((l.px(l.ex[i]) + l.px(l.ex[i + 1])) / 2, l.y0 + l.ph + 16, short_number(l.xs[i]),
                  {.size = 11, .anchor = "middle"});
  for (size_t j = 0; j < l.ys.size(); ++j)
    s += svg_text(l.x0 - 6, (l.py(l.ey[j]) + l.py(l.ey[j + 1])) / 2 + 4, short_number(l.ys[j]),
                  {.size = 11, .anchor = "end"});
  s += svg_text(l.x0 + l.pw / 2, l.y0 + l.ph + 38, o.x + (o.log_x ? " (log)" : ""),
                {.size = 13, .anchor = "middle"});
  s += svg_text(l.x0 - 62, l.y0 + l.ph / 2, o.y + (o.log_y ? " (log)" : ""),
                {.size = 13, .anchor = "middle", .rotate = -90});
  return s;
}

// The regime swatches, or the colour bar of numeric z with a swatch for "never".
std::string legend_svg(const Layout& l, bool regime, const ZScale& z) {
  const double lx = l.x0 + l.pw + 20;
  if (regime) {
    std::vector<std::pair<std::string, std::string>> entries;
    for (const style::RegimeColour& r : style::kRegimes) entries.emplace_back(r.regime, r.colour);
    return swatch_legend(lx, l.y0 + 10, entries);
  }
  if (!(z.hi >= z.lo)) return "";
  return colour_bar(lx, l.y0, l.ph, short_number(z.lo), short_number(z.hi), z.log ? "(log)" : "") +
         swatch_legend(lx, l.y0 + l.ph + 10, {{"never", style::kMissing}}, 11);
}

}  // namespace

std::string write_phase_diagram(const fs::path& sweep_dir, const PhaseDiagramOptions& o,
                                const fs::path& svg) {
  validate(o);
  const fs::path dir = fs::absolute(sweep_dir).lexically_normal();
  const fs::path sweep = dir.has_filename() ? dir : dir.parent_path();
  const Grid grid = read_grid(sweep, o);
  if (grid.cells.empty())
    throw std::invalid_argument(sweep_dir.string() + ": no finished runs to draw");
  const Layout l(grid, o);
  const ZScale z(grid);
  std::string body = svg_text(l.x0 + l.pw / 2, 26, sweep.filename().string() + ": " + o.z,
                              {.size = 16, .anchor = "middle"});
  for (size_t i = 0; i < l.xs.size(); ++i)
    for (size_t j = 0; j < l.ys.size(); ++j) {
      const auto it = grid.cells.find({l.xs[i], l.ys[j]});
      body += cell_svg(it == grid.cells.end() ? nullptr : &it->second, o.z == "regime", z,
                       l.px(l.ex[i]), l.py(l.ey[j + 1]), l.px(l.ex[i + 1]), l.py(l.ey[j]));
    }
  body += axes_svg(l, o) + legend_svg(l, o.z == "regime", z);
  write_file_atomic(svg, svg_document(Layout::W, Layout::H, "", body));
  return fmt::format(
      "{} cells from {} runs{}", l.xs.size() * l.ys.size(), grid.used,
      grid.unfinished ? fmt::format(" ({} unfinished runs left out)", grid.unfinished) : "");
}

namespace {

// One line: its label and each x's values over the runs (seeds) at that x.
struct Line {
  std::string label;
  Spread at;
};

// The lines of the finished runs: one per y field, or per y field and value of o.by.
std::vector<Line> read_lines(SweepRows& s, const SweepLinesOptions& o) {
  for (const std::string& key : {o.x, o.by})
    if (!key.empty() && !s.col.count(key))
      throw std::invalid_argument(key + " is not in the index (`gradscope index rebuild` " +
                                  "adds newer columns)");
  std::map<std::pair<size_t, double>, Line> lines;  // (y, group) -> line
  for (const Row& row : s.finished) {
    const double x = axis_value(row, s.col, o.x);
    const double group = o.by.empty() ? 0.0 : axis_value(row, s.col, o.by);
    for (size_t k = 0; k < o.y.size(); ++k) {
      const std::optional<double> v = parse_number(z_text(*s.index, row, s.col, o.y[k]));
      if (!v || !std::isfinite(*v)) continue;
      Line& line = lines[{k, group}];
      line.label = o.by.empty() ? o.y[k] : fmt::format("{}, {} = {}", o.y[k], o.by, group);
      line.at[x].push_back(*v);
    }
  }
  for (size_t k = 0; k < o.y.size(); ++k)
    if (std::none_of(lines.begin(), lines.end(),
                     [&](const auto& l) { return l.first.first == k; }) &&
        !s.finished.empty())
      throw std::invalid_argument("--y " + o.y[k] + ": no finished run has a value of it");
  std::vector<Line> out;
  for (auto& [key, line] : lines) out.push_back(std::move(line));
  return out;
}

// The mean line (solid, labelled) and the min and max lines (dashed) of each line.
std::vector<Series> line_series(const std::vector<Line>& lines, const SweepLinesOptions& o) {
  std::vector<Series> out;
  for (size_t k = 0; k < lines.size(); ++k)
    for (Series& s : spread_series(lines[k].at, lines[k].label, palette(k), o.log_x, o.log_y))
      out.push_back(std::move(s));
  return out;
}

// An axis over the values: log (decades) or linear from 0 (or the least value, if negative) to a
// round ceiling.
Axis axis_over(const std::vector<double>& v, bool log) {
  const auto [a, b] = std::minmax_element(v.begin(), v.end());
  if (log) {
    std::vector<std::pair<double, double>> pts;
    for (double x : v) pts.emplace_back(0, x);
    return log_axis(pts);
  }
  const double lo = std::min(0.0, *a), hi = *b > lo ? nice_ceiling(*b) : lo + 1;
  return {lo, hi, false};
}

}  // namespace

std::vector<Series> spread_series(const Spread& at, const std::string& label,
                                  const std::string& color, bool log_x, bool log_y) {
  Series mean{label, color, {}}, lo{"", color, {}, true}, hi{"", color, {}, true};
  for (const auto& [x, vs] : at) {
    if (log_x && !(x > 0)) continue;
    double m = 0;
    for (double v : vs) m += v / double(vs.size());
    const auto [a, b] = std::minmax_element(vs.begin(), vs.end());
    if (log_y && !(*a > 0)) continue;
    mean.points.emplace_back(x, m);
    lo.points.emplace_back(x, *a);
    hi.points.emplace_back(x, *b);
  }
  if (lo.points == mean.points) return {mean};
  return {mean, lo, hi};
}

std::string write_sweep_lines(const fs::path& sweep_dir, const SweepLinesOptions& o,
                              const fs::path& svg) {
  if (o.x.empty() || o.y.empty()) throw std::invalid_argument("lines need --x KEY and --y FIELD");
  if (!is_summary_field(o.x)) as_number(Config().value(o.x), o.x);  // throws for unknown keys
  for (const std::string& y : o.y) check_field("--y", y, false);
  const fs::path dir = fs::absolute(sweep_dir).lexically_normal();
  const fs::path sweep = dir.has_filename() ? dir : dir.parent_path();
  if (!o.by.empty()) as_number(Config().value(o.by), o.by);  // throws for unknown keys
  SweepRows rows = sweep_rows(sweep);
  const std::vector<Line> lines = read_lines(rows, o);
  const std::vector<Series> series = line_series(lines, o);
  std::vector<double> xs, ys;
  for (const Series& s : series)
    for (const auto& [x, y] : s.points) xs.push_back(x), ys.push_back(y);
  if (xs.empty())
    throw std::invalid_argument(sweep_dir.string() + ": no finished runs with these fields");
  std::string ylabel;
  for (const std::string& y : o.y) ylabel += (ylabel.empty() ? "" : ", ") + y;
  const std::string body =
      panel(80, 50, 620, 380, axis_over(xs, o.log_x), axis_over(ys, o.log_y), series,
            sweep.filename().string() + ": mean over seeds (dashed: min and max)", ylabel,
            o.x + (o.log_x ? " (log)" : ""));
  write_file_atomic(svg, svg_document(760, 490, "", body));
  std::set<double> distinct(xs.begin(), xs.end());
  size_t all = 0, drawn = 0;  // points of the lines, and those drawn (x, y > 0 on a log axis)
  for (const Line& l : lines) all += l.at.size();
  for (const Series& sr : series)
    if (!sr.dashed) drawn += sr.points.size();
  return fmt::format(
      "{} line(s) over {} x values from {} runs{}{}", lines.size(), distinct.size(),
      rows.finished.size(),
      rows.unfinished ? fmt::format(" ({} unfinished runs left out)", rows.unfinished) : "",
      all > drawn ? fmt::format(" ({} points at x or y <= 0 left off the log axis)", all - drawn)
                  : "");
}

}  // namespace gradscope
