// The curvature over a run's checkpoints: see hessian_checkpoints.h.
#include "gradscope/run/hessian_checkpoints.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "gradscope/run/checkpoint_measures.h"
#include "gradscope/run/hessian.h"
#include "gradscope/rundir/paths.h"

namespace gradscope {

int hessian_over_checkpoints(const CheckpointMeasureRequest& r, std::FILE* out) {
  Config config = checkpoint_measure_config(r.run, "hessian", "hessian.", r.overrides, r.device);
  const std::vector<int64_t> steps = chosen_checkpoint_steps(r.run, r.steps);
  config.set("precision", std::string("float64"));  // the checkpoints are read into float64
  const HessianConfig c = hessian_options(config);
  const auto x = fixed_set_experiment<double>(config, r.run, "the Hessian of the training loss");
  nlohmann::ordered_json settings;
  settings["top_k"] = c.top_k;
  settings["iterations"] = c.iterations;
  settings["trace_probes"] = c.trace_probes;
  settings["fd_step"] = c.fd_step;
  settings["per_tensor"] = c.per_tensor;
  settings["seed"] = c.seed;
  std::vector<std::pair<std::string, int64_t>> columns = {{"top.npy", c.top_k}, {"trace.npy", 2}};
  if (c.per_tensor)
    for (const ParamInfo& p : x->model->params().params())
      columns.emplace_back("tensor." + p.name + ".npy", 3);
  StepTable table(rundir::hessian_dir(r.run), settings, columns, out);
  fmt::print(out,
             "gradscope hessian {}: top {} eigenvalues ({} Lanczos steps), trace ({} probes), "
             "central differences h = {} in float64\n",
             r.run.string(), c.top_k, c.iterations, c.trace_probes, c.fd_step);
  for (int64_t s : steps) {
    if (table.has(s)) {
      fmt::print(out, "step {}: measured before (hessian/)\n", s);
      continue;
    }
    load_values_as_double(rundir::checkpoint_file(r.run, s), x->model->params());
    const HessianEstimate e = estimate_hessian(*x, c);
    std::vector<float> top(e.top.begin(), e.top.end());
    top.resize(static_cast<size_t>(c.top_k), NAN);  // fewer parameters than top_k
    std::vector<std::vector<float>> row = {
        top, {static_cast<float>(e.trace.trace), static_cast<float>(e.trace.error)}};
    for (const TensorCurvature& t : e.tensors)
      row.push_back({static_cast<float>(t.top), static_cast<float>(t.trace.trace),
                     static_cast<float>(t.trace.error)});
    table.set(s, std::move(row));
    std::string tops;
    for (double v : e.top) tops += fmt::format("{}{:.6g}", tops.empty() ? "" : ", ", v);
    fmt::print(out, "step {}: top eigenvalues {}; trace {:.6g} +- {:.2g} ({} gradients)\n", s, tops,
               e.trace.trace, e.trace.error, e.gradients);
    std::fflush(out);
  }
  return 0;
}

}  // namespace gradscope
