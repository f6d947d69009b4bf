// The LLC over a run's checkpoints: see llc_checkpoints.h.
#include "gradscope/run/llc_checkpoints.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gradscope/run/llc.h"
#include "gradscope/run/training_state.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"
#include "gradscope/rundir/spectra_files.h"
#include "gradscope/tensor/npy.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;

// The run's config with the llc.* overrides, on the cpu. Any other key is refused.
Config llc_config(const LlcRequest& r) {
  if (!r.device.empty() && r.device != "cpu")
    throw ConfigError("--device " + r.device +
                      ": gradscope llc runs on the cpu only for now (valid: cpu)");
  Config c = read_run_config(r.run);
  for (const std::string& kv : r.overrides) {
    const std::string key = kv.substr(0, kv.find('='));
    if (key.rfind("llc.", 0) != 0)
      throw ConfigError(
          "gradscope llc: " + key +
          " is the run's own setting (valid here: the llc.* keys, gradscope keys llc)");
    c.apply_override(kv);
  }
  c.set("device", std::string("cpu"));
  return c;
}

// The checkpoint steps named by `which` (all, last, or a list of steps that have checkpoints).
std::vector<int64_t> chosen_steps(const fs::path& run, const std::string& which) {
  const std::vector<int64_t> have = rundir::list_checkpoints(run);
  if (have.empty()) throw ConfigError(run.string() + ": no checkpoints to estimate the LLC at");
  if (which == "all") return have;
  if (which == "last") return {have.back()};
  std::vector<int64_t> out;
  std::istringstream in(which);
  for (std::string item; std::getline(in, item, ',');) {
    size_t used = 0;
    int64_t s = -1;
    try {
      s = std::stoll(item, &used);
    } catch (const std::exception&) {
    }
    if (used != item.size() || std::find(have.begin(), have.end(), s) == have.end()) {
      std::string valid;
      for (int64_t h : have) valid += (valid.empty() ? "" : ",") + std::to_string(h);
      throw ConfigError(
          fmt::format("--steps {}: no checkpoint at step {} (valid: all, last, or "
                      "steps among {})",
                      which, item, valid));
    }
    out.push_back(s);
  }
  return out;
}

nlohmann::ordered_json settings_json(const LlcConfig& c, double nbeta, const std::string& how) {
  nlohmann::ordered_json j;
  j["step_size"] = c.step_size;
  j["localization"] = c.localization;
  j["nbeta"] = nbeta;
  j["nbeta_how"] = how;
  j["chains"] = c.chains;
  j["draws"] = c.draws;
  j["burn_in"] = c.burn_in;
  j["draw_every"] = c.draw_every;
  j["batch_size"] = c.batch_size;
  j["seed"] = c.seed;
  return j;
}

// The folder's results so far, by step: (init loss, each chain's lambda-hat).
struct LlcRows {
  std::map<int64_t, std::pair<float, std::vector<float>>> by_step;
};

LlcRows read_rows(const fs::path& run) {
  LlcRows rows;
  const auto files = read_probe_files(rundir::llc_dir(run));
  if (!files.count("steps.npy") || !files.count("llc.npy") || !files.count("init_loss.npy"))
    return rows;
  int64_t n = 0, one = 0, r = 0, k = 0, n2 = 0;
  const auto steps = decode_npy_f32(files.at("steps.npy"), n, one, "llc/steps.npy");
  const auto llc = decode_npy_f32(files.at("llc.npy"), r, k, "llc/llc.npy");
  const auto init = decode_npy_f32(files.at("init_loss.npy"), n2, one, "llc/init_loss.npy");
  if (r != n || n2 != n) throw std::runtime_error("llc/: steps.npy, llc.npy differ in rows");
  for (int64_t i = 0; i < n; ++i)
    rows.by_step[static_cast<int64_t>(steps[i])] = {
        init[i], std::vector<float>(llc.begin() + i * k, llc.begin() + (i + 1) * k)};
  return rows;
}

void write_rows(const fs::path& run, const LlcRows& rows, int64_t chains) {
  std::vector<float> steps, init, llc;
  for (const auto& [s, row] : rows.by_step) {
    steps.push_back(static_cast<float>(s));
    init.push_back(row.first);
    llc.insert(llc.end(), row.second.begin(), row.second.end());
  }
  const int64_t n = static_cast<int64_t>(steps.size());
  write_probe_files(rundir::llc_dir(run), {{"steps.npy", encode_npy_f32(steps, n, 0)},
                                           {"init_loss.npy", encode_npy_f32(init, n, 0)},
                                           {"llc.npy", encode_npy_f32(llc, n, chains)}});
}

template <class T>
int estimate_at_steps(const LlcRequest& r, const Config& config, std::FILE* out, std::FILE* err) {
  const std::vector<int64_t> steps = chosen_steps(r.run, r.steps);
  const LlcConfig c = llc_options(config);
  const auto x = Experiment<T>::build(config);
  if (x->data.sample)
    throw ConfigError(r.run.string() +
                      ": its task draws fresh samples every step; the LLC needs a fixed "
                      "training set");
  std::string how;
  const double nbeta = llc_nbeta(c, x->data.train.size(), how);
  // Earlier results count only under the same settings.
  const nlohmann::ordered_json settings = settings_json(c, nbeta, how);
  LlcRows rows;
  const fs::path file = rundir::llc_settings_file(r.run);
  if (fs::exists(file)) {
    if (nlohmann::ordered_json::parse(read_file(file)) == settings) {
      rows = read_rows(r.run);
    } else {
      fmt::print(out, "llc/ held estimates with other settings: replaced\n");
      fs::remove_all(rundir::llc_dir(r.run));
    }
  }
  fs::create_directories(rundir::llc_dir(r.run));
  write_file_atomic(file, settings.dump(2) + "\n");
  fmt::print(out,
             "gradscope llc {}: {} chains x {} draws (burn-in {}, every {}), step size {}, "
             "localization {}, n beta {:.6g} ({})\n",
             r.run.string(), c.chains, c.draws, c.burn_in, c.draw_every, c.step_size,
             c.localization, nbeta, how);
  for (int64_t s : steps) {
    if (rows.by_step.count(s)) {
      fmt::print(out, "step {}: estimated before (llc/)\n", s);
      continue;
    }
    restore_training_state(rundir::checkpoint_file(r.run, s), x->optim, x->model->params(),
                           *x->optimizer);
    const LlcEstimate e = estimate_llc(*x, c);
    for (const std::string& w : e.warnings)
      fmt::print(err, "gradscope: warning: step {}: {}\n", s, w);
    const auto finished =
        std::count_if(e.llc.begin(), e.llc.end(), [](double v) { return std::isfinite(v); });
    fmt::print(
        out, "step {}: llc {:.4g} +- {:.2g} (mean and std over {} of {} chains), L_n(w*) {:.6g}\n",
        s, e.mean, e.std, finished, e.llc.size(), e.init_loss);
    std::fflush(out);
    std::vector<float> trace;
    for (const auto& t : e.traces) trace.insert(trace.end(), t.begin(), t.end());
    write_probe_files(rundir::llc_dir(r.run),
                      {{rundir::llc_trace_file(r.run, s).filename().string(),
                        encode_npy_f32(trace, c.chains, c.draws)}});
    rows.by_step[s] = {static_cast<float>(e.init_loss),
                       std::vector<float>(e.llc.begin(), e.llc.end())};
    write_rows(r.run, rows, c.chains);
  }
  return 0;
}

}  // namespace

int llc_over_checkpoints(const LlcRequest& r, std::FILE* out, std::FILE* err) {
  const Config config = llc_config(r);
  return config.string("precision") == "float64" ? estimate_at_steps<double>(r, config, out, err)
                                                 : estimate_at_steps<float>(r, config, out, err);
}

}  // namespace gradscope
