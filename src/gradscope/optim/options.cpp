// The optim.* options of a config: see optimizer.h and schedule.h.
#include "gradscope/optim/optimizer.h"
#include "gradscope/optim/schedule.h"

namespace gradscope {

OptimizerConfig optimizer_options(const Config& c) {
  return options_from<OptimizerConfig>(c);
}

ScheduleConfig schedule_options(const Config& c) {
  return options_from<ScheduleConfig>(c);
}

}  // namespace gradscope
