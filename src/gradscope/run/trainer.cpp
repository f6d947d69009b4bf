// The training loop: see trainer.h. Shape legend: N = examples in a batch, L = ids per example,
// C = model outputs.
#include "gradscope/run/trainer.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <numeric>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "gradscope/nn/models.h"
#include "gradscope/optim/schedule.h"
#include "gradscope/probes/emergence.h"
#include "gradscope/probes/spectra.h"
#include "gradscope/run/checkpoint.h"
#include "gradscope/run/objective.h"
#include "gradscope/run/prediction.h"
#include "gradscope/run/run_files.h"
#include "gradscope/run/summary.h"
#include "gradscope/tasks/algorithmic.h"
#include "gradscope/tasks/emergence.h"
#include "gradscope/tasks/regression.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_signal(int) {
  g_stop = 1;
}

using Clock = std::chrono::steady_clock;

struct Eval {
  double loss = 0, acc = NAN, rel_error = NAN;
  MetricValues extra;  // per-subtask and induction metrics (probes/emergence.h)
};

// The loss on a whole split (no gradients), with accuracy (classification: over every
// prediction) or the relative error ||f(x) - y|| / ||y|| (regression).
template <class T>
Eval evaluate(Model<T>& model, Tape<T>& t, const Dataset& d, Loss loss, const std::string& split) {
  t.reset();
  t.set_grad_enabled(false);
  const Examples all = all_examples(d);
  const int64_t N = d.size();
  Var out = model_outputs(t, model, d, all);  // [N, C] logits or [N, Y] predictions
  Eval e;
  e.loss = double(t.value(objective(t, out, d, all, loss))[0]);
  const Tensor<T> l = t.value(out);
  const int64_t C = l.shape[1];
  if (d.outputs == 0 && (C == 1 || d.targets_per_example > 1 || !d.groups.empty())) {
    const Predictions p = score_predictions(l, d, loss);
    int64_t correct = 0;
    for (char c : p.correct) correct += c;
    e.acc = double(correct) / double(p.correct.size());
    output_metrics(p, d, split, e.extra);
  } else if (d.outputs > 0) {
    double err = 0, norm = 0;
    for (int64_t i = 0; i < N * C; ++i) {
      err += (double(l.data[i]) - d.y[i]) * (double(l.data[i]) - d.y[i]);
      norm += d.y[i] * d.y[i];
    }
    e.rel_error = norm > 0 ? std::sqrt(err / norm) : std::sqrt(err);
  } else {
    int64_t correct = 0;
    for (int64_t r = 0; r < N; ++r) {
      const T* row = l.data + r * C;
      correct += std::max_element(row, row + C) - row == d.targets[r];
    }
    e.acc = double(correct) / double(N);
  }
  t.set_grad_enabled(true);
  t.reset();
  return e;
}

// Mode strengths v_i^T E u_i of a linear teacher's modes in the model's end-to-end matrix E.
template <class T>
void add_mode_strengths(const Model<T>& model, const Teacher& th, std::span<const T> values,
                        std::vector<std::pair<std::string, double>>& row) {
  if (th.in_vectors.empty()) return;
  for (const ProbedMatrix& m : model.probed_matrices()) {
    if (m.name != "end_to_end") continue;
    std::vector<double> E(static_cast<size_t>(m.rows * m.cols));
    model.probed_matrix(m, values, E.data());
    for (size_t i = 0; i < th.values.size(); ++i) {
      double u = 0;
      for (int64_t r = 0; r < m.rows; ++r)
        for (int64_t c = 0; c < m.cols; ++c)
          u += th.in_vectors[i * m.rows + r] * E[r * m.cols + c] * th.out_vectors[i * m.cols + c];
      row.emplace_back(fmt::format("mode.{}", i), u);
    }
  }
}

// Writes the probe's spectra/*.npy files (each atomically).
template <class T>
void write_spectra(const std::filesystem::path& dir, const SpectralProbe<T>& probe) {
  std::filesystem::create_directories(dir / "spectra");
  for (const auto& [name, bytes] : probe.files()) write_file_atomic(dir / "spectra" / name, bytes);
}

// Reads every spectra/*.npy file of a run directory (name -> bytes).
std::map<std::string, std::string> read_spectra(const std::filesystem::path& dir) {
  std::map<std::string, std::string> files;
  if (!std::filesystem::is_directory(dir / "spectra")) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "spectra")) {
    if (entry.path().extension() != ".npy") continue;
    files[entry.path().filename().string()] = read_file(entry.path());
  }
  return files;
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
  const bool regression = cfg.is_regression(), emergence = cfg.is_emergence();
  const TaskData data = regression  ? make_regression_task(cfg.regression_task())
                        : emergence ? make_emergence_task(cfg.emergence_task())
                                    : make_algorithmic_task(cfg.task());
  const Loss loss_kind = loss_from_name(cfg.string("train.loss"));
  ModelShape shape{data.vocab,          data.num_classes,   data.train.length,
                   data.train.features, data.train.outputs, 0};
  if (loss_kind == Loss::hinge) shape.num_classes = 1;  // one score per example
  shape.predictions = data.train.targets_per_example;
  if (regression && cfg.string("task.teacher") == "attention" &&
      cfg.string("task.name") == "lowrank_teacher")
    shape.seq_len = cfg.integer("task.seq_len");
  const uint64_t seed = static_cast<uint64_t>(cfg.integer("seed"));
  auto model = make_model<T>(cfg.model(), shape, seed);
  ParamStore<T>& ps = model->params();
  const ProbeConfig pc = cfg.probe();
  std::optional<SpectralProbe<T>> probe;
  if (pc.spectra) probe.emplace(*model, pc);
  const nlohmann::json prediction = predict(cfg);
  const double alpha = cfg.real("model.init_scale");
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
    if (probe) probe->restore(read_spectra(dir), start);
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
    if (prediction.value("available", false))
      write_file_atomic(dir / "theory.json", prediction.dump(2) + "\n");
  }
  MetricsLog log(dir, o.resume ? start : -1);

  // Batch buffers (minibatch): allocated once.
  const Dataset& train_set = data.train;
  const int64_t N_all = train_set.size(), L = train_set.length, F = train_set.features,
                Y = train_set.outputs, P = train_set.targets_per_example;
  // Fresh samples (data.sample): batch_size new examples per step; else a fixed set.
  const int64_t N = data.sample         ? tc.batch_size
                    : tc.batch_size > 0 ? std::min(tc.batch_size, N_all)
                                        : N_all;
  std::vector<int32_t> order(N_all), batch_ids(N * L), batch_targets(Y > 0 ? 0 : N * P);
  Dataset fresh;  // the step's fresh samples
  std::vector<double> batch_x(N * F), batch_y(N * Y);
  const Rng batch_rng(seed, "batch");
  const Examples all_train = all_examples(train_set);

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
    Examples batch = all_train;
    if (data.sample) {
      data.sample(seed, static_cast<uint64_t>(s), N, fresh);
      batch = all_examples(fresh);
    } else if (N < N_all) {  // N examples without replacement, drawn from the step's own stream
      std::iota(order.begin(), order.end(), 0);
      const Rng r = batch_rng.substream(static_cast<uint64_t>(s));
      for (int64_t j = 0; j < N; ++j) {
        const int64_t k = j + static_cast<int64_t>(r.below(static_cast<uint64_t>(j), N_all - j));
        std::swap(order[j], order[k]);
        const int64_t e = order[j];
        std::copy_n(train_set.inputs.begin() + e * L, L, batch_ids.begin() + j * L);
        std::copy_n(train_set.x.begin() + e * F, F, batch_x.begin() + j * F);
        if (Y > 0)
          std::copy_n(train_set.y.begin() + e * Y, Y, batch_y.begin() + j * Y);
        else
          std::copy_n(train_set.targets.begin() + e * P, P, batch_targets.begin() + j * P);
      }
      batch = {L > 0 ? batch_ids.data() : nullptr, F > 0 ? batch_x.data() : nullptr,
               Y > 0 ? nullptr : batch_targets.data(), Y > 0 ? batch_y.data() : nullptr, N};
    }
    tape.reset();
    ps.zero_grad();
    Var loss =
        objective(tape, model_outputs(tape, *model, train_set, batch), train_set, batch, loss_kind);
    if (tc.loss_reduction == "mean_over_classes" && !regression)
      loss = scale(tape, loss, 1.0 / outputs);
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
    const bool probe_step = probe && pc.is_probe_step(s, tc.steps);
    const bool log_step = s % tc.log_every == 0 || s == tc.steps || probe_step;
    if (log_step) {
      const double grad_norm = l2_norm<T>(ps.grads());
      const Eval tr = evaluate(*model, tape, train_set, loss_kind, "train");
      const Eval te = evaluate(*model, tape, data.test, loss_kind, "test");
      MetricsRow row;
      row.values = {{"step", double(s)}, {"lr", lr}, {"train_loss", tr.loss}};
      if (regression) {
        row.values.insert(row.values.end(),
                          {{"test_loss", te.loss}, {"test_rel_error", te.rel_error}});
      } else {
        row.values.insert(row.values.end(),
                          {{"train_acc", tr.acc}, {"test_loss", te.loss}, {"test_acc", te.acc}});
        row.values.insert(row.values.end(), tr.extra.begin(), tr.extra.end());
        row.values.insert(row.values.end(), te.extra.begin(), te.extra.end());
      }
      if (alpha < 1)
        row.values.emplace_back("rescaled_time", double(s) * oc.lr / std::log(1 / alpha));
      row.values.emplace_back("weight_norm", l2_norm<T>(ps.values()));
      row.values.emplace_back("grad_norm", grad_norm);
      for (int i = 0; i < ps.count(); ++i) {
        const Tensor<T> w = ps.value(i);
        row.values.emplace_back("weight_norm." + ps.info(i).name,
                                l2_norm<T>(std::span<const T>(w.data, w.numel())));
      }
      add_mode_strengths<T>(*model, data.teacher, ps.values(), row.values);
      if (emergence) hidden_progress(*model, tape, data, row.values);
      if (probe) {
        const std::vector<std::string> names = probe->metric_names();
        const std::vector<double> v =
            probe_step ? probe->measure(s, ps.values(), ps.initial_values()) : probe->missing();
        for (size_t j = 0; j < names.size(); ++j) row.values.emplace_back(names[j], v[j]);
      }
      log.append(row);
      const double done = double(s - start), rate = done / std::max(1e-9, elapsed() - prior_wall);
      const bool print = o.live || s == tc.steps || s == start ||
                         Clock::now() - last_print > std::chrono::seconds(10);
      if (print) {
        const std::string eta = done > 0 ? format_duration((tc.steps - s) / rate) : "?";
        const int width = static_cast<int>(std::to_string(tc.steps).size());
        const std::string line =
            regression ? fmt::format(
                             "step {:>{}}/{} | train loss {:.4e} | test loss {:.4e} | {:.1f} "
                             "steps/s | ETA {}",
                             s, width, tc.steps, tr.loss, te.loss, rate, eta)
                       : fmt::format(
                             "step {:>{}}/{} | train {:.3e} {:.4f} | test {:.3e} {:.4f} | {:.1f} "
                             "steps/s | ETA {}",
                             s, width, tc.steps, tr.loss, tr.acc, te.loss, te.acc, rate, eta);
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
      if (probe) write_spectra(dir, *probe);  // spectra up to s survive a crash after it
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

  if (probe) write_spectra(dir, *probe);
  const RunTiming timing{elapsed(), s};
  auto summary = make_summary(log.rows(), tc, status, timing, message, !regression);
  if (emergence) summary["phase_changes"] = detect_phase_changes(log.rows(), tc.phase_min_change);
  std::map<std::string, std::vector<int64_t>> jumps;
  if (probe) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    for (size_t i = 0; i < probe->matrices().size(); ++i) {
      const std::string& name = probe->matrices()[i].name;
      jumps[name] = spectral_jump_steps(probe->steps(), probe->rows(i), pc.rank_eps);
      j[name] = jumps[name];
    }
    summary["spectral_jump_steps"] = j;
  }
  if (prediction.value("available", false)) {
    summary["theory"] = nlohmann::ordered_json::parse(nlohmann::json{
        {"prediction", prediction},
        {"observed", compare_with_prediction(prediction, log.rows(),
                                             jumps)}}.dump());
  }
  write_file_atomic(dir / "summary.json", summary.dump(2) + "\n");
  if (emergence) {
    const auto& drop = summary["phase_changes"].value("test_loss", nlohmann::ordered_json());
    const bool known = drop.is_object();
    fmt::print("{}: {}; test loss {} -> {} ({}), final test accuracy {:.4f} ({} in {})\n",
               cfg.string("name"), status, known ? drop["from"].dump() : "?",
               known ? drop["to"].dump() : "?",
               !known                   ? std::string("too few logged steps to tell")
               : drop["step"].is_null() ? std::string("no phase change")
                                        : "drop at step " + drop["step"].dump(),
               log.rows().empty() ? NAN : log.rows().back().get("test_acc"),
               format_duration(timing.wall_time_s), dir.string());
  } else if (regression) {
    fmt::print("{}: {}; final train loss {:.4e}, test loss {:.4e} ({} in {})\n", cfg.string("name"),
               status, log.rows().empty() ? NAN : log.rows().back().get("train_loss"),
               log.rows().empty() ? NAN : log.rows().back().get("test_loss"),
               format_duration(timing.wall_time_s), dir.string());
  } else {
    fmt::print("{}: {}; memorized_step {}, generalized_step {}, regime {} ({} in {})\n",
               cfg.string("name"), status, summary["memorized_step"].dump(),
               summary["generalized_step"].dump(), summary["regime"].get<std::string>(),
               format_duration(timing.wall_time_s), dir.string());
  }
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
