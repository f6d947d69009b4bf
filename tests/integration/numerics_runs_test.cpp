// Grokking at the edge of numerical stability (Prieto et al. 2025) through the executable, in
// short form: their model (examples/prieto-softmax-collapse.toml at p = 23) trained past
// memorization collapses under PyTorch's float32 log-softmax (the target-class gradient of most
// rows exactly 0, as the float32 collapse test says) while gradscope's arithmetic keeps every
// row's gradient; the numerics.* columns and the summary's half steps are written; bad settings
// are one line, exit 2.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_fixture.h"

namespace fs = std::filesystem;
using namespace gradscope_it;

namespace {

const std::string kPrieto = kExamples + "prieto-softmax-collapse.toml";
// p = 23 (211 training pairs): collapse by step ~1,300 instead of the full model's thousands.
const std::string kSmall = " task.p=23 train.steps=1500 train.log_every=50 --threads 1 ";

TEST_F(Cli, PyTorchFloat32CollapsesWhereGradscopeKeepsTheGradient) {
  const fs::path torch32 = dir_ / "torch32", own = dir_ / "gradscope";
  ASSERT_EQ(run("run " + kPrieto + kSmall + "train.softmax_numerics=torch_float32 --out " +
                torch32.string())
                .code,
            0);
  ASSERT_EQ(
      run("run " + kPrieto + kSmall + "train.softmax_numerics=gradscope --out " + own.string())
          .code,
      0);
  const auto a = summary(torch32), b = summary(own);
  // Both sets of logits pass the float32 collapse test for most rows by the end...
  ASSERT_TRUE(a["numerics"]["sc_torch_float32_half_step"].is_number()) << a.dump();
  ASSERT_TRUE(b["numerics"]["sc_torch_float32_half_step"].is_number()) << b.dump();
  // ...but only PyTorch's float32 arithmetic loses the target-class gradient there.
  ASSERT_TRUE(a["numerics"]["absorbed_target_half_step"].is_number()) << a.dump();
  EXPECT_TRUE(b["numerics"]["absorbed_target_half_step"].is_null()) << b.dump();
  const auto last_a = rows(torch32).back(), last_b = rows(own).back();
  EXPECT_GE(last_a["numerics.absorbed_target"].get<double>(), 0.5);
  EXPECT_EQ(last_b["numerics.absorbed_target"].get<double>(), 0.0);
  for (const char* key : {"numerics.absorbed_row", "numerics.margin_q10", "numerics.margin_q50",
                          "numerics.margin_q90", "numerics.adam_eps_share", "numerics.nlm_cosine"})
    EXPECT_TRUE(last_a.contains(key) && last_b.contains(key)) << key;
  EXPECT_GE(last_a["numerics.margin_q50"].get<double>(), 10.0);
}

TEST_F(Cli, BadNumericsSettingsAreRefused) {
  const std::string small = kExamples + "grok-mlp-small.toml";
  const std::vector<BadCase> cases = {
      {"run " + small + " train.softmax_numerics=float16", "train.softmax_numerics = \"float16\""},
      {"run " + small + " train.loss=stablemax train.softmax_numerics=torch_float32",
       "train.softmax_numerics = \"torch_float32\""},
      {"run " + small + " optim.orthogonal=maybe", "optim.orthogonal = maybe"},
      {"run " + small + " train.loss=softmax", "train.loss = \"softmax\""},
      {"run " + small + " model.mlp_form=onehot model.init=haiku", "model.init = \"haiku\""},
      {"run " + kExamples + "saxe-deep-linear.toml train.loss=stablemax",
       "train.loss = \"stablemax\""},
      {"run " + kExamples + "saxe-deep-linear.toml train.softmax_numerics=torch_float32",
       "train.softmax_numerics = \"torch_float32\""},
      {"run " + kExamples + "parity-n20-k3.toml model.mlp_form=onehot",
       "model.mlp_form = \"onehot\""},
  };
  expect_bad_input(cases, dir_ / "bad");
}

}  // namespace
