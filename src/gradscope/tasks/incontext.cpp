// In-context linear regression: see incontext.h. Shape legend: N = sequences, K = pairs per
// sequence, d = dimension, M = pool tasks.
#include "gradscope/tasks/incontext.h"

#include <fmt/core.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "gradscope/tasks/incontext_estimators.h"
#include "gradscope/tasks/task_family.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

[[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& valid) {
  throw std::invalid_argument("task." + key + " = " + value + " (valid: " + valid + ")");
}

using Pool = std::shared_ptr<const std::vector<double>>;  // [M, d]; empty: fresh tasks

// Raw sequences: x [N, K, d] and y [N, K], their buffers reused between draws.
struct Raw {
  std::vector<double> x, y, w;  // w: [d] the current sequence's task
};

// n sequences from rng: each draws its task (an index into `pool`, or d normals when it is
// empty), then K x's, then K noise draws.
void draw(const InContextTaskConfig& c, const std::vector<double>& pool, Rng& rng, int64_t n,
          Raw& raw) {
  const int64_t K = c.n_context, d = c.dim, M = static_cast<int64_t>(pool.size()) / d;
  const double sigma = std::sqrt(c.noise);
  raw.x.resize(static_cast<size_t>(n * K * d));
  raw.y.resize(static_cast<size_t>(n * K));
  raw.w.resize(static_cast<size_t>(d));
  for (int64_t e = 0; e < n; ++e) {
    if (M > 0) {
      const int64_t m = static_cast<int64_t>(rng.next_below(static_cast<uint64_t>(M)));
      std::copy_n(pool.begin() + m * d, d, raw.w.begin());
    } else {
      rng.fill_normal(raw.w.data(), d, 0.0, 1.0);
    }
    double* x = raw.x.data() + e * K * d;
    rng.fill_normal(x, K * d, 0.0, 1.0);
    for (int64_t i = 0; i < K; ++i) {
      double yi = 0;
      for (int64_t r = 0; r < d; ++r) yi += raw.w[r] * x[i * d + r];
      raw.y[e * K + i] = yi + sigma * rng.next_normal();
    }
  }
}

// The tokens of raw sequences into a dataset: position 2i = [0, x_i], 2i + 1 = [y_i, 0, ..., 0].
void pack(const InContextTaskConfig& c, const Raw& raw, int64_t n, Dataset& out) {
  const int64_t K = c.n_context, d = c.dim, W = d + 1, F = 2 * K * W;
  out.length = 2 * K;
  out.features = F;
  out.outputs = K;
  out.x.assign(static_cast<size_t>(n * F), 0.0);  // [N, 2K, d + 1]
  out.y.assign(raw.y.begin(), raw.y.begin() + n * K);
  for (int64_t e = 0; e < n; ++e)
    for (int64_t i = 0; i < K; ++i) {
      double* tok = out.x.data() + e * F + 2 * i * W;
      std::copy_n(raw.x.begin() + (e * K + i) * d, d, tok + 1);
      tok[W] = raw.y[e * K + i];
    }
}

// A fixed evaluation split of tasks from `task_pool` (empty: new tasks) with the estimators'
// predictions (dmmse over `pool`).
Dataset evaluation_split(const InContextTaskConfig& c, const std::vector<double>& pool,
                         const std::vector<double>& task_pool, Rng rng) {
  Raw raw;
  draw(c, task_pool, rng, c.n_test, raw);
  Dataset d;
  pack(c, raw, c.n_test, d);
  const RegressionSequences s{raw.x.data(), raw.y.data(), c.n_test, c.n_context, c.dim};
  Baselines& b = own_family_data<Baselines>(d.extra);
  b.baselines.push_back({"ridge", ridge_predictions(s, c.noise)});
  if (!pool.empty()) b.baselines.push_back({"dmmse", dmmse_predictions(s, pool, c.noise)});
  b.baselines.push_back({"least_squares", least_squares_predictions(s)});
  b.baselines.push_back({"zero", std::vector<double>(raw.y.size(), 0.0)});
  b.match_tolerance = c.match_tolerance;
  return d;
}

std::string description(const InContextTaskConfig& c) {
  const std::string eval =
      c.n_pool > 0
          ? fmt::format("{} eval sequences of pool tasks and {} of new ones", c.n_test, c.n_test)
          : fmt::format("2 x {} eval sequences of new tasks", c.n_test);
  return fmt::format(
      "in-context regression: d = {}, {} pairs per sequence, noise {}, {}: {}, fresh training "
      "sequences",
      c.dim, c.n_context, c.noise,
      c.n_pool > 0 ? fmt::format("a pool of {} tasks", c.n_pool) : std::string("fresh tasks"),
      eval);
}

}  // namespace

void validate(const InContextTaskConfig& c) {
  if (c.dim < 1) bad("dim", std::to_string(c.dim), "an integer >= 1: the dimension of x and w");
  if (c.n_context < 1) bad("n_context", std::to_string(c.n_context), "an integer >= 1");
  if (!(c.noise >= 0) || !std::isfinite(c.noise))
    bad("noise", fmt::format("{}", c.noise), "a finite variance >= 0");
  if (c.n_pool < 0)
    bad("n_pool", std::to_string(c.n_pool), "an integer >= 0 (0: a fresh task per sequence)");
  if (c.n_test < 1) bad("n_test", std::to_string(c.n_test), "an integer >= 1");
  if (!(c.match_tolerance > 0) || !std::isfinite(c.match_tolerance))
    bad("match_tolerance", fmt::format("{}", c.match_tolerance), "a finite number > 0");
}

TaskData make_incontext_task(const InContextTaskConfig& c) {
  validate(c);
  auto pool = std::make_shared<std::vector<double>>(static_cast<size_t>(c.n_pool * c.dim));
  Rng(c.split_seed, "pool").fill_normal(pool->data(), c.n_pool * c.dim, 0.0, 1.0);
  const std::vector<double> none;
  TaskData data;
  data.regression = true;
  data.train = evaluation_split(c, *pool, *pool, Rng(c.split_seed, "train_eval"));
  data.test = evaluation_split(c, *pool, none, Rng(c.split_seed, "test"));
  data.sample = [c, pool = Pool(pool), raw = Raw{}](uint64_t seed, uint64_t step, int64_t n,
                                                    Dataset& out) mutable {
    Rng rng = Rng(seed, "batch").substream(step);
    draw(c, *pool, rng, n, raw);
    pack(c, raw, n, out);
  };
  data.description = description(c);
  return data;
}

InContextTaskConfig incontext_options(const Config& c) {
  return options_from<InContextTaskConfig>(c);
}

namespace {

void validate_incontext(const Config& c) {
  if (c.integer("train.batch_size") == 0)
    throw ConfigError(
        "train.batch_size = 0 (full batch) with incontext_regression, which draws fresh "
        "sequences every step: set train.batch_size >= 1");
  validate(incontext_options(c));
}

// "new tasks: mse M (ridge R), distance to ridge D; pool tasks: mse P (dmmse Q)".
std::string incontext_summary_line(const nlohmann::ordered_json& s) {
  std::string line = fmt::format("new tasks: mse {:.4g} (ridge {:.4g}), distance to ridge {:.3g}",
                                 final_value(s, "test_mse"), final_value(s, "test_ridge_mse"),
                                 final_value(s, "test_dist_ridge"));
  const double dmmse = final_value(s, "train_dmmse_mse");
  if (std::isfinite(dmmse))
    line +=
        fmt::format("; pool tasks: mse {:.4g} (dmmse {:.4g})", final_value(s, "train_mse"), dmmse);
  return line;
}

}  // namespace

TaskFamily incontext_regression_task() {
  TaskFamily f;
  f.name = "incontext_regression";
  f.targets = TaskFamily::Targets::values;
  f.models = {"transformer"};
  f.losses = {"cross_entropy"};
  f.validate = validate_incontext;
  f.build = [](const Config& c) { return make_incontext_task(incontext_options(c)); };
  f.shape = [](const Config&, const TaskData& d) {
    ModelShape s = data_shape(d);
    s.predictions = d.train.outputs;  // one prediction per x position
    return s;
  };
  f.measures = {"incontext", "dist_from_init"};
  f.monitored = {"test_mse", "train_mse", "test_dist_ridge", "train_dist_dmmse",
                 "test_ridge_match"};
  f.summary_line = incontext_summary_line;
  return f;
}

}  // namespace gradscope
