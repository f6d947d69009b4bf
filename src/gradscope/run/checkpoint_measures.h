// Measures computed at a run's checkpoints after (or while) it trains, each into a folder of its
// own in the run directory (gradscope llc: llc/, gradscope hessian: hessian/): the config they read
// (the run's own with overrides of their keys only, on the cpu), the checkpoint steps a --steps
// argument names, and the folder's table of rows by step, which a rerun with the same settings
// extends instead of recomputing.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/run/experiment.h"

namespace gradscope {

// What a measure at checkpoints is asked for on the command line.
struct CheckpointMeasureRequest {
  std::filesystem::path run;           // the run directory
  std::string steps = "all";           // all | last | A,B,... (checkpoint steps)
  std::vector<std::string> overrides;  // the measure's key=value settings
  std::string device;                  // --device ("" or cpu; anything else is refused)
  bool calibrate = false;              // gradscope llc --calibrate
};

// The run's config with `overrides` (key=value) of `prefix` keys ("llc." for `command` llc) only,
// on the cpu (tf32 read as the float32 it stores): a device other than cpu is refused (`device`:
// --device), and so is a run that is training now. Throws ConfigError.
Config checkpoint_measure_config(const std::filesystem::path& run, const std::string& command,
                                 const std::string& prefix,
                                 const std::vector<std::string>& overrides,
                                 const std::string& device);

// The experiment of the config for a measure that reads a fixed training set (the LLC, the
// Hessian). A task that draws fresh samples every step is measured on its train split, the fixed
// sample of the training distribution its train_* metrics are taken on (task.n_test or
// task.n_eval examples): its stream is dropped from this experiment, not from the run's.
template <class T>
std::unique_ptr<Experiment<T>> fixed_set_experiment(const Config& config) {
  auto x = Experiment<T>::build(config);
  x->data.sample = nullptr;
  return x;
}

// The checkpoint steps named by `which`: all, last, or A,B,... (each a step with a checkpoint).
// Throws ConfigError naming the valid steps.
std::vector<int64_t> chosen_checkpoint_steps(const std::filesystem::path& run,
                                             const std::string& which);

// Rows by step of float32 columns, each column (file name, width): as files, steps.npy (float32
// [S], ascending) and one float32 [S, width] array per column ([S] where the width is 1).
class StepRows {
 public:
  using Row = std::vector<std::vector<float>>;  // one vector of its width per column
  explicit StepRows(std::vector<std::pair<std::string, int64_t>> columns)
      : columns_(std::move(columns)) {}
  const std::vector<std::pair<std::string, int64_t>>& columns() const { return columns_; }
  bool has(int64_t step) const { return rows_.count(step) != 0; }
  const std::map<int64_t, Row>& rows() const { return rows_; }
  void set(int64_t step, Row row) { rows_[step] = std::move(row); }
  void drop_from(int64_t step) { rows_.erase(rows_.lower_bound(step), rows_.end()); }
  // steps.npy and the columns' arrays.
  std::vector<std::pair<std::string, std::string>> files() const;
  // Reads the rows of `files` (name -> bytes; `where` names their folder in errors). False, with
  // no rows, when a file is missing (an interrupted first write). Throws std::runtime_error on an
  // array of another shape.
  bool load(const std::map<std::string, std::string>& files, const std::filesystem::path& where);

 private:
  std::vector<std::pair<std::string, int64_t>> columns_;
  std::map<int64_t, Row> rows_;
};

// A folder's StepRows under settings.json. Opening it with other settings (or none) starts it
// afresh.
class StepTable {
 public:
  // Creates the folder and writes settings.json.
  StepTable(std::filesystem::path folder, const nlohmann::ordered_json& settings,
            std::vector<std::pair<std::string, int64_t>> columns, std::FILE* out);
  bool has(int64_t step) const { return rows_.has(step); }
  // Sets the step's row and rewrites the arrays.
  void set(int64_t step, StepRows::Row row);

 private:
  std::filesystem::path folder_;
  StepRows rows_;
};

}  // namespace gradscope
