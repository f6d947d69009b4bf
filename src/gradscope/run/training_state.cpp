// A run's training state as a checkpoint's named buffers: see training_state.h.
#include "gradscope/run/training_state.h"

#include <span>

namespace gradscope {
namespace {

// The checkpoint's view of a run: its parameter table, then "values", "initial" and the
// optimizer's state buffers ("optim.<name>"), in that order.
template <class T>
CheckpointBuffers<T> buffers_of(const OptimizerConfig& optim, ParamStore<T>& params,
                                Optimizer<T>& optimizer) {
  CheckpointBuffers<T> b;
  b.optimizer = option_name("optim.name", optim.name);
  b.optimizer_steps = optimizer.steps();
  for (const ParamInfo& p : params.params())
    b.params.push_back(
        {p.name, std::vector<int64_t>(p.shape.dims.begin(), p.shape.dims.begin() + p.shape.rank),
         p.offset});
  b.buffers.emplace_back("values", params.values());
  b.buffers.emplace_back("initial", std::span<T>(const_cast<T*>(params.initial_values().data()),
                                                 params.initial_values().size()));
  for (auto& s : optimizer.state()) b.buffers.emplace_back("optim." + s.first, s.second);
  return b;
}

}  // namespace

template <class T>
void save_training_state(const std::filesystem::path& path, int64_t step, double wall_time_s,
                         const std::string& config_toml, const OptimizerConfig& optim,
                         ParamStore<T>& params, Optimizer<T>& optimizer) {
  save_checkpoint(path, step, wall_time_s, config_toml, buffers_of(optim, params, optimizer));
}

template <class T>
CheckpointInfo restore_training_state(const std::filesystem::path& path,
                                      const OptimizerConfig& optim, ParamStore<T>& params,
                                      Optimizer<T>& optimizer) {
  const CheckpointInfo info = load_checkpoint(path, buffers_of(optim, params, optimizer));
  optimizer.set_steps(info.optimizer_steps);
  return info;
}

#define GRADSCOPE_INSTANTIATE(T)                                                                   \
  template void save_training_state<T>(const std::filesystem::path&, int64_t, double,              \
                                       const std::string&, const OptimizerConfig&, ParamStore<T>&, \
                                       Optimizer<T>&);                                             \
  template CheckpointInfo restore_training_state<T>(                                               \
      const std::filesystem::path&, const OptimizerConfig&, ParamStore<T>&, Optimizer<T>&);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
