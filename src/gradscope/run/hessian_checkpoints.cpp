// The curvature over a run's checkpoints: see hessian_checkpoints.h.
#include "gradscope/run/hessian_checkpoints.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "gradscope/run/checkpoint_measures.h"
#include "gradscope/run/hessian.h"
#include "gradscope/rundir/paths.h"

namespace gradscope {

namespace fs = std::filesystem;

int hessian_over_checkpoints(const CheckpointMeasureRequest& r, std::FILE* out) {
  Config config = checkpoint_measure_config(r.run, "hessian", "hessian.", r.overrides, r.device);
  const std::vector<int64_t> steps = chosen_checkpoint_steps(r.run, r.steps);
  config.set("precision", std::string("float64"));  // the checkpoints are read into float64
  const HessianConfig c = hessian_options(config);
  const auto x = fixed_set_experiment<double>(config);
  if (c.preconditioned) check_adam_run(config);  // before anything is written
  const double b1 = config.real("optim.beta1"), lr = config.real("optim.lr");
  const double threshold = (2 + 2 * b1) / ((1 - b1) * lr);  // Adam's, Cohen et al. 2022
  StepTable table(rundir::hessian_dir(r.run), hessian_settings(c),
                  hessian_columns(c, x->model->params()), out);
  fmt::print(out,
             "gradscope hessian {}: top {} eigenvalues ({} Lanczos steps), trace ({} probes), "
             "central differences h = {} in float64\n",
             r.run.string(), c.top_k, c.iterations, c.trace_probes, c.fd_step);
  for (int64_t s : steps) {
    if (table.has(s)) {
      fmt::print(out, "step {}: measured before (hessian/)\n", s);
      continue;
    }
    const fs::path file = rundir::checkpoint_file(r.run, s);
    load_values_as_double(file, x->model->params());
    std::vector<double> p;
    if (c.preconditioned) p = adam_preconditioner(file, x->model->params(), config);
    const HessianEstimate e = estimate_hessian(*x, c, p.empty() ? nullptr : &p);
    table.set(s, hessian_row(c, e));
    std::string tops;
    for (double v : e.top) tops += fmt::format("{}{:.6g}", tops.empty() ? "" : ", ", v);
    fmt::print(out, "step {}: top eigenvalues {}; trace {:.6g} +- {:.2g} ({} gradients){}\n", s,
               tops, e.trace.trace, e.trace.error, e.gradients,
               c.preconditioned ? fmt::format("; preconditioned sharpness {:.6g}, Adam's threshold "
                                              "(2 + 2 beta1) / ((1 - beta1) lr) = {:.6g}",
                                              e.preconditioned, threshold)
                                : "");
    std::fflush(out);
  }
  return 0;
}

}  // namespace gradscope
