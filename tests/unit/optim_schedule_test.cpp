// Schedules, clipping and optimizer-config validation (the PyTorch match is tests/oracle).
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "gradscope/optim/optimizer.h"
#include "gradscope/optim/schedule.h"

namespace gradscope {
namespace {

TEST(Schedule, LinearWarmupIsLambdaLrMinStepOverWarmup) {
  ScheduleConfig s;
  s.warmup_steps = 10;
  EXPECT_DOUBLE_EQ(scheduled_lr(1e-3, s, 0), 0.0);  // the first update has lr 0, as in PyTorch
  EXPECT_DOUBLE_EQ(scheduled_lr(1e-3, s, 5), 5e-4);
  EXPECT_DOUBLE_EQ(scheduled_lr(1e-3, s, 10), 1e-3);
  EXPECT_DOUBLE_EQ(scheduled_lr(1e-3, s, 1000), 1e-3);
}

TEST(Schedule, CosineDecaysToTheFloor) {
  ScheduleConfig s;
  s.warmup_steps = 10;
  s.decay = Decay::cosine;
  s.total_steps = 110;
  s.min_lr_ratio = 0.1;
  EXPECT_DOUBLE_EQ(scheduled_lr(2.0, s, 10), 2.0);
  EXPECT_NEAR(scheduled_lr(2.0, s, 60), 2.0 * (0.1 + 0.9 * 0.5), 1e-12);
  EXPECT_NEAR(scheduled_lr(2.0, s, 110), 0.2, 1e-12);
  EXPECT_NEAR(scheduled_lr(2.0, s, 500), 0.2, 1e-12);
}

TEST(Schedule, LinearDecayIsRaventosTriangle) {
  // warmup_steps = total / 2 with linear decay: up to the peak at the middle, down to 0 at the end.
  ScheduleConfig s;
  s.warmup_steps = 50;
  s.decay = Decay::linear;
  s.total_steps = 100;
  EXPECT_DOUBLE_EQ(scheduled_lr(2.0, s, 25), 1.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(2.0, s, 50), 2.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(2.0, s, 75), 1.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(2.0, s, 100), 0.0);
  s.min_lr_ratio = 0.5;
  EXPECT_DOUBLE_EQ(scheduled_lr(2.0, s, 75), 1.5);
}

TEST(Schedule, ValidationNamesTheKey) {
  ScheduleConfig s;
  s.decay = Decay::cosine;
  s.total_steps = 5;
  s.warmup_steps = 10;
  try {
    s.validate();
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("optim.warmup_steps"), std::string::npos);
  }
}

TEST(Clip, ScalesOnlyAboveTheMaximum) {
  std::vector<float> g{3, 4};
  EXPECT_DOUBLE_EQ(clip_grad_norm<float>(g, 10.0), 5.0);
  EXPECT_EQ(g, (std::vector<float>{3, 4}));
  EXPECT_DOUBLE_EQ(clip_grad_norm<float>(g, 1.0), 5.0);
  EXPECT_NEAR(g[0], 0.6, 1e-6);
  EXPECT_NEAR(g[1], 0.8, 1e-6);
}

TEST(Clip, NormOfALargeBuffer) {
  std::vector<double> x(1000003, 0.5);
  EXPECT_NEAR(l2_norm<double>(x), 0.5 * std::sqrt(1000003.0), 1e-9);
}

TEST(OptimizerConfig, BadValuesNameTheKey) {
  auto message = [](OptimizerConfig c) {
    try {
      c.validate();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  OptimizerConfig c;  // (each key's range: the schema's, tests/unit/options_test.cpp)
  c.name = OptimRule::sgd;
  c.nesterov = true;
  EXPECT_NE(message(c).find("optim.nesterov"), std::string::npos);
}

TEST(Optimizer, AdamWDecaysEvenWithZeroGradient) {
  OptimizerConfig c;
  c.weight_decay = 1.0;
  auto opt = make_optimizer<double>(c, 1);
  std::vector<double> p{2.0}, g{0.0};
  opt->step(p, g, 0.1);
  EXPECT_DOUBLE_EQ(p[0], 2.0 * 0.9);
  EXPECT_EQ(opt->steps(), 1);
  EXPECT_EQ(opt->state().size(), 2u);
}

}  // namespace
}  // namespace gradscope
