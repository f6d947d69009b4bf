// Experiment: everything a run is made of, built once from a validated config: the task family
// and its data, the model shape it implies, the model, the optimizer and schedule, the measures
// the family names, the probe measures the config switches on, and the theory's prediction. The
// training loop (run/trainer.h) runs it; nothing in it knows which task family it holds. Off the
// cpu (the device key) it also holds the device's context, the model's device copies and the splits
// on the device; the optimizer's state lives on the run's device.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "gradscope/config/config.h"
#include "gradscope/cuda/device.h"
#include "gradscope/nn/models.h"
#include "gradscope/optim/optimizer.h"
#include "gradscope/optim/schedule.h"
#include "gradscope/probes/measures.h"
#include "gradscope/probes/objective.h"
#include "gradscope/probes/spectra.h"
#include "gradscope/run/device_data.h"
#include "gradscope/run/train_options.h"
#include "gradscope/tasks/task_family.h"

namespace gradscope {

// A probe measure switched on for a run: its entry, its state and its column names (fixed once
// it is built).
template <class T>
struct RunProbe {
  const Measure* measure = nullptr;
  std::unique_ptr<ProbeMeasure<T>> state;
  std::vector<std::string> names;
};

template <class T>
struct Experiment {
  Config config;
  std::unique_ptr<DeviceContext> context;  // off the cpu; declared first, so destroyed last
  const TaskFamily* family = nullptr;
  TaskData data;
  ModelShape shape;
  std::unique_ptr<Model<T>> model;
  OptimizerConfig optim;
  ScheduleConfig schedule;
  TrainConfig train;
  ProbeConfig probe;
  std::unique_ptr<Optimizer<T>> optimizer;
  std::vector<const Measure*> split_measures, model_measures;  // the family's, in its order
  std::vector<RunProbe<T>> probes;  // the probe measures on (their keys true), registry order
  nlohmann::json prediction;        // {"available": false, ...} where no theory applies
  uint64_t seed = 0;
  std::optional<DeviceSplit<T>> device_train, device_test;  // off the cpu

  // Validates the config (validate_experiment) and builds everything. Throws ConfigError on bad
  // input; nothing is written anywhere. Off the cpu it runs on `device` where given (a replica
  // group's member), else on a context of its own.
  static std::unique_ptr<Experiment> build(const Config& config,
                                           std::unique_ptr<DeviceContext> device = nullptr);
  // Where the run's kernels run: its device, or the cpu backend.
  DeviceContext& backend() const { return context ? *context : cpu_context(); }
};

// The theory's prediction for a config (gradscope theory): the task data and shape built as a
// run builds them, then run/prediction.h. Throws ConfigError on bad input.
nlohmann::json predict_experiment(const Config& config);

}  // namespace gradscope
