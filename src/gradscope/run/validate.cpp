// Experiment validation: see validate.h.
#include "gradscope/run/validate.h"

#include <fmt/core.h>

#include <algorithm>

#include "gradscope/nn/model_registry.h"
#include "gradscope/optim/optimizer.h"
#include "gradscope/optim/schedule.h"
#include "gradscope/probes/measures.h"
#include "gradscope/probes/spectra.h"
#include "gradscope/run/geometry_probes.h"
#include "gradscope/run/train_options.h"
#include "gradscope/tasks/task_family.h"

namespace gradscope {
namespace {

[[noreturn]] void fail(const std::string& key, const std::string& value, const std::string& valid) {
  throw ConfigError(key + " = " + value + " (valid: " + valid + ")");
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

void validate_top_level(const Config& c) {
  const std::string& name = c.string("name");
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    fail("name", "\"" + name + "\"", "a non-empty directory name without '/', not . or ..");
}

// Whether the task's data fits the model and the loss.
void validate_fit(const Config& c, const TaskFamily& family) {
  const std::string& type = c.string("model.type");
  find_model_family(type);  // an unknown type names the valid ones
  if (!contains(family.models, type))
    throw ConfigError("model.type = \"" + type + "\" does not fit task.name = \"" + family.name +
                      "\" (valid: " + join_names(family.models) + ")");
  const std::string& loss = c.string("train.loss");
  if (!contains(family.losses, loss)) {
    std::vector<std::string> takers;
    for (const TaskFamily& f : task_families())
      if (contains(f.losses, loss)) takers.push_back(f.name);
    throw ConfigError(
        fmt::format("train.loss = \"{}\" does not fit task.name = \"{}\" (valid: {}; {} is for {})",
                    loss, family.name, join_names(family.losses), loss,
                    takers.empty() ? "none" : join_names(takers)));
  }
  const std::string& numerics = c.string("train.softmax_numerics");
  if (numerics != "gradscope" && loss != "cross_entropy")
    throw ConfigError(
        fmt::format("train.softmax_numerics = \"{}\" is cross-entropy's arithmetic; train.loss = "
                    "\"{}\" has its "
                    "own (valid with it: gradscope)",
                    numerics, loss));
  for (const std::string& name : family.measures)
    if (const Measure& m = find_measure(name); m.is_probe())
      throw std::logic_error("task family " + family.name + " names the probe measure " + name +
                             ", which its key " + m.key + " switches on");
}

// A known device; tf32 only on cuda; train.flush_subnormals only on the cpu. Every model, task and
// optimizer feature runs on every device.
void validate_device(const Config& c) {
  const bool tf32 = has_tf32(device_from_name(c.string("device")));
  if (c.string("precision") == "tf32" && !tf32)
    throw ConfigError(
        "precision = \"tf32\" needs device = \"cuda\" (valid here: float32, "
        "float64)");
  if (c.boolean("train.flush_subnormals") && c.string("device") != "cpu")
    throw ConfigError("train.flush_subnormals = true sets the cpu's arithmetic; device = \"" +
                      c.string("device") + "\" computes elsewhere (valid there: false)");
}

}  // namespace

void validate_experiment(const Config& c) {
  try {
    validate_top_level(c);
    train_options(c);  // train.checkpoint_steps parsed (every range is the schema's)
    const TaskFamily& family = find_task_family(c.string("task.name"));
    validate_fit(c, family);
    validate_device(c);
    if (family.validate) family.validate(c);
    probe_options(c).validate();
    for (const Measure& m : run_measures())
      if (m.validate) m.validate(c);
    model_options(c).validate();
    optimizer_options(c).validate();
    schedule_options(c).validate();
  } catch (const ConfigError&) {
    throw;
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
}

}  // namespace gradscope
