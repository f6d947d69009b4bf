// The task registry and the shared parts of task families: see task_family.h.
#include "gradscope/tasks/task_family.h"

#include <fmt/core.h>

#include <cmath>
#include <stdexcept>

#include "gradscope/tensor/registry.h"

namespace gradscope {

#define GRADSCOPE_TASK(f) TaskFamily f##_task();
#include "gradscope/tasks/task_registry.def"
#undef GRADSCOPE_TASK

namespace {

Registry<TaskFamily>& registry() {
  static Registry<TaskFamily> r({
#define GRADSCOPE_TASK(f) f##_task(),
#include "gradscope/tasks/task_registry.def"
#undef GRADSCOPE_TASK
  });
  return r;
}

// A summary value as JSON text ("null" when absent).
std::string field(const nlohmann::ordered_json& s, const char* key) {
  return s.contains(key) ? s[key].dump() : "null";
}

}  // namespace

bool TaskFamily::monitors(const std::string& metric) const {
  for (const std::string& m : monitored) {
    if (m == metric) return true;
    const size_t star = m.find('*');
    if (star == std::string::npos) continue;
    const std::string head = m.substr(0, star), tail = m.substr(star + 1);
    if (metric.size() > head.size() + tail.size() && metric.rfind(head, 0) == 0 &&
        metric.compare(metric.size() - tail.size(), tail.size(), tail) == 0)
      return true;
  }
  return false;
}

const std::vector<TaskFamily>& task_families() {
  return registry().all();
}

const TaskFamily& find_task_family(const std::string& name) {
  if (const TaskFamily* f = registry().find(name)) return *f;
  throw ConfigError("task.name = \"" + name + "\" (valid: " + registry().names() + ")");
}

void resolve_task(Config& config) {
  const TaskFamily& family = find_task_family(config.string("task.name"));
  if (family.resolve) family.resolve(config);
}

void register_task_family(const TaskFamily& family) {
  registry().add(family);
}

ModelShape data_shape(const TaskData& d) {
  return {d.vocab,
          d.num_classes,
          d.train.length,
          d.train.features,
          d.train.outputs,
          0,
          d.train.targets_per_example};
}

ModelShape task_shape(const TaskFamily& family, const Config& config, const TaskData& data) {
  return family.shape ? family.shape(config, data) : data_shape(data);
}

double final_value(const nlohmann::ordered_json& s, const std::string& key) {
  if (!s.contains("final") || !s["final"].contains(key) || !s["final"][key].is_number()) return NAN;
  return s["final"][key].get<double>();
}

std::string classification_summary_line(const nlohmann::ordered_json& s) {
  return fmt::format("memorized_step {}, generalized_step {}, regime {}",
                     field(s, "memorized_step"), field(s, "generalized_step"),
                     s.value("regime", std::string("?")));
}

std::string regression_summary_line(const nlohmann::ordered_json& s) {
  return fmt::format("final train loss {:.4e}, test loss {:.4e}", final_value(s, "train_loss"),
                     final_value(s, "test_loss"));
}

}  // namespace gradscope
