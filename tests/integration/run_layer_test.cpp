// The run layer end to end: runs and sweeps written by gradscope 0.1 (tests/fixtures/compat)
// resume and rerun under this build; train.stop_after_generalized; extending a finished run with
// --resume DIR train.steps=M; train.checkpoint_steps; the heartbeat of a training run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_fixture.h"

namespace fs = std::filesystem;
using namespace gradscope_it;

namespace {

const fs::path kFixtures = fs::path(GRADSCOPE_SOURCE_DIR) / "tests/fixtures/compat";

std::vector<std::string> lines_of(const fs::path& file) {
  std::vector<std::string> out;
  std::istringstream in(slurp(file));
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

fs::path checkpoint_of(int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "checkpoints/step_%08ld.ckpt", static_cast<long>(step));
  return name;
}

std::vector<std::string> checkpoint_names(const fs::path& run) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(run / "checkpoints"))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Losses of two runs agree row by row (same steps; relative 1e-3: the fixture was computed on
// whatever CPU made it, and OpenBLAS picks kernels by CPU model).
void expect_same_curves(const std::vector<nlohmann::json>& a,
                        const std::vector<nlohmann::json>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["step"], b[i]["step"]);
    for (const char* k : {"train_loss", "test_loss"})
      EXPECT_NEAR(a[i][k].get<double>(), b[i][k].get<double>(),
                  1e-3 * std::abs(b[i][k].get<double>()))
          << k << " at step " << a[i]["step"];
  }
}

TEST_F(Cli, RunKilledUnderTheOldBuildResumes) {
  const fs::path copy = dir_ / "run-killed";
  fs::copy(kFixtures / "run-killed", copy, fs::copy_options::recursive);
  const std::vector<std::string> before = lines_of(copy / "metrics.jsonl");
  const Result r = run("--threads 1 run --resume " + copy.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(summary(copy)["status"], "completed");
  // Rows before the checkpoint it resumed from (step 250) keep every value they had; the
  // columns this build adds (numerics.*) are null in them, so that every row has every column.
  const std::vector<std::string> after = lines_of(copy / "metrics.jsonl");
  for (size_t i = 0; i < before.size() && rows(copy)[i]["step"].get<int64_t>() < 250; ++i) {
    const auto old_row = nlohmann::json::parse(before[i]),
               new_row = nlohmann::json::parse(after[i]);
    for (const auto& [key, value] : old_row.items())
      EXPECT_TRUE(new_row.contains(key) && new_row.at(key) == value) << key;
    for (const auto& [key, value] : new_row.items()) {
      if (!old_row.contains(key)) {
        EXPECT_TRUE(value.is_null()) << key;
      }
    }
    EXPECT_EQ(new_row.size(), nlohmann::json::parse(after.back()).size());
  }
  const fs::path fresh = dir_ / "fresh";
  ASSERT_EQ(
      run("--threads 1 run " + (kFixtures / "run.toml").string() + " --out " + fresh.string()).code,
      0);
  expect_same_curves(rows(copy), rows(fresh));
}

TEST_F(Cli, SweepWrittenByTheOldBuildReruns) {
  const fs::path root = dir_ / "sweeps";
  fs::copy(kFixtures / "sweeps", root, fs::copy_options::recursive);
  const std::string cmd =
      "sweep " + (kFixtures / "sweep.toml").string() + " --root " + root.string() + " --jobs 2";
  const Result again = run(cmd);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("4 runs, 4 already complete"), std::string::npos) << again.out;
  // A run lost since: it comes back under the same id, with the same curves.
  const fs::path lost = root / "compat-sweep/0e649cbed5294b69";
  fs::remove_all(lost);
  const Result redo = run(cmd);
  ASSERT_EQ(redo.code, 0) << redo.err;
  EXPECT_NE(redo.out.find("3 already complete"), std::string::npos) << redo.out;
  expect_same_curves(rows(lost), rows(kFixtures / "sweeps/compat-sweep/0e649cbed5294b69"));
}

TEST_F(Cli, StopsTheSetNumberOfStepsAfterGeneralizing) {
  const fs::path out = dir_ / "stop";
  const Result r =
      run("run " + kExamples + "grok-mlp-small.toml train.stop_after_generalized=150 --out " +
          out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto s = summary(out);
  ASSERT_TRUE(s["generalized_step"].is_number()) << s.dump();
  const int64_t g = s["generalized_step"].get<int64_t>();
  EXPECT_EQ(s["steps_done"].get<int64_t>(), g + 150);
  EXPECT_LT(g + 150, 4000);
  EXPECT_EQ(rows(out).back()["step"].get<int64_t>(), g + 150);
  EXPECT_NE(s["message"].get<std::string>().find("stopped 150 steps after generalized_step"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(out / checkpoint_of(g + 150)));
  EXPECT_NE(slurp(out / "config.toml").find("stop_after_generalized = 150"), std::string::npos);
}

TEST_F(Cli, ResumeExtendsAFinishedRunAsIfItHadBeenLonger) {
  const std::string exp = kExamples + "grok-mlp-small.toml train.log_every=50";
  const fs::path short_run = dir_ / "short", whole = dir_ / "whole";
  ASSERT_EQ(run("run " + exp + " train.steps=300 --out " + short_run.string()).code, 0);
  const Result ext = run("run --resume " + short_run.string() + " train.steps=600");
  ASSERT_EQ(ext.code, 0) << ext.err;
  ASSERT_EQ(run("run " + exp + " train.steps=600 --out " + whole.string()).code, 0);
  EXPECT_EQ(slurp(short_run / "metrics.jsonl"), slurp(whole / "metrics.jsonl"));
  EXPECT_EQ(summary(short_run)["steps_done"], 600);
  EXPECT_NE(slurp(short_run / "config.toml").find("steps = 600"), std::string::npos);
  // Nothing but train.steps may change, and not below the last checkpoint.
  for (const std::string& bad : {std::string("optim.lr=0.1"), std::string("train.steps=100")}) {
    const Result r = run("run --resume " + short_run.string() + " " + bad);
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(summary(short_run)["steps_done"], 600);  // untouched by the refused resumes
}

TEST_F(Cli, CheckpointStepsKeepWhatTheAnalysisNeeds) {
  const std::string exp =
      kExamples + "grok-mlp-small.toml train.steps=300 train.checkpoint_every=0 --out ";
  ASSERT_EQ(
      run("run " + exp + (dir_ / "every").string() + " train.checkpoint_steps=every:100").code, 0);
  EXPECT_EQ(checkpoint_names(dir_ / "every"),
            (std::vector<std::string>{"step_00000000.ckpt", "step_00000100.ckpt",
                                      "step_00000200.ckpt", "step_00000300.ckpt"}));
  ASSERT_EQ(run("run " + exp + (dir_ / "list").string() + " train.checkpoint_steps=[50,150]").code,
            0);
  EXPECT_EQ(
      checkpoint_names(dir_ / "list"),
      (std::vector<std::string>{"step_00000050.ckpt", "step_00000150.ckpt", "step_00000300.ckpt"}));
  expect_bad_input({{"run " + kExamples + "grok-mlp-small.toml train.checkpoint_steps=every:0",
                     "train.checkpoint_steps = \"every:0\""},
                    {"run " + kExamples + "grok-mlp-small.toml train.stop_after_generalized=-1",
                     "train.stop_after_generalized = -1"}},
                   dir_ / "bad");
}

TEST_F(Cli, ATrainingRunKeepsAHeartbeatAndRemovesItAtTheEnd) {
  const fs::path out = dir_ / "beat";
  ASSERT_TRUE(run_and_kill(kExamples + "grok-mlp-small.toml train.log_every=10", out, 30));
  const auto beat = nlohmann::json::parse(slurp(out / "heartbeat.json"));
  EXPECT_GT(beat["pid"].get<int64_t>(), 0);
  EXPECT_EQ(beat["steps"], 4000);
  EXPECT_TRUE(beat.contains("host") && beat.contains("steps_per_s") && beat.contains("updated"));
  const Result r = run("run --resume " + out.string() + " train.steps=400");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(fs::exists(out / "heartbeat.json"));
}

}  // namespace
