// Task families: a task is found by its task.name in the registry and everything the rest of
// gradscope needs to know about it is stated here, once:
//
//   validate     its task.* keys (and what its data needs of the other sections)
//   resolve      keys it derives from its inputs before the run's id is taken (a data hash)
//   build        the train and test data, deterministic from the config (task.split_seed)
//   shape        the model shape the data implies (vocab, classes, length, outputs)
//   models       the model.type values that can read the data; losses: the train.loss values
//   measures     the extra metric columns its runs log: names of probes/measures.h
//   monitored    the metrics whose phase changes the summary reports ("x" or "prefix.*")
//   summary_line the final line `gradscope run` prints after "<name>: <status>; "
//   label        how `gradscope show` names the task ("modular a+b mod 113")
//   kept_files   the keys of the user's files a run copies into its directory (arrays: task.path)
//   residues     its inputs are residues mod task.p: the Fourier probe applies (probe.fourier)
//   text         its runs are text: `gradscope sample` draws from them
//
// A new task family is one file (its generator, options and entry function) plus one line in
// tasks/task_registry.def; tests and plugins may add families at run time. The trainer iterates
// the registry and names no family.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "gradscope/config/config.h"
#include "gradscope/tasks/dataset.h"
#include "gradscope/tensor/model_shape.h"

namespace gradscope {

struct TaskFamily {
  std::string name;                 // the task.name value
  std::vector<std::string> models;  // model.type values that fit
  // train.loss values (classification; a regression family lists only the default, unused)
  std::vector<std::string> losses = {"cross_entropy", "stablemax"};
  // Throws std::invalid_argument (ConfigError) naming the key and what is valid.
  std::function<void(const Config&)> validate;
  std::function<TaskData(const Config&)> build;
  // nullptr: data_shape(data).
  std::function<ModelShape(const Config&, const TaskData&)> shape;
  // Completes the config from what the family reads, before the run's id is taken (arrays:
  // task.data_hash, the content hash of task.path's file, checked where it is given). Throws
  // ConfigError. nullptr: nothing to complete.
  std::function<void(Config&)> resolve;
  // Keys naming files a run keeps in its directory (rundir::kept_file names the copy): a new run
  // copies each one in and its config names the copy, so it resumes and repeats without the
  // original.
  std::vector<std::string> kept_files;
  std::vector<std::string> measures;
  std::vector<std::string> monitored;
  // The text after "<name>: <status>; " from the summary (its "final" holds the last metrics
  // row); nullptr: classification_summary_line or regression_summary_line by the data.
  std::function<std::string(const nlohmann::ordered_json& summary)> summary_line;
  // The task as `gradscope show` names it; nullptr: its name.
  std::function<std::string(const Config&)> label;
  // What the models predict: class ids (classification: train_acc, test_acc, numerics.*), real
  // values (regression: test_rel_error), or either, by the data (arrays).
  enum class Targets { classes, values, by_data };
  Targets targets = Targets::classes;
  bool residues = false;  // inputs are residues mod task.p (the Fourier probe reads them)
  bool text = false;      // a text corpus: `gradscope sample` continues prompts

  // Whether the summary reports the phase changes of this metric.
  bool monitors(const std::string& metric) const;
};

// Every registered family: the built-in ones (task_registry.def), then those added at run time.
const std::vector<TaskFamily>& task_families();
// The family of task.name `name`. Throws ConfigError listing the valid names.
const TaskFamily& find_task_family(const std::string& name);
// Runs the resolve step of task.name's family on `config` (nothing when it has none).
void resolve_task(Config& config);
// Adds a family (its name must be new). Not thread-safe: call before any run starts.
void register_task_family(const TaskFamily& family);

// The shape the data implies as it stands: vocab, classes, the train split's length, features
// and outputs, and its targets per example as the positions the loss reads.
ModelShape data_shape(const TaskData& data);
// The shape the family states for this data.
ModelShape task_shape(const TaskFamily& family, const Config& config, const TaskData& data);

// The summary's final value of a metric (its "final" row), NaN when absent or null.
double final_value(const nlohmann::ordered_json& summary, const std::string& key);

// "memorized_step M, generalized_step G, regime R" and "final train loss L, test loss T".
std::string classification_summary_line(const nlohmann::ordered_json& summary);
std::string regression_summary_line(const nlohmann::ordered_json& summary);

}  // namespace gradscope
