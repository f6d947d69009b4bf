// Curves of a run's metric columns for the plots: a column's logged values as a Series, and a
// linear axis over series.
#pragma once

#include <string>
#include <vector>

#include "gradscope/report/svg.h"
#include "gradscope/rundir/metrics.h"

namespace gradscope {

// The logged values of `key` as (step, value) points (finite only; step >= 1 on log axes).
Series curve(const std::vector<MetricsRow>& rows, const std::string& key, const std::string& label,
             const std::string& color, bool log_x, bool dashed = false);

// A linear axis from 0 (or the smallest value, when negative) to a round top over the series.
Axis value_axis(const std::vector<Series>& series);

}  // namespace gradscope
