// Predictions and their comparison with runs: see prediction.h.
#include "gradscope/run/prediction.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "gradscope/nn/linear_models.h"
#include "gradscope/nn/model_registry.h"
#include "gradscope/probes/objective.h"
#include "gradscope/tasks/regression.h"
#include "gradscope/tensor/arena.h"
#include "gradscope/theory/saxe.h"
#include "gradscope/theory/stages.h"

namespace gradscope {
namespace {

using json = nlohmann::json;

json unavailable(const std::string& reason) {
  return {{"available", false}, {"reason", reason}};
}

json stages(const Config& cfg, const TaskData& data, Model<double>& model,
            const DiagonalNetwork<double>& diag) {
  const double alpha = cfg.real("model.init_scale"), lr = cfg.real("optim.lr");
  Arena arena;
  Tape<double> tape(arena);
  ParamStore<double>& ps = model.params();
  const Examples all = all_examples(data.train);
  auto loss = [&](const std::vector<double>& w, std::vector<double>& g) {
    diag.set_diagonal_point(ps.values(), w);
    tape.reset();
    ps.zero_grad();
    Var l = objective(tape, model_outputs(tape, model, data.train, all), data.train, all);
    const double value = tape.value(l)[0];
    tape.backward(l);
    diag.diagonal_gradient(ps.grads(), g);
    return value;
  };
  const StagePrediction p = predict_stages(diag.diagonal_coordinates(), loss);
  const double log_inv = std::log(1.0 / alpha);
  json steps = json::array(), names = json::array();
  for (size_t k = 0; k < p.jump_times.size(); ++k) {
    steps.push_back(p.jump_times[k] * log_inv / lr);
    const int64_t c = p.coordinates[k];
    names.push_back(diag.coordinate_name(c));
  }
  return {{"available", true},
          {"kind", "stages"},
          {"alpha", alpha},
          {"lr", lr},
          {"log_inv_alpha", log_inv},
          {"jump_times", p.jump_times},
          {"jump_steps", steps},
          {"coordinates", names},
          {"plateau_losses", p.plateau_losses}};
}

json saxe(const Config& cfg, const TaskData& data, Model<double>& model) {
  const int64_t depth = cfg.integer("model.depth");
  const double alpha = cfg.real("model.init_scale"), lr = cfg.real("optim.lr");
  const bool identity = cfg.string("model.init") == "identity";
  if (depth < 2) return unavailable("Saxe's dynamics need model.depth >= 2");
  if (depth > 2 && (!identity || cfg.string("task.teacher_basis") != "identity"))
    return unavailable(
        "for model.depth > 2 the prediction needs a decoupled start: model.init = \"identity\" "
        "and task.teacher_basis = \"identity\"");
  if (cfg.string("task.inputs") != "whitened")
    return unavailable("Saxe's closed form assumes whitened inputs (task.inputs = \"whitened\")");
  const Teacher& th = *family_data<Teacher>(data.extra);  // a linear teacher (no_theory_for)
  const int64_t din = th.in_dim, dout = th.out_dim;
  // The initial mode strength: depth 2 from the projections a = W_0^T v, b = W_1 u, the growing
  // component being (a + b) / 2: u0 = ||(a + b) / 2||^2 (alpha^2 for the identity init);
  // deeper identity inits: alpha^depth.
  ParamStore<double>& ps = model.params();
  json modes = json::array();
  for (size_t i = 0; i < th.values.size(); ++i) {
    const double s = th.values[i];
    if (!(s > 0)) continue;
    double u0 = std::pow(alpha, double(depth));
    if (depth == 2) {
      const Tensor<const double> W0 = ps.initial(0), W1 = ps.initial(1);  // [din, h], [h, dout]
      const int64_t h = W0.shape[1];
      u0 = 0;
      for (int64_t j = 0; j < h; ++j) {
        double a = 0, b = 0;
        for (int64_t r = 0; r < din; ++r) a += W0.data[r * h + j] * th.in_vectors[i * din + r];
        for (int64_t c = 0; c < dout; ++c)
          b += W1.data[j * dout + c] * th.out_vectors[i * dout + c];
        u0 += (a + b) * (a + b) / 4;
      }
    }
    if (!(u0 > 0 && u0 < s / 2))
      return unavailable(fmt::format(
          "Saxe's prediction needs a small initialization: mode {} starts at u0 = {:.3g}, not "
          "inside (0, s/2 = {:.3g}) (lower model.init_scale)",
          i, u0, s / 2));
    modes.push_back(
        {{"mode", i}, {"s", s}, {"u0", u0}, {"half_step", saxe_half_time(s, u0, depth) / lr}});
  }
  return {{"available", true}, {"kind", "saxe"}, {"depth", depth}, {"lr", lr}, {"modes", modes}};
}

// Why no theory applies to this config, or "" when one may: gradient flow on a regression task.
std::string no_gradient_flow(const Config& cfg, const TaskData& data) {
  if (!data.regression) return "no theory for task.name = " + cfg.string("task.name");
  if (cfg.string("optim.name") != "sgd" || cfg.real("optim.momentum") != 0 ||
      cfg.real("optim.weight_decay") != 0)
    return "the theory describes gradient flow: optim.name = \"sgd\" with momentum 0 "
           "and weight_decay 0";
  if (!(cfg.real("optim.lr") > 0)) return "optim.lr = 0: the theory's time is step * lr";
  const int64_t batch = cfg.integer("train.batch_size");
  if (batch > 0 && batch < data.train.size())
    return "the theory describes full-batch gradient descent: train.batch_size = 0 (or the whole "
           "train split)";
  if (cfg.string("optim.decay") != "constant")
    return "the theory's time is step * lr at one rate: optim.decay = \"constant\"";
  if (cfg.string("optim.grad_filter") != "none" || cfg.boolean("optim.orthogonal") ||
      cfg.real("optim.clip_norm") != 0 || cfg.real("optim.weight_norm") != 0)
    return "the theory describes plain gradient descent: optim.grad_filter = \"none\", "
           "optim.orthogonal = false, optim.clip_norm = 0 and optim.weight_norm = 0";
  return "";
}

// Why no theory applies to this model, or "": a small diagonal network (the stages) or a deep
// linear network on a linear teacher (Saxe).
std::string no_theory_for(const Config& cfg, const TaskData& data, const Model<double>* model) {
  const auto* diag = dynamic_cast<const DiagonalNetwork<double>*>(model);
  const auto* chain = dynamic_cast<const LinearNetwork*>(model);
  const bool stage_model = diag && diag->diagonal_coordinates() > 0;
  const Teacher* teacher = family_data<Teacher>(data.extra);
  const bool saxe_model =
      chain && chain->linear_depth() > 0 && teacher && !teacher->in_vectors.empty();
  if (diag && !stage_model)
    return "the stage prediction needs a depth-2 diagonal network (model.depth = 2)";
  if (!stage_model && !saxe_model)
    return "no theory for model.type = " + cfg.string("model.type") +
           " with task.name = " + cfg.string("task.name");
  if (stage_model && cfg.real("model.init_scale") >= 1)
    return "the stage prediction needs a small initialization (model.init_scale < 1)";
  return "";
}

}  // namespace

json predict(const Config& cfg, const TaskData& data, const ModelShape& shape) {
  if (const std::string why = no_gradient_flow(cfg, data); !why.empty()) return unavailable(why);
  auto model =
      make_model<double>(model_options(cfg), shape, static_cast<uint64_t>(cfg.integer("seed")));
  if (const std::string why = no_theory_for(cfg, data, model.get()); !why.empty())
    return unavailable(why);
  const auto* diag = dynamic_cast<const DiagonalNetwork<double>*>(model.get());
  json p = diag && diag->diagonal_coordinates() > 0 ? stages(cfg, data, *model, *diag)
                                                    : saxe(cfg, data, *model);
  if (cfg.integer("optim.warmup_steps") > 0 && p.value("available", false))
    p["note"] = "optim.warmup_steps > 0 delays the run by about half the warmup";
  return p;
}

namespace {

// The first logged step whose train loss falls below the midpoint of each pair of consecutive
// predicted plateaus (null where they do not differ visibly, or it never does).
json loss_jump_steps(const std::vector<double>& plateaus, const std::vector<MetricsRow>& rows) {
  json steps = json::array();
  for (size_t k = 1; k < plateaus.size(); ++k) {
    const double hi = plateaus[k - 1], lo = plateaus[k];
    json at = nullptr;
    if (hi - lo > 1e-3 * std::max(hi, 1e-12))  // a visible drop at this jump
      for (const MetricsRow& r : rows)
        if (r.get("train_loss") <= (hi + lo) / 2) {
          at = r.step();
          break;
        }
    steps.push_back(at);
  }
  return steps;
}

json compare_stages(const json& p, const std::vector<MetricsRow>& rows,
                    const nlohmann::ordered_json& jumps) {
  const double scale = p["lr"].get<double>() / p["log_inv_alpha"].get<double>();
  const json loss_steps = loss_jump_steps(p["plateau_losses"].get<std::vector<double>>(), rows);
  json loss_times = json::array();
  for (const json& at : loss_steps)
    loss_times.push_back(at.is_null() ? json(nullptr) : json(at.get<double>() * scale));
  // Rank increments: every matrix's half-value crossings, in time order.
  std::vector<int64_t> all;
  if (jumps.is_object())
    for (const auto& [name, steps] : jumps.items())
      for (const auto& s : steps)
        if (s.get<int64_t>() >= 0) all.push_back(s.get<int64_t>());
  std::sort(all.begin(), all.end());
  json spec_times = json::array();
  for (int64_t s : all) spec_times.push_back(double(s) * scale);
  return {{"loss_jump_steps", loss_steps},
          {"loss_jump_times", loss_times},
          {"spectral_jump_steps", all},
          {"spectral_jump_times", spec_times},
          {"predicted_jump_times", p["jump_times"]}};
}

// One mode's observed half step and largest deviation from Saxe's closed form.
json compare_mode(const json& m, const std::vector<MetricsRow>& rows, double lr, int64_t depth) {
  const std::string key = fmt::format("mode.{}", m["mode"].get<int64_t>());
  const double s = m["s"].get<double>(), u0 = m["u0"].get<double>();
  std::vector<double> t, obs;
  for (const MetricsRow& r : rows)
    if (std::isfinite(r.get(key))) t.push_back(double(r.step()) * lr), obs.push_back(r.get(key));
  const std::vector<double> pred = saxe_mode_curve(s, u0, depth, t);
  double worst = NAN;
  json half = nullptr;
  for (size_t j = 0; j < t.size(); ++j) {
    if (half.is_null() && obs[j] >= s / 2) half = t[j] / lr;
    if (pred[j] >= 0.01 * s)
      worst = std::isnan(worst) ? std::abs(obs[j] - pred[j]) / pred[j]
                                : std::max(worst, std::abs(obs[j] - pred[j]) / pred[j]);
  }
  return {{"mode", m["mode"]},
          {"s", s},
          {"predicted_half_step", m["half_step"]},
          {"observed_half_step", half},
          {"max_relative_deviation", std::isnan(worst) ? json(nullptr) : json(worst)}};
}

}  // namespace

json compare_with_prediction(const json& p, const std::vector<MetricsRow>& rows,
                             const nlohmann::ordered_json& spectral_jump_steps) {
  if (!p.value("available", false)) return nullptr;
  if (p["kind"] == "stages") return compare_stages(p, rows, spectral_jump_steps);
  json modes = json::array();
  for (const json& m : p["modes"])
    modes.push_back(compare_mode(m, rows, p["lr"].get<double>(), p["depth"].get<int64_t>()));
  return {{"modes", modes}};
}

std::string describe_prediction(const json& p) {
  if (!p.value("available", false))
    return "no prediction: " + p.value("reason", std::string()) + "\n";
  std::string s;
  if (p["kind"] == "stages") {
    s += fmt::format(
        "stage prediction (alpha {}, lr {}; rescaled time = step * lr / log(1/alpha)):\n",
        p["alpha"].get<double>(), p["lr"].get<double>());
    s += fmt::format("  stage 0: loss {:.6g}\n", p["plateau_losses"][0].get<double>());
    for (size_t k = 0; k < p["jump_times"].size(); ++k)
      s += fmt::format(
          "  jump {} at rescaled time {:.4f} (step {:.0f}): {} activates, loss -> {:.6g}\n", k + 1,
          p["jump_times"][k].get<double>(), p["jump_steps"][k].get<double>(),
          p["coordinates"][k].get<std::string>(), p["plateau_losses"][k + 1].get<double>());
  } else {
    s += fmt::format("Saxe et al. closed form (depth {}, lr {}): mode strengths learned at\n",
                     p["depth"].get<int64_t>(), p["lr"].get<double>());
    for (const json& m : p["modes"])
      s += fmt::format("  mode {}: s = {:g}, u0 = {:.3g}, reaches s/2 at step {:.0f}\n",
                       m["mode"].get<int64_t>(), m["s"].get<double>(), m["u0"].get<double>(),
                       m["half_step"].get<double>());
  }
  if (p.contains("note")) s += "  note: " + p["note"].get<std::string>() + "\n";
  return s;
}

}  // namespace gradscope
