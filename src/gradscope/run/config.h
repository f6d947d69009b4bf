// Config: an experiment's every setting, by one dotted name each ("optim.weight_decay"), used the
// same way in the TOML file, in key=value overrides, in the run directory and in plots.
//
// The schema (config.cpp) lists every key with its type, default and meaning. An experiment file
// has top-level name, seed and precision and the sections [task], [model], [optim], [train];
// anything else is an error that names the key and the closest valid one. Values are checked
// for type (integers may be written 1e5) and range, and the resolved config (every default
// filled) is what the run directory records.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "gradscope/nn/models.h"
#include "gradscope/optim/optimizer.h"
#include "gradscope/optim/schedule.h"
#include "gradscope/probes/spectra.h"
#include "gradscope/tasks/algorithmic.h"
#include "gradscope/tasks/emergence.h"
#include "gradscope/tasks/regression.h"

namespace gradscope {

// Bad user input: the message names the key (or file and line) and what would be valid.
struct ConfigError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

using ConfigValue = std::variant<int64_t, double, bool, std::string, std::vector<double>>;

struct KeySpec {
  std::string key;  // "section.name" or a top-level name
  ConfigValue default_value;
  std::string help;
};

// Settings of the training loop and of the summary's phase detection.
struct TrainConfig {
  int64_t steps = 20000;
  int64_t batch_size = 0;               // 0: full batch
  int64_t log_every = 100;              // evaluate and log every this many steps (and the last)
  int64_t checkpoint_every = 1000;      // a resumable checkpoint at least this often (0: off)
  std::string loss = "cross_entropy";   // cross_entropy | hinge
  std::string loss_reduction = "mean";  // mean | mean_over_classes (PAIR's -mean(onehot*logp))
  double memorize_threshold = 0.99;     // memorized_step: first train_acc >= this
  double generalize_threshold = 0.99;   // generalized_step: first test_acc >= this
  double regime_threshold = 0.9;        // Omnigrok regime classification threshold
  int64_t regime_gap = 1000;            // G: grokking when test lags train by more than this
  double phase_min_change = 0.1;        // phase changes: smallest change that counts as one
};

class Config {
 public:
  static const std::vector<KeySpec>& schema();
  // The defaults for every key.
  Config();

  // Reads an experiment file over the defaults. Throws ConfigError naming file, line and key.
  static Config from_file(const std::filesystem::path& path);
  // Same, for TOML text; `origin` names it in messages.
  static Config from_string(const std::string& text, const std::string& origin);
  // Applies "key=value" (value parsed as the key's type). Throws ConfigError.
  void apply_override(const std::string& assignment);
  void set(const std::string& key, const ConfigValue& value);

  int64_t integer(const std::string& key) const;
  double real(const std::string& key) const;
  bool boolean(const std::string& key) const;
  const std::string& string(const std::string& key) const;
  const std::vector<double>& list(const std::string& key) const;
  const ConfigValue& value(const std::string& key) const;

  // Checks ranges and combinations; throws ConfigError naming the key.
  void validate() const;

  AlgorithmicTaskConfig task() const;
  RegressionTaskConfig regression_task() const;
  ProbeConfig probe() const;
  bool is_regression() const;  // task.name is one of regression_task_names()
  EmergenceTaskConfig emergence_task() const;
  bool is_emergence() const;  // task.name is one of emergence_task_names()
  ModelConfig model() const;
  OptimizerConfig optim() const;
  ScheduleConfig schedule() const;
  TrainConfig train() const;
  double clip_norm() const { return real("optim.clip_norm"); }

  // The resolved config as TOML (every key), with a header comment.
  std::string to_toml(const std::string& header = "") const;
  // Keys whose values differ from other's.
  std::vector<std::string> diff(const Config& other) const;
  // Whether the file had a [sweep] section (read by gradscope sweep, ignored here).
  bool has_sweep() const { return has_sweep_; }

 private:
  std::map<std::string, ConfigValue> values_;
  bool has_sweep_ = false;
};

// A stable id of a config: 16 hex digits of the 64-bit FNV-1a hash of its resolved TOML with the
// name left out (the same settings give the same id whatever the run is called).
std::string config_hash(const Config& config);

// The valid key closest to `key` (edit distance), for "did you mean" messages.
std::string closest_key(const std::string& key);
std::string value_to_string(const ConfigValue& v);

}  // namespace gradscope
