// The LLC and the Hessian at probe steps: see geometry_probes.h.
#include "gradscope/run/geometry_probes.h"

#include <fmt/core.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "gradscope/run/checkpoint_measures.h"
#include "gradscope/run/experiment.h"
#include "gradscope/run/hessian.h"
#include "gradscope/run/llc.h"
#include "gradscope/rundir/paths.h"

namespace gradscope {
namespace {

// The config of a probe's own model (its task's train split fixed: run/checkpoint_measures.h):
// the run's, on the cpu in `precision`, every probe off.
Config side_config(Config c, const std::string& precision) {
  c.set("device", std::string("cpu"));
  c.set("precision", precision);
  for (const Measure& m : measures())
    if (m.is_probe()) c.set(m.key, false);
  // and what the Fourier probe's keys need it for (a copy that checks them would refuse)
  for (const char* key : {"probe.restricted_loss", "probe.key_frequencies"})
    c.set(key, Config().value(key));
  return c;
}

// Copies the parameter values of `from` (the run's host copy) into `to`, a store of the same
// model, converting to its precision.
template <class T, class U>
void copy_values(ParamStore<T>& from, ParamStore<U>& to) {
  for (int i = 0; i < from.count(); ++i) {
    const int64_t n = from.info(i).shape.numel();
    const T* a = from.values().data() + from.info(i).offset;
    U* b = to.values().data() + to.info(i).offset;
    for (int64_t k = 0; k < n; ++k) b[k] = static_cast<U>(a[k]);
  }
}

// A resumed run's rows from its folder's files, those before keep_before. Rows of another width
// (the folder rewritten by a command with other settings) are dropped and measured afresh.
void restore_step_rows(StepRows& rows, const std::map<std::string, std::string>& files,
                       const std::string& folder, int64_t keep_before) {
  try {
    rows.load(files, folder);
  } catch (const std::runtime_error&) {
    rows = StepRows(rows.columns());
  }
  rows.drop_from(keep_before);
}

// {"step", "value"} of the first, largest and last finite values of `column` over the rows ({}
// when none: a run stopped before its first probe step's row).
nlohmann::ordered_json first_peak_last(std::span<const MetricValues> rows,
                                       const std::string& column, int64_t& probed) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  probed = 0;
  double peak = -INFINITY;
  for (const MetricValues& r : rows) {
    const double v = metric_value(r, column);
    if (!std::isfinite(v)) continue;
    const nlohmann::ordered_json at = {{"step", int64_t(metric_value(r, "step"))}, {"value", v}};
    if (probed++ == 0) j["first"] = at;
    if (v > peak) peak = v, j["peak"] = at;
    j["last"] = at;
  }
  return j;
}

// To each of `first`, `peak` and `last` in `j` (first_peak_last's), `name`: its value times
// `per_lr` times the scheduled lr of its row (a ratio to a stability threshold c / lr).
void add_lr_ratio(nlohmann::ordered_json& j, std::span<const MetricValues> rows,
                  const std::string& name, double per_lr) {
  for (const char* at : {"first", "peak", "last"}) {
    if (!j.contains(at)) continue;
    for (const MetricValues& r : rows)
      if (metric_value(r, "step") == j[at]["step"].get<double>())
        j[at][name] = j[at]["value"].get<double>() * per_lr * metric_value(r, "lr");
  }
}

// probe.llc: lambda-hat at the probe steps, into llc/ (gradscope llc's files).
template <class T>
class LlcProbe final : public ProbeMeasure<T> {
 public:
  LlcProbe(Model<T>&, const Config& c, const TaskData&)
      : chains_(side_config(c, std::is_same_v<T, double> ? "float64" : "float32")),
        c_(llc_options(c)),
        rows_(llc_columns(c_)) {
    nbeta_ = llc_nbeta(c_, chains_.experiment().data.train.size(), how_);
  }
  std::vector<std::string> metric_names() const override { return {"llc.mean", "llc.std"}; }
  std::vector<double> measure(int64_t step, ParamStore<T>& params, Tape<T>&) override {
    copy_values(params, chains_.experiment().model->params());
    const LlcEstimate e = chains_.estimate(c_);
    for (const std::string& w : e.warnings)
      fmt::print(stderr, "gradscope: warning: probe.llc at step {}: {}\n", step, w);
    rows_.set(step, llc_row(e));
    traces_[step] = llc_trace_npy(step, e).second;
    return {e.mean, e.std};
  }
  ProbeFiles files() override {
    ProbeFiles f = {{"settings.json", llc_settings(c_, nbeta_, how_).dump(2) + "\n"}};
    for (auto& file : rows_.files()) f.push_back(std::move(file));
    for (const auto& [s, bytes] : traces_) f.emplace_back(trace_name(s), bytes);
    return f;
  }
  void restore(const std::map<std::string, std::string>& files, int64_t keep_before) override {
    restore_step_rows(rows_, files, "llc", keep_before);
    for (const auto& [s, row] : rows_.rows())
      if (files.count(trace_name(s))) traces_[s] = files.at(trace_name(s));
  }
  void summarize(std::span<const MetricValues> rows, std::optional<int64_t>,
                 nlohmann::ordered_json& sections) const override {
    int64_t probed = 0;
    nlohmann::ordered_json j = {{"probed", 0}, {"nbeta", nbeta_}, {"nbeta_how", how_}};
    j.update(first_peak_last(rows, "llc.mean", probed));
    j["probed"] = probed;
    sections["llc"] = j;
  }

 private:
  static std::string trace_name(int64_t step) {
    return rundir::llc_trace_file("", step).filename().string();
  }
  LlcChains<T> chains_;  // the probe's own models, on the cpu
  LlcConfig c_;
  StepRows rows_;
  std::map<int64_t, std::string> traces_;  // step -> trace_<step>.npy
  double nbeta_ = 0;
  std::string how_;
};

// probe.hessian: the top eigenvalues and the trace at the probe steps, into hessian/.
template <class T>
class HessianProbe final : public ProbeMeasure<T> {
 public:
  HessianProbe(Model<T>&, const Config& c, const TaskData&)
      : x_(fixed_set_experiment<double>(side_config(c, "float64"))),
        c_(hessian_options(c)),
        rows_(hessian_columns(c_, x_->model->params())) {
    if (c_.preconditioned) check_adam_run(c);
  }
  std::vector<std::string> metric_names() const override {
    if (c_.preconditioned) return {"hessian.top", "hessian.trace", "hessian.preconditioned"};
    return {"hessian.top", "hessian.trace"};
  }
  void see_optimizer(std::function<OptimizerMoments<T>()> moments) override {
    moments_ = std::move(moments);
  }
  std::vector<double> measure(int64_t step, ParamStore<T>& params, Tape<T>&) override {
    copy_values(params, x_->model->params());
    std::vector<double> p;
    if (c_.preconditioned) p = preconditioner(params);
    const HessianEstimate e = estimate_hessian(*x_, c_, p.empty() ? nullptr : &p);
    rows_.set(step, hessian_row(c_, e));
    if (c_.preconditioned) return {e.top.at(0), e.trace.trace, e.preconditioned};
    return {e.top.at(0), e.trace.trace};
  }
  ProbeFiles files() override {
    ProbeFiles f = {{"settings.json", hessian_settings(c_).dump(2) + "\n"}};
    for (auto& file : rows_.files()) f.push_back(std::move(file));
    return f;
  }
  void restore(const std::map<std::string, std::string>& files, int64_t keep_before) override {
    restore_step_rows(rows_, files, "hessian", keep_before);
  }
  // The sharpness's first, peak and last values, and at each of those its ratio to 2 / lr (the
  // stability threshold of gradient descent; lr the row's scheduled rate).
  void summarize(std::span<const MetricValues> rows, std::optional<int64_t>,
                 nlohmann::ordered_json& sections) const override {
    int64_t probed = 0;
    nlohmann::ordered_json j = first_peak_last(rows, "hessian.top", probed);
    add_lr_ratio(j, rows, "over_2_over_lr", 0.5);
    nlohmann::ordered_json& out = sections["hessian"] = {{"probed", probed}};
    out.update(j);
    if (c_.preconditioned) out["preconditioned"] = adam_edge(rows);
  }

 private:
  // Adam's preconditioner now, from the run's second moments [n] (the store's layout) packed in
  // the store's order; empty before the first update.
  std::vector<double> preconditioner(ParamStore<T>& params) const {
    const OptimizerMoments<T> m = moments_();
    std::vector<double> v;
    v.reserve(static_cast<size_t>(params.size()));
    for (int i = 0; i < params.count(); ++i) {
      const T* a = m.second_moments.data() + params.info(i).offset;
      v.insert(v.end(), a, a + params.info(i).shape.numel());
    }
    return adam_preconditioner(std::move(v), m.steps, x_->config);
  }
  // The preconditioned sharpness's first, peak and last values, each with its ratio to Adam's
  // threshold (2 + 2 beta1) / ((1 - beta1) lr), lr the row's scheduled rate.
  nlohmann::ordered_json adam_edge(std::span<const MetricValues> rows) const {
    int64_t probed = 0;
    nlohmann::ordered_json j = first_peak_last(rows, "hessian.preconditioned", probed);
    const double b1 = x_->config.real("optim.beta1");
    add_lr_ratio(j, rows, "over_threshold", (1 - b1) / (2 + 2 * b1));
    return j;
  }

  std::unique_ptr<Experiment<double>> x_;  // the probe's own float64 model, on the cpu
  HessianConfig c_;
  StepRows rows_;
  std::function<OptimizerMoments<T>()> moments_;  // the run's optimizer state
};

}  // namespace

const std::vector<Measure>& run_measures() {
  static const bool registered = [] {
    register_measure(
        with_columns(probe_measure<LlcProbe>("llc", "probe.llc", "llc"), {"llc.mean", "llc.std"}));
    register_measure(
        with_columns(probe_measure<HessianProbe>("hessian", "probe.hessian", "hessian"),
                     {"hessian.top", "hessian.trace", "hessian.preconditioned"}));
    return true;
  }();
  (void)registered;
  return measures();
}

}  // namespace gradscope
