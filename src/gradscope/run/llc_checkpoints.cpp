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
#include "gradscope/rundir/files.h"
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
  LlcChains<T> chains(config);
  Experiment<T>& x = chains.experiment();
  std::string how;
  const double nbeta = llc_nbeta(c, x.data.train.size(), how);
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
    restore_training_state(rundir::checkpoint_file(r.run, s), x.optim, x.model->params(),
                           *x.optimizer);
    const auto t0 = std::chrono::steady_clock::now();
    const LlcEstimate e = chains.estimate(c);
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

// The settings a --calibrate run tries: llc.step_size times 10^(k/2), k = -2..2 (rows), and n beta
// times 1/3, 1, 3 (columns).
constexpr double kStepFactors[] = {0.1, 0.31622776601683794, 1.0, 3.1622776601683795, 10.0};
constexpr double kNbetaFactors[] = {1.0 / 3.0, 1.0, 3.0};

// One cell of the calibration table: "5.08 +- 0.21" and its flags (D diverged, U not settled,
// N negative, each with how many chains), or "ok".
std::string calibration_cell(const LlcEstimate& e) {
  std::string flags;
  if (e.diverged) flags += fmt::format(" D{}", e.diverged);
  if (e.unsettled) flags += fmt::format(" U{}", e.unsettled);
  if (e.negative) flags += fmt::format(" N{}", e.negative);
  return fmt::format("{:.4g} +- {:.2g}{}", e.mean, e.std, flags.empty() ? " ok" : flags);
}

template <class T>
int calibrate_at_step(const CheckpointMeasureRequest& r, const Config& config, std::FILE* out) {
  const std::vector<int64_t> steps =
      chosen_checkpoint_steps(r.run, r.steps == "all" ? "last" : r.steps);
  if (steps.size() != 1)
    throw ConfigError("--calibrate --steps " + r.steps +
                      ": calibration maps one checkpoint (valid: last, or one step)");
  const LlcConfig c = llc_options(config);
  LlcChains<T> chains(config);
  Experiment<T>& x = chains.experiment();
  restore_training_state(rundir::checkpoint_file(r.run, steps[0]), x.optim, x.model->params(),
                         *x.optimizer);
  std::string how;
  const double nbeta = llc_nbeta(c, x.data.train.size(), how);
  fmt::print(
      out,
      "gradscope llc {} --calibrate at step {}: {} chains x {} draws (burn-in {}, every {}), "
      "localization {}; lambda-hat +- std over chains for each step size (rows) and n beta "
      "(columns; {:.6g} is {}); ok: no chain diverged (D), failed to settle (U) or went "
      "below 0 (N)\n",
      r.run.string(), steps[0], c.chains, c.draws, c.burn_in, c.draw_every, c.localization, nbeta,
      how);
  std::string head = fmt::format("{:>12}", "step size");
  for (double f : kNbetaFactors)
    head += fmt::format(" | {:>24}", fmt::format("n beta {:.4g}", f * nbeta));
  fmt::print(out, "{}\n", head);
  nlohmann::ordered_json cells = nlohmann::ordered_json::array();
  int stable = 0;
  for (double fs : kStepFactors) {
    std::string line = fmt::format("{:>12.3g}", fs * c.step_size);
    for (double fb : kNbetaFactors) {
      LlcConfig cc = c;
      cc.step_size = fs * c.step_size;
      cc.nbeta = fb * nbeta;
      const LlcEstimate e = chains.estimate(cc);
      const bool ok = e.diverged == 0 && e.unsettled == 0 && e.negative == 0;
      stable += ok;
      line += fmt::format(" | {:>24}", calibration_cell(e));
      cells.push_back({{"step_size", cc.step_size},
                       {"nbeta", cc.nbeta},
                       {"llc", e.mean},
                       {"std", e.std},
                       {"diverged", e.diverged},
                       {"unsettled", e.unsettled},
                       {"negative", e.negative},
                       {"stable", ok}});
    }
    fmt::print(out, "{}\n", line);
    std::fflush(out);
  }
  fmt::print(out, "stable: {} of {} settings\n", stable, cells.size());
  std::string at_base;  // the stable step sizes at the run's n beta, and their estimates
  for (const auto& cell : cells)
    if (cell["stable"].get<bool>() && cell["nbeta"].get<double>() == nbeta)
      at_base += fmt::format("{}{:.3g} ({:.4g})", at_base.empty() ? "" : ", ",
                             cell["step_size"].get<double>(), cell["llc"].get<double>());
  fmt::print(out, "at n beta {:.6g}, stable step sizes (lambda-hat): {}\n", nbeta,
             at_base.empty() ? "none" : at_base);
  nlohmann::ordered_json j = {
      {"step", steps[0]}, {"settings", llc_settings(c, nbeta, how)}, {"grid", cells}};
  fs::create_directories(rundir::llc_dir(r.run));  // a run not estimated before has none
  write_file_atomic(rundir::llc_dir(r.run) / fmt::format("calibration_{:08d}.json", steps[0]),
                    j.dump(2) + "\n");
  return 0;
}

}  // namespace

int llc_over_checkpoints(const CheckpointMeasureRequest& r, std::FILE* out, std::FILE* err) {
  const Config config = checkpoint_measure_config(r.run, "llc", "llc.", r.overrides, r.device);
  const bool f64 = config.string("precision") == "float64";
  if (r.calibrate)
    return f64 ? calibrate_at_step<double>(r, config, out)
               : calibrate_at_step<float>(r, config, out);
  return f64 ? estimate_at_steps<double>(r, config, out, err)
             : estimate_at_steps<float>(r, config, out, err);
}

}  // namespace gradscope
