// Phase detection over the logged curves, and the summary (rundir/summary_file.h) of a run.
//
//   memorized_step    first logged step with train_acc >= train.memorize_threshold (null if never)
//   generalized_step  first logged step with test_acc >= train.generalize_threshold (null if never)
//   grokking_delay    generalized_step - memorized_step (null unless both)
//   regime            Omnigrok's classification at train.regime_threshold with gap G =
//                     train.regime_gap over the run's budget: comprehension (train and test reach
//                     it, test within G steps of train), grokking (test later than that),
//                     memorization (only train), confusion (neither; or test without train)
//   phase_changes     per metric the task family monitors (TaskFamily::monitored), from its level
//   at the start to
//                     its level at the end (medians of the first and last 3 logged values): the
//                     first steps where a 3-point running median has covered 10%, 50% and 90% of
//                     that change (start_step, step, end_step), width_fraction = (end_step -
//                     start_step) / step, width_decades = log10(end_step / start_step) (its width
//                     on a log-step axis) and abrupt = width_decades <= 0.5. A change smaller than
//                     train.phase_min_change in the metric's units is no phase change (step null).
//                     onset_step: the step from which the running median stays more than 3
//                     sigma beyond the start level in the direction of the change, sigma the noise
//                     of the first max(5, n / 10) logged values (rms of their differences / sqrt
//                     2): where a measure starts to move, relative to its own noise, so that a
//                     smooth hidden-progress measure and a noisy loss compare fairly.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gradscope/run/train_options.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/summary_file.h"

namespace gradscope {

struct Phases {
  std::optional<int64_t> memorized_step, generalized_step, grokking_delay;
  std::string regime;
};

Phases detect_phases(const std::vector<MetricsRow>& rows, const TrainConfig& train);

struct RunTiming {
  double wall_time_s = 0;
  int64_t steps_done = 0;
};

// status: completed | diverged | interrupted. Regression runs (classification = false) have no
// accuracy phases: memorized_step, generalized_step, grokking_delay and regime are left out.
Summary make_summary(const std::vector<MetricsRow>& rows, const TrainConfig& train,
                     const std::string& status, const RunTiming& timing,
                     const std::string& message = "", bool classification = true);

// Phase changes of every metric of the last row for which `monitored` holds, in column order.
nlohmann::ordered_json detect_phase_changes(
    const std::vector<MetricsRow>& rows, double min_change,
    const std::function<bool(const std::string&)>& monitored);

}  // namespace gradscope
