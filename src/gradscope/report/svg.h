// A tiny SVG plotting layer of our own: the primitives (rects, escaped texts), axes with decade or
// linear ticks, polylines, legends and a colour bar; enough for every plot gradscope draws
// (report/plot.cpp, report/rank_plots.cpp, report/emergence_plots.cpp, report/phase_diagram.cpp).
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

// How a text is drawn: font size, anchor (start, middle, end), colour, rotation in degrees about
// its anchor point, weight.
struct TextStyle {
  double size = 12;
  std::string anchor = "start";
  std::string fill = "#000";
  double rotate = 0;
  bool bold = false;
};

// A rectangle; an empty stroke draws no outline, opacity < 1 lets what is below show through.
std::string svg_rect(double x, double y, double w, double h, const std::string& fill,
                     const std::string& stroke = "", double opacity = 1);
// A text with its anchor point at (x, y); the text is XML-escaped.
std::string svg_text(double x, double y, const std::string& text, const TextStyle& style = {});
// `text` with &, <, >, ' and " escaped for XML.
std::string xml_escape(const std::string& text);

// One panel at (x0, y0) of size w x h: frame, title, ticks and grid, labels, curves, legend.
std::string panel(double x0, double y0, double w, double h, const Axis& ax, const Axis& ay,
                  const std::vector<Series>& series, const std::string& title,
                  const std::string& ylabel, const std::string& xlabel = "step",
                  bool legend = true);
// Curves against a second y axis on the right edge of a panel drawn by panel() at the same
// place: ticks and label on the right, polylines mapped with ay (no grid, no legend).
std::string right_axis(double x0, double y0, double w, double h, const Axis& ax, const Axis& ay,
                       const std::vector<Series>& series, const std::string& ylabel);
// A whole SVG document of size w x h on white with a centred title (none when empty) and the
// given body.
std::string svg_document(double w, double h, const std::string& title, const std::string& body);
// A legend (the series with a label) in a white box with its top-left corner at (x, y).
std::string legend_box(double x, double y, const std::vector<Series>& series);
// A column of 16-pixel colour swatches, each labelled on its right in font size `size`, from
// (x, y) downwards: (label, colour) pairs, 22 pixels apart.
std::string swatch_legend(double x, double y,
                          const std::vector<std::pair<std::string, std::string>>& entries,
                          double size = 12);
// A vertical colour bar of ramp_colour from lo (bottom) to hi (top), 16 pixels wide and h high
// with its top-left corner at (x, y); hi_label at the top, lo_label at the bottom and note
// halfway, on its right.
std::string colour_bar(double x, double y, double h, const std::string& lo_label,
                       const std::string& hi_label, const std::string& note = "");
// A log axis spanning the decades of the points' y values.
Axis log_axis(const std::vector<std::pair<double, double>>& pts);
// The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (times a power of 10) at or above v > 0:
// the end of a linear axis with round ticks.
double nice_ceiling(double v);
// The i-th colour of a 10-colour palette (wraps).
const char* palette(size_t i);
// A viridis-like colour ramp at t in [0, 1] (clamped): dark purple, blue, green, yellow.
std::string ramp_colour(double t);

}  // namespace gradscope
