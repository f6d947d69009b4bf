// The LLC over a run's checkpoints: see llc_checkpoints.h.
#include "gradscope/run/llc_checkpoints.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "gradscope/run/checkpoint_measures.h"
#include "gradscope/run/llc.h"
#include "gradscope/run/training_state.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/spectra_files.h"
#include "gradscope/tensor/npy.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;

template <class T>
int estimate_at_steps(const CheckpointMeasureRequest& r, const Config& config, std::FILE* out,
                      std::FILE* err) {
  const std::vector<int64_t> steps = chosen_checkpoint_steps(r.run, r.steps);
  const LlcConfig c = llc_options(config);
  const auto x = fixed_set_experiment<T>(config, r.run, "the LLC");
  std::string how;
  const double nbeta = llc_nbeta(c, x->data.train.size(), how);
  StepTable table(rundir::llc_dir(r.run), llc_settings(c, nbeta, how), llc_columns(c), out);
  fmt::print(out,
             "gradscope llc {}: {} chains x {} draws (burn-in {}, every {}), step size {}, "
             "localization {}, n beta {:.6g} ({})\n",
             r.run.string(), c.chains, c.draws, c.burn_in, c.draw_every, c.step_size,
             c.localization, nbeta, how);
  for (int64_t s : steps) {
    if (table.has(s)) {
      fmt::print(out, "step {}: estimated before (llc/)\n", s);
      continue;
    }
    restore_training_state(rundir::checkpoint_file(r.run, s), x->optim, x->model->params(),
                           *x->optimizer);
    const auto t0 = std::chrono::steady_clock::now();
    const LlcEstimate e = estimate_llc(*x, c);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    for (const std::string& w : e.warnings)
      fmt::print(err, "gradscope: warning: step {}: {}\n", s, w);
    const auto finished =
        std::count_if(e.llc.begin(), e.llc.end(), [](double v) { return std::isfinite(v); });
    fmt::print(out,
               "step {}: llc {:.4g} +- {:.2g} (mean and std over {} of {} chains), L_n(w*) {:.6g}, "
               "{:.2f} s\n",
               s, e.mean, e.std, finished, e.llc.size(), e.init_loss, took.count());
    std::fflush(out);
    write_probe_files(rundir::llc_dir(r.run), {llc_trace_npy(s, e)});
    table.set(s, llc_row(e));
  }
  return 0;
}

}  // namespace

int llc_over_checkpoints(const CheckpointMeasureRequest& r, std::FILE* out, std::FILE* err) {
  const Config config = checkpoint_measure_config(r.run, "llc", "llc.", r.overrides, r.device);
  return config.string("precision") == "float64" ? estimate_at_steps<double>(r, config, out, err)
                                                 : estimate_at_steps<float>(r, config, out, err);
}

}  // namespace gradscope
