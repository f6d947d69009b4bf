// The metric columns a run may log: see metric_columns.h.
#include "gradscope/run/metric_columns.h"

#include <algorithm>

#include "gradscope/run/geometry_probes.h"
#include "gradscope/tasks/task_family.h"

namespace gradscope {

std::vector<std::string> declared_columns(const Config& config) {
  // The trainer's own columns (run/evaluation.cpp evaluate): every run's, a classification's or
  // a regression's (both where the data decides), rescaled_time below init_scale 1.
  std::vector<std::string> out = {"step",        "lr",        "train_loss",   "test_loss",
                                  "weight_norm", "grad_norm", "weight_norm.*"};
  const TaskFamily* family = &find_task_family(config.string("task.name"));
  using Targets = TaskFamily::Targets;
  if (family->targets != Targets::values)
    out.insert(out.end(), {"train_acc", "test_acc", "numerics.*"});
  if (family->targets != Targets::classes) out.push_back("test_rel_error");
  if (config.real("model.init_scale") < 1) out.push_back("rescaled_time");
  for (const Measure& m : run_measures()) {
    const bool family_wants = std::find(family->measures.begin(), family->measures.end(), m.name) !=
                              family->measures.end();
    const bool probe_on = m.is_probe() && config.boolean(m.key);
    if (family_wants || probe_on) out.insert(out.end(), m.columns.begin(), m.columns.end());
  }
  return out;
}

bool column_declared(const std::vector<std::string>& patterns, const std::string& column) {
  for (const std::string& p : patterns)
    if (column_matches(p, column)) return true;
  return false;
}

}  // namespace gradscope
