// Phase detection over the logged curves, and summary.json.
//
//   memorized_step    first logged step with train_acc >= train.memorize_threshold (null if never)
//   generalized_step  first logged step with test_acc >= train.generalize_threshold (null if never)
//   grokking_delay    generalized_step - memorized_step (null unless both)
//   regime            Omnigrok's classification at train.regime_threshold with gap G =
//                     train.regime_gap over the run's budget: comprehension (train and test reach
//                     it, test within G steps of train), grokking (test later than that),
//                     memorization (only train), confusion (neither; or test without train)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gradscope/run/config.h"
#include "gradscope/run/run_files.h"

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

// status: completed | diverged | running. Regression runs (classification = false) have no
// accuracy phases: memorized_step, generalized_step, grokking_delay and regime are left out.
nlohmann::ordered_json make_summary(const std::vector<MetricsRow>& rows, const TrainConfig& train,
                                    const std::string& status, const RunTiming& timing,
                                    const std::string& message = "", bool classification = true);

}  // namespace gradscope
