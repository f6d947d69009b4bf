// Optimizer oracle: gradscope's SGD / Adam / AdamW, schedules, clipping, Grokfast's filters and
// the fixed weight norm (Optimizer::update) against trajectories recorded from PyTorch by
// tests/oracle/gen_optim_fixture.py (fixtures/optim.json): to 1e-6 relative in float32 and 1e-12 in
// float64.
#include <gtest/gtest.h>

#include <fmt/core.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gradscope/optim/optimizer.h"
#include "gradscope/optim/schedule.h"

namespace gradscope {
namespace {

using nlohmann::json;

json load_fixture() {
  std::ifstream in(std::string(GRADSCOPE_SOURCE_DIR) + "/tests/oracle/fixtures/optim.json");
  EXPECT_TRUE(in.good()) << "missing fixture: run `make oracle-fixtures`";
  return json::parse(in);
}

OptimizerConfig optimizer_config(const json& o) {
  OptimizerConfig c;
  c.name = option_named<OptimRule>("optim.name", o.at("name").get<std::string>());
  c.lr = o.at("lr").get<double>();
  c.weight_decay = o.value("weight_decay", 0.0);
  c.beta1 = o.value("beta1", 0.9);
  c.beta2 = o.value("beta2", 0.999);
  c.eps = o.value("eps", 1e-8);
  c.momentum = o.value("momentum", 0.0);
  c.dampening = o.value("dampening", 0.0);
  c.nesterov = o.value("nesterov", false);
  return c;
}

// The case's filter, clipping and weight norm on top of its optimizer.
OptimizerConfig update_config(const json& c) {
  OptimizerConfig oc = optimizer_config(c.at("optim"));
  oc.clip_norm = c.value("clip_norm", 0.0);
  oc.weight_norm = c.value("weight_norm", 0.0);
  if (c.contains("filter")) {
    const json& f = c.at("filter");
    oc.filter.kind =
        option_named<GradFilterKind>("optim.grad_filter", f.at("kind").get<std::string>());
    oc.filter.alpha = f.value("alpha", 0.98);
    oc.filter.lambda = f.at("lamb").get<double>();
    oc.filter.window = f.value("window", int64_t{100});
  }
  return oc;
}

ScheduleConfig schedule_config(const json& s) {
  ScheduleConfig c;
  c.warmup_steps = s.value("warmup_steps", int64_t{0});
  c.decay = option_named<Decay>("optim.decay", s.value("decay", std::string("constant")));
  c.total_steps = s.value("total_steps", int64_t{0});
  c.min_lr_ratio = s.value("min_lr_ratio", 0.0);
  return c;
}

template <class T>
void replay(const json& fx, const json& c, const char* key, double tolerance) {
  const OptimizerConfig oc = update_config(c);
  const ScheduleConfig sc = schedule_config(c.value("schedule", json::object()));
  std::vector<T> params;
  for (double v : fx.at("initial")) params.push_back(static_cast<T>(v));
  auto opt = make_optimizer<T>(oc, static_cast<int64_t>(params.size()));
  const auto& expected = c.at(key);
  double worst = 0;
  for (int step = 0; step < fx.at("steps").get<int>(); ++step) {
    std::vector<T> grads;
    for (double v : fx.at("gradients")[step]) grads.push_back(static_cast<T>(v));
    opt->update(params, grads, scheduled_lr(oc.lr, sc, step));
    // Relative error against max(|torch value|, rms of torch's parameters at that step): an
    // element that passes near 0 by cancellation can only match to float rounding of its inputs.
    double rms = 0;
    for (const auto& w : expected[step]) rms += w.get<double>() * w.get<double>();
    rms = std::sqrt(rms / static_cast<double>(params.size()));
    for (size_t i = 0; i < params.size(); ++i) {
      const double want = expected[step][i].get<double>();
      const double rel = std::abs(params[i] - want) / std::max(std::abs(want), rms);
      worst = std::max(worst, rel);
      ASSERT_LE(rel, tolerance) << c.at("name").get<std::string>() << " " << key << " step " << step
                                << " element " << i << ": " << params[i] << " vs torch " << want;
    }
  }
  ::testing::Test::RecordProperty(c.at("name").get<std::string>() + "_" + key + "_max_rel_error",
                                  fmt::format("{:.2e}", worst));
}

TEST(OptimizerOracle, MatchesPyTorchFloat32) {
  const json fx = load_fixture();
  ASSERT_GE(fx.at("cases").size(), 11u);
  for (const json& c : fx.at("cases")) replay<float>(fx, c, "float32", 1e-6);
}

TEST(OptimizerOracle, MatchesPyTorchFloat64) {
  const json fx = load_fixture();
  for (const json& c : fx.at("cases")) replay<double>(fx, c, "float64", 1e-12);
}

TEST(OptimizerOracle, FixtureStepsActuallyMoveParameters) {
  // Guards against a fixture that would pass trivially (e.g. lr 0 throughout).
  const json fx = load_fixture();
  for (const json& c : fx.at("cases")) {
    double moved = 0;
    const auto& last = c.at("float64").back();
    for (size_t i = 0; i < last.size(); ++i)
      moved = std::max(moved, std::abs(last[i].get<double>() - fx.at("initial")[i].get<double>()));
    EXPECT_GT(moved, 1e-3) << c.at("name");
  }
}

}  // namespace
}  // namespace gradscope
