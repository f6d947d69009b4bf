// Curves of metric columns: see metric_series.h.
#include "gradscope/report/metric_series.h"

#include <algorithm>
#include <cmath>

namespace gradscope {

Series curve(const std::vector<MetricsRow>& rows, const std::string& key, const std::string& label,
             const std::string& color, bool log_x, bool dashed) {
  Series s{label, color, {}, dashed};
  for (const MetricsRow& r : rows) {
    const double v = r.get(key), x = double(r.step());
    if (std::isfinite(v) && (!log_x || x >= 1)) s.points.emplace_back(x, v);
  }
  return s;
}

Axis value_axis(const std::vector<Series>& series) {
  double lo = 0, hi = 0;
  for (const Series& s : series)
    for (const auto& p : s.points) lo = std::min(lo, p.second), hi = std::max(hi, p.second);
  if (lo < 0) lo = -nice_ceiling(-lo);
  return {lo, hi > 0 ? nice_ceiling(hi) : (lo < 0 ? 0.0 : 1.0), false};
}

}  // namespace gradscope
