// Every options struct's defaults are the schema's: a layer's struct built with no config must
// equal its projection of the default config (config/schema.cpp is the one table of defaults).
#include <gtest/gtest.h>

#include "gradscope/config/config.h"
#include "gradscope/nn/models.h"
#include "gradscope/optim/optimizer.h"
#include "gradscope/optim/schedule.h"
#include "gradscope/probes/spectra.h"
#include "gradscope/run/train_options.h"
#include "gradscope/tasks/algorithmic.h"
#include "gradscope/tasks/emergence.h"
#include "gradscope/tasks/incontext.h"
#include "gradscope/tasks/regression.h"

namespace gradscope {
namespace {

Config with_task(const std::string& name) {
  Config c;
  c.set("task.name", name);
  return c;
}

TEST(Options, StructDefaultsAreTheSchemasDefaults) {
  const Config c;
  EXPECT_EQ(optimizer_options(c), OptimizerConfig{});
  EXPECT_EQ(schedule_options(c), ScheduleConfig{});
  EXPECT_EQ(model_options(c), ModelConfig{});
  EXPECT_EQ(probe_options(c), ProbeConfig{});
  EXPECT_EQ(train_options(c), TrainConfig{});
  EXPECT_EQ(algorithmic_options(c), AlgorithmicTaskConfig{});
  EXPECT_EQ(regression_options(with_task("diagonal_teacher")), RegressionTaskConfig{});
  EXPECT_EQ(emergence_options(with_task("sparse_parity")), EmergenceTaskConfig{});
  EXPECT_EQ(incontext_options(with_task("incontext_regression")), InContextTaskConfig{});
}

TEST(Options, ProjectionsReadTheirKeys) {
  // A changed key reaches its struct (and a default struct differs from it).
  Config c;
  c.apply_override("optim.weight_decay=0.25");
  c.apply_override("optim.clip_norm=2");
  c.apply_override("model.d_mlp=7");
  c.apply_override("train.checkpoint_steps=every:50");
  c.apply_override("train.steps=77");
  EXPECT_DOUBLE_EQ(optimizer_options(c).weight_decay, 0.25);
  EXPECT_DOUBLE_EQ(optimizer_options(c).clip_norm, 2.0);
  EXPECT_EQ(model_options(c).d_mlp, 7);
  EXPECT_EQ(train_options(c).checkpoint_steps.kind, "every");
  EXPECT_EQ(train_options(c).checkpoint_steps.every, 50);
  EXPECT_EQ(schedule_options(c).total_steps, 77);
  EXPECT_NE(optimizer_options(c), OptimizerConfig{});
}

TEST(Options, CheckpointStepsKeepLogEveryOrListedSteps) {
  const CheckpointKeep log = checkpoint_keep(std::string("log"));
  for (int64_t s : {0, 100, 200, 500, 1000, 20000}) EXPECT_TRUE(log.keeps(s)) << s;
  for (int64_t s : {1, 50, 300, 1500}) EXPECT_FALSE(log.keeps(s)) << s;
  const CheckpointKeep every = checkpoint_keep(std::string("every:250"));
  EXPECT_TRUE(every.keeps(0) && every.keeps(750));
  EXPECT_FALSE(every.keeps(100));
  const CheckpointKeep list = checkpoint_keep(std::vector<double>{3, 40});
  EXPECT_TRUE(list.keeps(3) && list.keeps(40));
  EXPECT_FALSE(list.keeps(0));
  for (const ConfigValue& bad : {ConfigValue(std::string("every:0")), ConfigValue(std::string("x")),
                                 ConfigValue(std::vector<double>{1.5})})
    EXPECT_THROW(checkpoint_keep(bad), ConfigError);
}

}  // namespace
}  // namespace gradscope
