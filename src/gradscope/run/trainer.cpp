// The training loop: see trainer.h. Shape legend: N = examples in a batch, L = ids per example,
// C = model outputs.
#include "gradscope/run/trainer.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <numeric>

#include "gradscope/nn/models.h"
#include "gradscope/optim/schedule.h"
#include "gradscope/run/checkpoint.h"
#include "gradscope/run/run_files.h"
#include "gradscope/run/summary.h"
#include "gradscope/tasks/algorithmic.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_signal(int) {
  g_stop = 1;
}

using Clock = std::chrono::steady_clock;

struct Eval {
  double loss = 0, acc = 0;
};

// Mean cross-entropy and accuracy of the model on a whole split (no gradients).
template <class T>
Eval evaluate(Model<T>& model, Tape<T>& t, const Dataset& d) {
  t.reset();
  t.set_grad_enabled(false);
  const int64_t N = d.size();
  Var logits = model.logits(t, d.inputs.data(), N);  // [N, C]
  Eval e;
  e.loss = double(t.value(cross_entropy(t, logits, d.targets.data()))[0]);
  const Tensor<T> l = t.value(logits);
  const int64_t C = l.shape[1];
  int64_t correct = 0;
  for (int64_t r = 0; r < N; ++r) {
    const T* row = l.data + r * C;
    correct += std::max_element(row, row + C) - row == d.targets[r];
  }
  e.acc = double(correct) / double(N);
  t.set_grad_enabled(true);
  t.reset();
  return e;
}

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto t = static_cast<int64_t>(s);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02d}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

template <class T>
int train(const Config& cfg, const RunOptions& o) {
  // Everything that can fail on bad input happens before the run directory is touched.
  const TaskData data = make_algorithmic_task(cfg.task());
  const ModelShape shape{data.vocab, data.num_classes, data.train.length};
  const uint64_t seed = static_cast<uint64_t>(cfg.integer("seed"));
  auto model = make_model<T>(cfg.model(), shape, seed);
  ParamStore<T>& ps = model->params();
  const OptimizerConfig oc = cfg.optim();
  const ScheduleConfig sc = cfg.schedule();
  const TrainConfig tc = cfg.train();
  auto opt = make_optimizer<T>(oc, ps.size());
  const std::string config_toml = cfg.to_toml();
  const std::filesystem::path dir = o.dir;

  int64_t start = 0;
  double prior_wall = 0;
  if (o.resume) {
    const auto steps = list_checkpoints(dir);
    if (steps.empty()) throw ConfigError(dir.string() + ": no checkpoint to resume from");
    const CheckpointInfo info =
        load_checkpoint(checkpoint_path(dir, steps.back()), oc.name, ps, *opt);
    if (!info.config_toml.empty() && info.config_toml != config_toml) {
      // config.toml was edited after the run started: name what changed.
      const Config original = Config::from_string(info.config_toml, "checkpoint");
      std::string keys;
      for (const auto& k : original.diff(cfg)) keys += (keys.empty() ? "" : ", ") + k;
      throw ConfigError(dir.string() + "/config.toml was edited since the run started (" + keys +
                        "); restore it, or start a new run");
    }
    start = info.step;
    prior_wall = info.wall_time_s;
  } else {
    if (std::filesystem::exists(dir) && !std::filesystem::is_empty(dir)) {
      if (!o.force)
        throw ConfigError(dir.string() +
                          " already holds a run (use --resume to continue it, --force to replace "
                          "it, or set name=... for a new one)");
      std::filesystem::remove_all(dir);
    }
    std::filesystem::create_directories(dir / "checkpoints");
    write_file_atomic(dir / "config.toml", o.version_header + config_toml);
  }
  MetricsLog log(dir, o.resume ? start : -1);

  // Batch buffers (minibatch): allocated once.
  const Dataset& train_set = data.train;
  const int64_t N_all = train_set.size(), L = train_set.length;
  const int64_t N = tc.batch_size > 0 ? std::min(tc.batch_size, N_all) : N_all;
  std::vector<int32_t> order(N_all), batch_inputs(N * L), batch_targets(N);
  const Rng batch_rng(seed, "batch");

  Arena arena;
  Tape<T> tape(arena);
  std::vector<std::pair<std::string, double>> row_values;
  std::string status = "completed", message;
  g_stop = 0;
  auto previous_int = std::signal(SIGINT, on_signal);
  auto previous_term = std::signal(SIGTERM, on_signal);
  const auto t0 = Clock::now();
  auto elapsed = [&] {
    return prior_wall + std::chrono::duration<double>(Clock::now() - t0).count();
  };
  auto last_print = Clock::now() - std::chrono::hours(1);
  const double outputs = double(model->outputs());
  fmt::print("gradscope run {}: {}, {} parameters, {}, {} steps -> {}\n", cfg.string("name"),
             data.description, ps.size(), precision_name<T>(), tc.steps, dir.string());
  std::fflush(stdout);

  int64_t s = start;
  for (;; ++s) {
    // --- gradient at step s ---
    const int32_t* inputs = train_set.inputs.data();
    const int32_t* targets = train_set.targets.data();
    if (N < N_all) {  // N examples without replacement, drawn from the step's own stream
      std::iota(order.begin(), order.end(), 0);
      const Rng r = batch_rng.substream(static_cast<uint64_t>(s));
      for (int64_t j = 0; j < N; ++j) {
        const int64_t k = j + static_cast<int64_t>(r.below(static_cast<uint64_t>(j), N_all - j));
        std::swap(order[j], order[k]);
        std::copy_n(train_set.inputs.begin() + order[j] * L, L, batch_inputs.begin() + j * L);
        batch_targets[j] = train_set.targets[order[j]];
      }
      inputs = batch_inputs.data();
      targets = batch_targets.data();
    }
    tape.reset();
    ps.zero_grad();
    Var loss = cross_entropy(tape, model->logits(tape, inputs, N), targets);
    if (tc.loss_reduction == "mean_over_classes") loss = scale(tape, loss, 1.0 / outputs);
    const double batch_loss = double(tape.value(loss)[0]);
    if (!std::isfinite(batch_loss)) {
      status = "diverged";
      const auto kept = list_checkpoints(dir);
      message = fmt::format("loss is {} at step {}; last good checkpoint: step {}", batch_loss, s,
                            kept.empty() ? int64_t{-1} : kept.back());
      break;
    }
    tape.backward(loss);
    const double lr = scheduled_lr(oc.lr, sc, s);

    // --- log row s ---
    const bool log_step = s % tc.log_every == 0 || s == tc.steps;
    if (log_step) {
      const double grad_norm = l2_norm<T>(ps.grads());
      const Eval tr = evaluate(*model, tape, train_set);
      const Eval te = evaluate(*model, tape, data.test);
      MetricsRow row;
      row.values = {{"step", double(s)},
                    {"lr", lr},
                    {"train_loss", tr.loss},
                    {"train_acc", tr.acc},
                    {"test_loss", te.loss},
                    {"test_acc", te.acc},
                    {"weight_norm", l2_norm<T>(ps.values())},
                    {"grad_norm", grad_norm}};
      for (int i = 0; i < ps.count(); ++i) {
        const Tensor<T> w = ps.value(i);
        row.values.emplace_back("weight_norm." + ps.info(i).name,
                                l2_norm<T>(std::span<const T>(w.data, w.numel())));
      }
      log.append(row);
      const double done = double(s - start), rate = done / std::max(1e-9, elapsed() - prior_wall);
      const bool print = o.live || s == tc.steps || s == start ||
                         Clock::now() - last_print > std::chrono::seconds(10);
      if (print) {
        const std::string line = fmt::format(
            "step {:>{}}/{} | train {:.3e} {:.4f} | test {:.3e} {:.4f} | {:.1f} steps/s | ETA {}",
            s, std::to_string(tc.steps).size(), tc.steps, tr.loss, tr.acc, te.loss, te.acc, rate,
            done > 0 ? format_duration((tc.steps - s) / rate) : std::string("?"));
        if (o.live) {
          fmt::print("\r\033[K{}", line);
        } else {
          fmt::print("{}\n", line);
        }
        std::fflush(stdout);
        last_print = Clock::now();
      }
    }

    // --- checkpoint step s ---
    const bool periodic = tc.checkpoint_every > 0 && s % tc.checkpoint_every == 0;
    const bool stopping = g_stop != 0;
    if ((s != start || !o.resume) &&
        (is_log_spaced_step(s) || periodic || s == tc.steps || stopping)) {
      save_checkpoint(checkpoint_path(dir, s), s, elapsed(), config_toml, oc.name, ps, *opt);
      if (!is_log_spaced_step(s))  // keep only the newest of the periodic checkpoints
        for (int64_t k : list_checkpoints(dir))
          if (k != s && !is_log_spaced_step(k)) std::filesystem::remove(checkpoint_path(dir, k));
    }
    if (s == tc.steps) break;
    if (stopping) {
      status = "interrupted";
      message = fmt::format("interrupted at step {}; resume with gradscope run --resume {}", s,
                            dir.string());
      break;
    }

    // --- update s + 1 ---
    if (cfg.clip_norm() > 0) clip_grad_norm<T>(ps.grads(), cfg.clip_norm());
    opt->step(ps.values(), ps.grads(), lr);
  }
  std::signal(SIGINT, previous_int);
  std::signal(SIGTERM, previous_term);
  if (o.live) fmt::print("\n");

  const RunTiming timing{elapsed(), s};
  const auto summary = make_summary(log.rows(), tc, status, timing, message);
  write_file_atomic(dir / "summary.json", summary.dump(2) + "\n");
  fmt::print("{}: {}; memorized_step {}, generalized_step {}, regime {} ({} in {})\n",
             cfg.string("name"), status, summary["memorized_step"].dump(),
             summary["generalized_step"].dump(), summary["regime"].get<std::string>(),
             format_duration(timing.wall_time_s), dir.string());
  if (!message.empty()) fmt::print(stderr, "gradscope: {}\n", message);
  if (status == "completed") return 0;
  return status == "interrupted" ? 130 : 1;
}

}  // namespace

bool is_log_spaced_step(int64_t step) {
  if (step == 0) return true;
  for (int64_t p = 100; p <= step; p *= 10)
    if (step == p || step == 2 * p || step == 5 * p) return true;
  return false;
}

int run_experiment(const Config& config, const RunOptions& options) {
  config.validate();
  return config.string("precision") == "float64" ? train<double>(config, options)
                                                 : train<float>(config, options);
}

}  // namespace gradscope
