// The training loop: see trainer.h.
#include "gradscope/run/trainer.h"

#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "gradscope/cuda/device.h"
#include "gradscope/optim/schedule.h"
#include "gradscope/probes/numerics.h"
#include "gradscope/run/batches.h"
#include "gradscope/run/checkpoint_policy.h"
#include "gradscope/run/evaluation.h"
#include "gradscope/run/experiment.h"
#include "gradscope/run/prediction.h"
#include "gradscope/run/progress.h"
#include "gradscope/run/steps.h"
#include "gradscope/run/summary.h"
#include "gradscope/run/training_state.h"
#include "gradscope/run/validate.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"
#include "gradscope/rundir/run_lock.h"
#include "gradscope/rundir/spectra_files.h"
#include "gradscope/tensor/threads.h"

namespace gradscope {
namespace {

std::atomic<int> g_stop{0};  // lock-free: a signal handler may store to it
static_assert(std::atomic<int>::is_always_lock_free);
extern "C" void on_signal(int) {
  g_stop.store(1);
}

// The run's loop, one iteration per advance() (SteppedRun, trainer.h).
template <class T>
class Training final : public SteppedRun {
 public:
  Training(std::unique_ptr<Experiment<T>> x, const RunOptions& o)
      : owned_(std::move(x)),
        x_(*owned_),
        o_(o),
        batches_(x_.data, x_.train.batch_size, x_.seed, x_.train.batch_order == BatchOrder::epoch),
        policy_(x_.train),
        steps_(x_, batches_.size()) {}
  void begin();
  void queue() override;
  bool advance() override;
  int finish() override;

 private:
  void start_fresh();
  void restore();
  CheckpointInfo load_newest_whole();
  bool gradient_at(int64_t s);
  void log_row(int64_t s, double lr, bool probe_step, bool end);
  void checkpoint(int64_t s);
  void write_probe_files_now();
  void measure_own_schedules(int64_t s, bool end);
  Summary summarize() const;
  int64_t end_step() const {
    return stop_at_ >= 0 ? std::min(stop_at_, x_.train.steps) : x_.train.steps;
  }
  void watch_generalization(const MetricsRow& row);

  std::unique_ptr<Experiment<T>> owned_;
  Experiment<T>& x_;
  const RunOptions o_;
  std::unique_ptr<RunLock> lock_;  // held from begin() until finish(); a second process refuses
  Batches batches_;
  CheckpointPolicy policy_;
  Steps<T> steps_;           // the training step, on the run's device
  std::string config_toml_;  // the resolved config, saved in every checkpoint
  int64_t start_ = 0, s_ = 0;
  double prior_wall_ = 0;
  int64_t stop_at_ = -1;    // stop_after_generalized: the step the run ends at, once known
  bool queued_ = false;     // iteration s_'s gradient is queued
  bool extending_ = false;  // resumed with a larger train.steps: no early stop before it
  std::unique_ptr<MetricsLog> log_;
  std::unique_ptr<Progress> progress_;
  std::string status_ = "completed", message_;
};

// Takes the directory's lock and starts the run there, or restores its newest checkpoint.
template <class T>
void Training<T>::begin() {
  lock_ = std::make_unique<RunLock>(o_.dir);
  if (lock_->replaced())
    fmt::print(o_.err, "gradscope: {}: took over the lock of pid {} on {}, which is gone\n",
               o_.dir.string(), lock_->replaced()->pid, lock_->replaced()->host);
  if (o_.resume)
    restore();
  else
    start_fresh();
  config_toml_ = x_.config.to_toml("", o_.dir);
  log_ = std::make_unique<MetricsLog>(o_.dir, o_.resume ? start_ : -1);
  for (const MetricsRow& r : log_->rows()) watch_generalization(r);
  progress_ =
      std::make_unique<Progress>(o_.dir, o_.live, start_, x_.train.steps, prior_wall_, o_.out);
  fmt::print(o_.out, "gradscope run {}: {}, {} parameters, {}, {} steps -> {}\n",
             x_.config.string("name"), x_.data.description, x_.model->params().elements(),
             precision_name<T>(), x_.train.steps, o_.dir.string());
  std::fflush(o_.out);
  s_ = start_;
}

// Iteration s_: the gradient, the log row, the checkpoint, then update s_ + 1. False once the run
// has ended (its last step, divergence, or a stop signal); finish() then writes the summary.
template <class T>
void Training<T>::queue() {
  // train.flush_subnormals: set for each call, on the threads this call's kernels run on (a
  // replica's worker alone, or every kernel thread), so a group's runs keep their own modes.
  const FlushSubnormals flush(x_.train.flush_subnormals);
  progress_->step(s_);
  steps_.queue_gradient(batches_.full() ? Examples{} : batches_.at(s_), batches_.full());
  queued_ = true;
}

template <class T>
bool Training<T>::advance() {
  const FlushSubnormals flush(x_.train.flush_subnormals);  // as in queue()
  if (!queued_) queue();
  queued_ = false;
  if (!gradient_at(s_)) return false;
  const double lr = scheduled_lr(x_.optim.lr, x_.schedule, s_);
  const bool end = s_ == end_step();
  const bool probe_step =
      std::any_of(x_.probes.begin(), x_.probes.end(),
                  [](const RunProbe<T>& p) { return !p.state->own_schedule(); }) &&
      (x_.probe.is_probe_step(s_, x_.train.steps) || end);
  bool interrupted = false;  // a probe cut short by a signal: no row at this step
  try {
    if (s_ % x_.train.log_every == 0 || end || probe_step) log_row(s_, lr, probe_step, end);
    measure_own_schedules(s_, end);
  } catch (const ProbeInterrupted&) {
    interrupted = true;
  }
  const bool stopping = g_stop.load() != 0 || interrupted;
  if ((s_ != start_ || !o_.resume) && policy_.due(s_, end, stopping)) checkpoint(s_);
  if (end && !interrupted) return false;  // the last row written: the run is complete
  if (stopping) {
    status_ = "interrupted";
    message_ = fmt::format("interrupted at step {}; resume with gradscope run --resume {}", s_,
                           o_.dir.string());
    return false;
  }
  steps_.update(lr);
  ++s_;
  return true;
}

// A new run directory: the resolved config and the theory's prediction.
template <class T>
void Training<T>::start_fresh() {
  namespace fs = std::filesystem;
  const fs::path lock = rundir::lock_file(o_.dir);
  std::vector<fs::path> old;  // what the directory holds besides our lock
  for (const auto& e : fs::directory_iterator(o_.dir))
    if (e.path() != lock) old.push_back(e.path());
  // --force replaces runs only. A run's config.toml is one gradscope reads; without one, only
  // what a start that stopped before writing it leaves (checkpoints/, temporary files).
  bool ours = rundir::is_run_dir(o_.dir);
  try {
    if (ours) read_run_config(o_.dir);
  } catch (const std::exception&) {  // another program's config.toml
    ours = false;
  }
  std::vector<fs::path> foreign;
  for (const fs::path& p : old)
    if (!rundir::is_run_entry(o_.dir, p) || (!ours && p != rundir::checkpoints_dir(o_.dir) &&
                                             !rundir::is_temporary(p.filename().string())))
      foreign.push_back(p);
  if (!foreign.empty()) {
    std::string names;
    for (size_t i = 0; i < foreign.size() && i < 3; ++i)
      names += (i ? ", " : "") + foreign[i].filename().string();
    throw ConfigError(fmt::format(
        "{} holds files that are not a run's ({}{}): --out takes a new or empty folder, or a run "
        "(--resume to continue it, --force to replace it)",
        o_.dir.string(), names, foreign.size() > 3 ? ", ..." : ""));
  }
  if (!old.empty() && !o_.force)
    throw ConfigError(o_.dir.string() +
                      " already holds a run (use --resume to continue it, --force to replace "
                      "it, or set name=... for a new one)");
  // The user's files the run keeps: copied beside the directory first (a source may lie in the
  // directory being replaced), then moved in; the config then names the copies.
  const fs::path home = fs::absolute(o_.dir).lexically_normal();
  const fs::path parent = (home.has_filename() ? home : home.parent_path()).parent_path();
  std::vector<std::string> staged;  // the keys whose files were copied
  auto stage = [&](const std::string& key) {
    return parent /
           fmt::format(".{}.{}.tmp", rundir::kept_file(home, key).filename().string(), ::getpid());
  };
  for (const std::string& key : x_.family->kept_files) {
    if (x_.config.string(key).empty()) continue;
    fs::create_directories(parent);
    fs::copy_file(x_.config.string(key), stage(key), fs::copy_options::overwrite_existing);
    staged.push_back(key);
  }
  for (const fs::path& p : old) fs::remove_all(p);
  fs::create_directories(rundir::checkpoints_dir(o_.dir));
  for (const std::string& key : staged) {
    fs::rename(stage(key), rundir::kept_file(home, key));
    x_.config.set(key, rundir::kept_file(home, key).string());
  }
  write_run_config(o_.dir, o_.version_header, x_.config);
  if (x_.prediction.value("available", false)) write_theory(o_.dir, x_.prediction);
}

// The newest checkpoint, checked against the config (only train.steps and the execution keys
// may change); an extended budget is written to config.toml, and the old summary goes.
template <class T>
void Training<T>::restore() {
  if (!rundir::is_run_dir(o_.dir)) throw ConfigError(o_.dir.string() + " holds no run to resume");
  for (const auto& tmp : rundir::temporary_files(o_.dir))  // a killed writer's; none is live now
    std::filesystem::remove(tmp);
  ParamStore<T>& ps = x_.model->params();
  const CheckpointInfo info = load_newest_whole();
  if (!info.config_toml.empty()) {
    const Config started = Config::from_string(info.config_toml, "checkpoint");
    extending_ = started.integer("train.steps") != x_.train.steps;
    std::string keys;
    for (const auto& k : started.diff(x_.config))
      if (!may_change_on_resume(k)) keys += (keys.empty() ? "" : ", ") + k;
    if (!keys.empty())
      throw ConfigError(rundir::config_file(o_.dir).string() +
                        " was edited since the run started (" + keys +
                        "); restore it, or start a new run");
  }
  if (x_.train.steps < info.step)
    throw ConfigError(fmt::format("train.steps = {} is before the run's last checkpoint (step {})",
                                  x_.train.steps, info.step));
  ps.upload_values();  // the checkpoint was read into the host copies
  x_.optimizer->upload_state();
  start_ = info.step;
  prior_wall_ = info.wall_time_s;
  for (RunProbe<T>& p : x_.probes)
    p.state->restore(read_probe_files(o_.dir / p.measure->folder), start_);
  if (!read_run_config(o_.dir).diff(x_.config).empty())
    write_run_config(o_.dir, o_.version_header, x_.config);
  remove_summary(o_.dir);
}

// Loads the newest checkpoint that is whole. Damaged newer ones (truncated, bit-flipped: a
// crash or a disk between a write and its rename) are set aside as .damaged, saying so.
template <class T>
CheckpointInfo Training<T>::load_newest_whole() {
  const auto steps = rundir::list_checkpoints(o_.dir);
  if (steps.empty()) throw ConfigError(o_.dir.string() + ": no checkpoint to resume from");
  std::vector<int64_t> damaged;
  for (auto step = steps.rbegin(); step != steps.rend(); ++step) {
    try {
      const CheckpointInfo info = restore_training_state(
          rundir::checkpoint_file(o_.dir, *step), x_.optim, x_.model->params(), *x_.optimizer);
      for (int64_t d : damaged) {
        std::filesystem::rename(rundir::checkpoint_file(o_.dir, d),
                                rundir::damaged_checkpoint_file(o_.dir, d));
        fmt::print(o_.err, "gradscope: set aside as {}; resuming from step {}\n",
                   rundir::damaged_checkpoint_file(o_.dir, d).filename().string(), info.step);
      }
      return info;
    } catch (const CheckpointDamaged& e) {
      fmt::print(o_.err, "gradscope: {}\n", e.what());
      damaged.push_back(*step);
    }
  }
  throw std::runtime_error(o_.dir.string() +
                           ": every checkpoint is damaged; nothing to resume "
                           "from (start the run again with --force)");
}

// The loss of the gradient queued at step s; false (diverged) when it is not finite.
template <class T>
bool Training<T>::gradient_at(int64_t s) {
  const double batch_loss = steps_.loss();
  if (!std::isfinite(batch_loss)) {
    status_ = "diverged";
    const auto kept = rundir::list_checkpoints(o_.dir);
    message_ = fmt::format("loss is {} at step {}; last good checkpoint: step {}", batch_loss, s,
                           kept.empty() ? int64_t{-1} : kept.back());
    return false;
  }
  return true;
}

template <class T>
void Training<T>::log_row(int64_t s, double lr, bool probe_step, bool end) {
  ParamStore<T>& ps = x_.model->params();
  const double grad_norm = steps_.grad_norm();
  ps.download_values();  // the losses on the device; measures read the host copy
  const Evaluation ev =
      evaluate(x_, steps_.eval_tape(), steps_.host_tape(), s, lr, grad_norm, probe_step);
  log_->append(ev.row);
  watch_generalization(ev.row);
  const std::string losses =
      x_.data.regression
          ? fmt::format("train loss {:.4e} | test loss {:.4e}", ev.train.loss, ev.test.loss)
          : fmt::format("train {:.3e} {:.4f} | test {:.3e} {:.4f}", ev.train.loss, ev.train.acc,
                        ev.test.loss, ev.test.acc);
  progress_->logged(s, losses, end);
}

// train.stop_after_generalized: once test accuracy first reaches the threshold at step g, the
// run ends at g + N (unless a resume extends the run from there).
template <class T>
void Training<T>::watch_generalization(const MetricsRow& row) {
  const int64_t n = x_.train.stop_after_generalized;
  if (n <= 0 || stop_at_ >= 0 || !(row.get("test_acc") >= x_.train.generalize_threshold)) return;
  if (extending_ && row.step() + n <= start_) return;
  stop_at_ = row.step() + n;
}

// The probe measures that keep their own schedule (the inside view), at their steps: they read
// the host copy of the parameters, add no row, and their files are written at once (a live
// run's viewer sees each frame as it is taken).
template <class T>
void Training<T>::measure_own_schedules(int64_t s, bool end) {
  bool downloaded = false;
  for (RunProbe<T>& p : x_.probes) {
    if (!p.state->own_schedule() || !p.state->due(s, end)) continue;
    if (!downloaded) x_.model->params().download_values(), downloaded = true;
    p.state->measure(s, x_.model->params(), steps_.host_tape());
    write_probe_files(o_.dir / p.measure->folder, p.state->files());
  }
}

// The probe measures' files (spectra/, fourier/, ...) with every row measured so far.
template <class T>
void Training<T>::write_probe_files_now() {
  for (const RunProbe<T>& p : x_.probes)
    write_probe_files(o_.dir / p.measure->folder, p.state->files());
}

template <class T>
void Training<T>::checkpoint(int64_t s) {
  write_probe_files_now();  // the probe measures' rows up to s survive
  ParamStore<T>& ps = x_.model->params();
  ps.download_values();  // the host copies are what a checkpoint saves
  x_.optimizer->download_state();
  save_training_state(rundir::checkpoint_file(o_.dir, s), s, progress_->elapsed(), config_toml_,
                      x_.optim, ps, *x_.optimizer);
  for (int64_t k : policy_.to_remove(s, rundir::list_checkpoints(o_.dir)))
    std::filesystem::remove(rundir::checkpoint_file(o_.dir, k));
}

template <class T>
Summary Training<T>::summarize() const {
  const std::vector<MetricsRow>& rows = log_->rows();
  Summary summary = make_summary(rows, x_.train, status_, {progress_->elapsed(), s_}, message_,
                                 !x_.data.regression);
  summary.n_params = x_.model->params().elements();
  const TaskFamily& family = *x_.family;
  if (!family.monitored.empty())
    summary.phase_changes = detect_phase_changes(
        rows, x_.train.phase_min_change, [&](const std::string& k) { return family.monitors(k); });
  std::vector<MetricValues> values;  // the rows as the probes and numerics read them
  if (!x_.data.regression || !x_.probes.empty()) {
    values.reserve(rows.size());
    for (const MetricsRow& r : rows) values.push_back(r.values);
  }
  if (!x_.data.regression) summary.section("numerics") = numerics_summary(values);
  if (!x_.probes.empty()) {
    nlohmann::ordered_json sections = nlohmann::ordered_json::object();
    for (const RunProbe<T>& p : x_.probes)
      p.state->summarize(values, summary.memorized_step, sections);
    for (auto& [name, section] : sections.items()) summary.section(name) = section;
  }
  if (x_.prediction.value("available", false))  // keys in JSON order: observed, prediction
    summary.theory = nlohmann::ordered_json::parse(nlohmann::json{
        {"prediction", x_.prediction},
        {"observed", compare_with_prediction(x_.prediction, rows, summary.spectral_jump_steps)}}
                                                       .dump());
  return summary;
}

template <class T>
int Training<T>::finish() {
  if (status_ == "completed" && s_ == stop_at_ && stop_at_ < x_.train.steps)
    message_ =
        fmt::format("stopped {} steps after generalized_step {}", x_.train.stop_after_generalized,
                    stop_at_ - x_.train.stop_after_generalized);
  write_probe_files_now();
  const Summary summary = summarize();
  write_summary(o_.dir, summary);
  progress_->finish();  // the heartbeat goes once the summary is there
  const nlohmann::ordered_json j = summary_to_json(summary);
  const std::string line = x_.family->summary_line ? x_.family->summary_line(j)
                           : x_.data.regression    ? regression_summary_line(j)
                                                   : classification_summary_line(j);
  fmt::print(o_.out, "{}: {}; {} ({} in {})\n", x_.config.string("name"), status_, line,
             format_duration(summary.wall_time_s), o_.dir.string());
  if (!message_.empty() && status_ != "completed") fmt::print(o_.err, "gradscope: {}\n", message_);
  std::fflush(o_.out);
  lock_.reset();
  if (status_ == "completed") return 0;
  return status_ == "interrupted" ? 130 : 1;
}

template <class T>
std::unique_ptr<SteppedRun> start(const Config& config, const RunOptions& options,
                                  std::unique_ptr<DeviceContext> device) {
  auto run =
      std::make_unique<Training<T>>(Experiment<T>::build(config, std::move(device)), options);
  run->begin();
  return run;
}

}  // namespace

bool may_change_on_resume(const std::string& key) {
  const KeySpec* spec = Config::find(key);
  return key == "train.steps" || (spec && (spec->execution || spec->file));
}

std::string version_header(const std::string& version, const std::string& git_rev) {
  return fmt::format(
      "# gradscope {} (git {}): the resolved config of this run, every key listed.\n", version,
      git_rev);
}

Config experiment_config(Config config, const std::vector<std::string>& overrides,
                         const std::string& origin) {
  if (config.has_sweep())
    throw ConfigError(origin + " defines a [sweep]; run it with gradscope sweep " + origin);
  for (const std::string& kv : overrides) config.apply_override(kv);
  validate_experiment(config);
  resolve_task(config);
  return config;
}

Config resume_config(const std::filesystem::path& dir, const std::vector<std::string>& overrides) {
  Config c = read_run_config(dir);
  for (const std::string& kv : overrides) {
    c.apply_override(kv);
    const std::string key = kv.substr(0, kv.find('='));
    if (!may_change_on_resume(key))
      throw ConfigError("--resume " + dir.string() + ": " + key +
                        " cannot change in a run that has started (valid: train.steps=M to "
                        "extend it)");
  }
  // A run made on a GPU, resumed where there is none: say how to go on here.
  const std::string why = device_unavailable(device_from_name(c.string("device")));
  if (!why.empty())
    throw ConfigError(fmt::format(
        "--resume {}: device = {}: {} (valid: --device cpu or --device emulated before `run` "
        "continues it on this machine)",
        dir.string(), c.string("device"), why));
  return c;
}

bool stop_requested() {
  return g_stop.load() != 0;
}

StopOnSignal::StopOnSignal() {
  g_stop.store(0);
  previous_int_ = std::signal(SIGINT, on_signal);
  previous_term_ = std::signal(SIGTERM, on_signal);
}

StopOnSignal::~StopOnSignal() {
  std::signal(SIGINT, previous_int_);
  std::signal(SIGTERM, previous_term_);
}

std::unique_ptr<SteppedRun> start_run(const Config& config, const RunOptions& options,
                                      std::unique_ptr<DeviceContext> device) {
  return config.string("precision") == "float64" ? start<double>(config, options, std::move(device))
                                                 : start<float>(config, options, std::move(device));
}

int exit_status_of(const std::exception& e) {
  if (dynamic_cast<const std::invalid_argument*>(&e)) return 2;
  return dynamic_cast<const RunBusy*>(&e) ? kRunBusyExit : 1;
}

int run_experiment(const Config& config, const RunOptions& options,
                   const std::function<void()>& then) {
  std::unique_ptr<SteppedRun> run = start_run(config, options);
  const StopOnSignal signals;
  while (run->advance()) {
  }
  const int code = run->finish();
  run.reset();  // the lock released, the device let go
  if (then) then();
  return code;
}

}  // namespace gradscope
