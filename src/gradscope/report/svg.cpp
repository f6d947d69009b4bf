// The SVG plotting layer: see svg.h.
#include "gradscope/report/svg.h"
#include "gradscope/report/style.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace gradscope {

namespace {
// A coordinate with at most two decimals, trailing zeros dropped.
std::string num(double v) {
  std::string s = fmt::format("{:.2f}", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string tick_label(double v, bool log) {
  if (log) {
    const int e = static_cast<int>(std::lround(std::log10(v)));
    if (e >= 0 && e <= 5) return fmt::format("{}", static_cast<int64_t>(std::llround(v)));
    return fmt::format("1e{}", e);
  }
  return fmt::format("{:.4g}", v);
}

// The series as polylines in the box (x0, y0, w, h), y clamped to the axis; a series of one
// point as a dot (a polyline of one point draws nothing).
std::string polylines(double x0, double y0, double w, double h, const Axis& ax, const Axis& ay,
                      const std::vector<Series>& series) {
  std::string s;
  for (const Series& sr : series) {
    if (sr.points.size() == 1) {
      const auto [x, y] = sr.points[0];
      s += fmt::format("<circle cx='{:.1f}' cy='{:.1f}' r='4' fill='{}'/>\n", ax.map(x, x0, x0 + w),
                       ay.map(std::clamp(y, ay.lo, ay.hi), y0 + h, y0), sr.color);
      continue;
    }
    std::string pts;
    for (const auto& [x, y] : sr.points)
      pts += fmt::format("{:.1f},{:.1f} ", ax.map(x, x0, x0 + w),
                         ay.map(std::clamp(y, ay.lo, ay.hi), y0 + h, y0));
    s += fmt::format("<polyline fill='none' stroke='{}' stroke-width='2'{} points='{}'/>\n",
                     sr.color, sr.dashed ? " stroke-dasharray='6,4'" : "", pts);
  }
  return s;
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string svg_rect(double x, double y, double w, double h, const std::string& fill,
                     const std::string& stroke, double opacity) {
  return fmt::format("<rect x='{}' y='{}' width='{}' height='{}' fill='{}'{}{}/>\n", num(x), num(y),
                     num(w), num(h), fill, stroke.empty() ? "" : " stroke='" + stroke + "'",
                     opacity < 1 ? " fill-opacity='" + num(opacity) + "'" : "");
}

std::string svg_text(double x, double y, const std::string& text, const TextStyle& style) {
  const std::string at = style.rotate == 0 ? fmt::format("x='{}' y='{}'", num(x), num(y))
                                           : fmt::format("transform='translate({},{}) rotate({})'",
                                                         num(x), num(y), num(style.rotate));
  return fmt::format("<text {} text-anchor='{}' font-size='{}' fill='{}'{}>{}</text>\n", at,
                     style.anchor, num(style.size), style.fill,
                     style.bold ? " font-weight='bold'" : "", xml_escape(text));
}

// One panel at (x0, y0) of size w x h.
std::string panel(double x0, double y0, double w, double h, const Axis& ax, const Axis& ay,
                  const std::vector<Series>& series, const std::string& title,
                  const std::string& ylabel, const std::string& xlabel, bool legend) {
  std::string s;
  s += svg_rect(x0, y0, w, h, "white", "#444");
  s += svg_text(x0 + w / 2, y0 - 10, title, {.size = 15, .anchor = "middle", .bold = true});
  // x ticks (decades, or 5 linear steps) with grid lines.
  std::vector<double> xt;
  if (ax.log) {
    for (double v = std::pow(10.0, std::floor(std::log10(ax.lo))); v <= ax.hi * 1.0001; v *= 10)
      if (v >= ax.lo * 0.9999) xt.push_back(v);
  } else {
    for (int i = 0; i <= 5; ++i) xt.push_back(ax.lo + (ax.hi - ax.lo) * i / 5);
  }
  for (double& v : xt) v = std::abs(v) < 1e-12 * std::max(1.0, std::abs(ax.hi)) ? 0 : v;
  for (double v : xt) {
    const double px = ax.map(v, x0, x0 + w);
    s += fmt::format("<line x1='{0}' y1='{1}' x2='{0}' y2='{2}' stroke='#ddd'/>\n", px, y0, y0 + h);
    s += svg_text(px, y0 + h + 16, tick_label(v, ax.log), {.anchor = "middle"});
  }
  s += svg_text(x0 + w / 2, y0 + h + 36, xlabel, {.size = 13, .anchor = "middle"});
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
  size_t widest = 0;  // the longest y tick label, in characters
  for (double v : yt) {
    const double py = ay.map(v, y0 + h, y0);
    s += fmt::format("<line x1='{0}' y1='{1}' x2='{2}' y2='{1}' stroke='#ddd'/>\n", x0, py, x0 + w);
    const std::string tick = tick_label(v, ay.log);
    widest = std::max(widest, tick.size());
    s += svg_text(x0 - 6, py + 4, tick, {.anchor = "end"});
  }
  // The y label left of the widest tick label (about 7 px a character at 12 px), on the canvas.
  const double label_x = std::max(8.0, x0 - std::max(52.0, 20 + 7.0 * double(widest)));
  s += svg_text(label_x, y0 + h / 2, ylabel, {.size = 13, .anchor = "middle", .rotate = -90});
  // Curves.
  s += polylines(x0, y0, w, h, ax, ay, series);
  if (!legend) return s;
  std::vector<Series> named;
  for (const Series& sr : series)
    if (!sr.label.empty()) named.push_back(sr);
  size_t longest = 0;
  for (const Series& sr : named) longest = std::max(longest, sr.label.size());
  s += legend_box(x0 + w - (40 + 6.5 * static_cast<double>(longest)) - 8, y0 + 4, named);
  return s;
}

std::string right_axis(double x0, double y0, double w, double h, const Axis& ax, const Axis& ay,
                       const std::vector<Series>& series, const std::string& ylabel) {
  std::string s;
  for (int i = 0; i <= 5; ++i) {
    const double v = ay.lo + (ay.hi - ay.lo) * i / 5, py = ay.map(v, y0 + h, y0);
    s += fmt::format("<line x1='{0}' y1='{1}' x2='{2}' y2='{1}' stroke='#444'/>\n", x0 + w, py,
                     x0 + w + 5);
    s += svg_text(x0 + w + 8, py + 4, tick_label(v, false));
  }
  s += svg_text(x0 + w + 56, y0 + h / 2, ylabel, {.size = 13, .anchor = "middle", .rotate = 90});
  s += polylines(x0, y0, w, h, ax, ay, series);
  return s;
}

std::string svg_document(double w, double h, const std::string& title, const std::string& body) {
  return fmt::format(
             "<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' "
             "font-family='sans-serif'>\n",
             num(w), num(h)) +
         svg_rect(0, 0, w, h, "white") +
         (title.empty() ? "" : svg_text(w / 2, 24, title, {.size = 17, .anchor = "middle"})) +
         body + "</svg>\n";
}

std::string legend_box(double x, double y, const std::vector<Series>& series) {
  std::vector<const Series*> named;
  for (const Series& sr : series)
    if (!sr.label.empty()) named.push_back(&sr);
  if (named.empty()) return "";
  size_t longest = 0;
  for (const Series* sr : named) longest = std::max(longest, sr->label.size());
  const double lw = 40 + 6.5 * static_cast<double>(longest);
  std::string s =
      svg_rect(x, y, lw, 8 + 16 * static_cast<double>(named.size()), "white", "#ccc", 0.85);
  for (size_t i = 0; i < named.size(); ++i) {
    const double ly = y + 12 + 16 * static_cast<double>(i);
    s += fmt::format("<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='{}' stroke-width='3'{}/>\n",
                     x + 8, ly - 4, x + 32, ly - 4, named[i]->color,
                     named[i]->dashed ? " stroke-dasharray='6,4'" : "");
    s += svg_text(x + 38, ly, named[i]->label, {.size = 11});
  }
  return s;
}

std::string swatch_legend(double x, double y,
                          const std::vector<std::pair<std::string, std::string>>& entries,
                          double size) {
  std::string s;
  for (size_t i = 0; i < entries.size(); ++i) {
    const double ly = y + 22 * static_cast<double>(i);
    s += svg_rect(x, ly, 16, 16, entries[i].second);
    s += svg_text(x + 22, ly + 12, entries[i].first, {.size = size});
  }
  return s;
}

std::string colour_bar(double x, double y, double h, const std::string& lo_label,
                       const std::string& hi_label, const std::string& note) {
  std::string s;
  for (int k = 0; k <= 20; ++k)
    s += svg_rect(x, y + h - (k + 1) * h / 21, 16, h / 21 + 0.5, ramp_colour(k / 20.0));
  s += svg_text(x + 22, y + 10, hi_label, {.size = 11});
  s += svg_text(x + 22, y + h, lo_label, {.size = 11});
  if (!note.empty()) s += svg_text(x + 22, y + h / 2, note, {.size = 11});
  return s;
}

double nice_ceiling(double v) {
  if (!(v > 0)) return 1;
  const double e = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0})
    if (m * e >= v * (1 - 1e-12)) return m * e;
  return 10 * e;
}

// A log axis spanning the decades of the points' y values.
Axis log_axis(const std::vector<std::pair<double, double>>& pts) {
  double lo = INFINITY, hi = 0;
  for (const auto& p : pts)
    if (p.second > 0) lo = std::min(lo, p.second), hi = std::max(hi, p.second);
  if (!(hi > 0)) return {0.1, 1, true};
  lo = std::pow(10.0, std::floor(std::log10(lo)));
  hi = std::pow(10.0, std::ceil(std::log10(hi)));
  if (hi <= lo) hi = lo * 10;
  return {lo, hi, true};
}

const char* palette(size_t i) {
  return style::kPalette[i % style::kPalette.size()];
}

std::string ramp_colour(double t) {
  const auto& stops = style::kRamp;
  t = std::clamp(t, 0.0, 1.0) * 4;
  const int i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  int c[3];
  for (int k = 0; k < 3; ++k)
    c[k] = static_cast<int>(std::lround(stops[i][k] + f * (stops[i + 1][k] - stops[i][k])));
  return fmt::format("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
}

}  // namespace gradscope
