// A tiny SVG plotting layer of our own: axes with decade or linear ticks, polylines, a legend;
// enough for every curve gradscope draws (report/plot.cpp, report/rank_plots.cpp).
#pragma once

#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace gradscope {

// One curve: points (x, y), finite and plottable only; an empty label keeps it out of the legend.
struct Series {
  std::string label, color;
  std::vector<std::pair<double, double>> points;  // (x, y), finite and plottable only
  bool dashed = false;
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

// One panel at (x0, y0) of size w x h: frame, title, ticks and grid, labels, curves, legend.
std::string panel(double x0, double y0, double w, double h, const Axis& ax, const Axis& ay,
                  const std::vector<Series>& series, const std::string& title,
                  const std::string& ylabel, const std::string& xlabel = "step",
                  bool legend = true);
// Curves against a second y axis on the right edge of a panel drawn by panel() at the same
// place: ticks and label on the right, polylines mapped with ay (no grid, no legend).
std::string right_axis(double x0, double y0, double w, double h, const Axis& ax, const Axis& ay,
                       const std::vector<Series>& series, const std::string& ylabel);
// A whole SVG document of size w x h with a centred title and the given body.
std::string svg_document(double w, double h, const std::string& title, const std::string& body);
// A legend (the series with a label) in a white box with its top-left corner at (x, y).
std::string legend_box(double x, double y, const std::vector<Series>& series);
// A log axis spanning the decades of the points' y values.
Axis log_axis(const std::vector<std::pair<double, double>>& pts);
// The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (times a power of 10) at or above v > 0:
// the end of a linear axis with round ticks.
double nice_ceiling(double v);
// The i-th colour of a 10-colour palette (wraps).
const char* palette(size_t i);

}  // namespace gradscope
