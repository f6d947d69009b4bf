// A run's training state to and from a checkpoint file: the parameters, W_0, the optimizer's state
// buffers and its step count. The map between the live objects (nn/'s ParamStore, optim/'s
// Optimizer) and the file layer's named buffers (rundir/checkpoint.h), which knows neither.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "gradscope/nn/param_store.h"
#include "gradscope/optim/optimizer.h"
#include "gradscope/rundir/checkpoint.h"

namespace gradscope {

// Writes checkpoint `path` of the run at `step` (atomically; rundir/checkpoint.h has the format).
template <class T>
void save_training_state(const std::filesystem::path& path, int64_t step, double wall_time_s,
                         const std::string& config_toml, const OptimizerConfig& optim,
                         ParamStore<T>& params, Optimizer<T>& optimizer);

// Restores params (values and W_0) and the optimizer's state and step count from checkpoint
// `path`. Throws CheckpointDamaged for a damaged file and std::runtime_error naming the file and
// what does not match the run; in either case nothing was changed.
template <class T>
CheckpointInfo restore_training_state(const std::filesystem::path& path,
                                      const OptimizerConfig& optim, ParamStore<T>& params,
                                      Optimizer<T>& optimizer);

}  // namespace gradscope
