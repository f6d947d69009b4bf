// End-to-end tests of the gradscope executable: a grokking run, exact resume after SIGKILL, the run
// directory contract, and bad input (exit code 2, one-line errors, nothing written).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "cli_fixture.h"
#include "gradscope/cuda/device.h"

namespace fs = std::filesystem;
using namespace gradscope_it;

namespace {

TEST_F(Cli, SmallModularTaskGroks) {
  const fs::path out = dir_ / "grok";
  const Result r = run("run " + kExamples + "grok-mlp-small.toml --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto s = summary(out);
  ASSERT_TRUE(s["memorized_step"].is_number()) << s.dump();
  ASSERT_TRUE(s["generalized_step"].is_number()) << s.dump();
  EXPECT_LT(s["memorized_step"].get<double>(), s["generalized_step"].get<double>() / 3);
  EXPECT_GE(s["final"]["test_acc"].get<double>(), 0.99);
  EXPECT_EQ(s["regime"], "grokking");
  // The run directory contract.
  for (const char* f : {"config.toml", "metrics.jsonl", "metrics.csv", "summary.json"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  EXPECT_TRUE(fs::exists(out / "checkpoints/step_00000000.ckpt"));
  EXPECT_TRUE(fs::exists(out / "checkpoints/step_00004000.ckpt"));
  EXPECT_TRUE(fs::exists(out / "checkpoints/step_00002000.ckpt"));   // log-spaced
  EXPECT_FALSE(fs::exists(out / "checkpoints/step_00003000.ckpt"));  // periodic, superseded
  const Result show = run("show " + out.string());
  EXPECT_EQ(show.code, 0);
  EXPECT_NE(show.out.find("grokking"), std::string::npos) << show.out;
  const Result plot = run("plot " + out.string());
  ASSERT_EQ(plot.code, 0) << plot.err;
  const std::string svg = slurp(out / "curves.svg");
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find("accuracy"), std::string::npos);
}

TEST_F(Cli, ResumeAfterSigkillIsBitIdentical) {
  // A small transformer trained on minibatches: the resumed run must redraw the same batches.
  const std::string config = kExamples +
                             "grok-mlp-small.toml model.type=transformer model.d_model=64 "
                             "model.n_heads=4 model.d_mlp=256 model.norm=pre train.batch_size=128 "
                             "train.steps=2500 train.log_every=10 train.checkpoint_every=100";
  const fs::path whole = dir_ / "whole", killed = dir_ / "killed";
  ASSERT_EQ(run("run " + config + " --out " + whole.string()).code, 0);

  // Start the same run, SIGKILL it mid-way (once it has logged past step 1000), resume it.
  ASSERT_TRUE(run_and_kill(config, killed, 100)) << "the run finished before it could be killed";
  const int64_t newest = keep_only_newest_checkpoint(killed);  // it can only resume
  ASSERT_GT(newest, 0);
  const Result resumed = run("run --resume " + killed.string());
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(resumed_from(killed, newest), "");

  EXPECT_EQ(slurp(killed / "metrics.jsonl"), slurp(whole / "metrics.jsonl"));
  EXPECT_EQ(slurp(killed / "metrics.csv"), slurp(whole / "metrics.csv"));
  // The spectra (kept at checkpoints, truncated on resume) match too.
  int spectra = 0;
  for (const auto& f : fs::directory_iterator(whole / "spectra")) {
    EXPECT_EQ(slurp(killed / "spectra" / f.path().filename()), slurp(f.path())) << f.path();
    ++spectra;
  }
  EXPECT_GT(spectra, 10);
  auto a = summary(whole), b = summary(killed);
  for (auto* s : {&a, &b}) s->erase("wall_time_s"), s->erase("steps_per_s");
  EXPECT_EQ(a, b);
}

TEST_F(Cli, BadInputIsOneLineExitTwoAndWritesNothing) {
  const fs::path out = dir_ / "bad";
  const std::vector<BadCase> cases = {
      {"run " + kExamples + "nanda-grokking.toml optim.weight_decy=1",
       "did you mean 'optim.weight_decay'"},
      {"run " + kExamples + "nanda-grokking.toml task.p=1", "task.p = 1"},
      {"run " + kExamples + "nanda-grokking.toml task.train_fraction=0", "task.train_fraction = 0"},
      {"run " + kExamples + "nanda-grokking.toml task.op=a/b task.p=100", "not prime"},
      {"run " + kExamples + "nanda-grokking.toml model.n_heads=3", "not divisible"},
      {"run " + kExamples + "nanda-grokking.toml train.steps=abc", "train.steps = abc"},
      {"run " + (dir_ / "missing.toml").string(), "no such experiment file"},
      {"run " + dir_.string(), "is a directory, not an experiment file"},
      {"rnu " + kExamples + "nanda-grokking.toml", "unknown command 'rnu': did you mean 'run'?"},
      {"run --bogus " + kExamples + "nanda-grokking.toml",
       "not expected: --bogus (gradscope run --help lists its arguments)"},
      {"--threads 0 run " + kExamples + "nanda-grokking.toml", "--threads: Value 0 not in range"},
      {"run --resume " + dir_.string() + " --force", "excludes --resume"},
      {"--thread 2 run " + kExamples + "nanda-grokking.toml", "not expected: 2 --thread"},
  };
  expect_bad_input(cases, out);
  // Commands that read a run say what the path is instead.
  fs::create_directories(dir_ / "sweep-like");
  std::ofstream(dir_ / "sweep-like" / "sweep.json") << "{}";
  for (const auto& [args, expect] : std::vector<std::pair<std::string, std::string>>{
           {"show " + (dir_ / "nosuch").string(), "nosuch: no such run directory"},
           {"llc " + (dir_ / "nosuch").string(), "nosuch: no such run directory"},
           {"show " + (dir_ / "sweep-like").string(), "is a sweep: its runs are the folders in it"},
           {"show " + dir_.string(), ": not a run directory (no config.toml)"}}) {
    const Result r = run(args);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_NE(r.err.find(expect), std::string::npos) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  std::ofstream(dir_ / "broken.toml") << "name = \"x\"\n[train\nsteps = 3\n";
  const Result r = run("run " + (dir_ / "broken.toml").string() + " --out " + out.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("broken.toml:2"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(Cli, ExistingRunIsNotOverwrittenAndEditedConfigIsNotResumed) {
  const fs::path out = dir_ / "run";
  const std::string args =
      "run " + kExamples + "grok-mlp-small.toml train.steps=200 --out " + out.string();
  ASSERT_EQ(run(args).code, 0);
  const Result again = run(args);
  EXPECT_EQ(again.code, 2);
  EXPECT_NE(again.err.find("already holds a run"), std::string::npos);
  // Edit the run's config, then try to resume it.
  std::string toml = slurp(out / "config.toml");
  toml.replace(toml.find("weight_decay = 1.0"), 18, "weight_decay = 0.5");
  std::ofstream(out / "config.toml") << toml;
  const Result resumed = run("run --resume " + out.string());
  EXPECT_EQ(resumed.code, 2);
  EXPECT_NE(resumed.err.find("optim.weight_decay"), std::string::npos) << resumed.err;
  // A run made on a GPU, resumed on a machine without one, says how it goes on here.
  if (gradscope::device_unavailable(gradscope::Device::cuda) != "") {
    toml.replace(toml.find("weight_decay = 0.5"), 18, "weight_decay = 1.0");
    toml.replace(toml.find("\n[task]"), 0, "\ndevice = \"cuda\"");
    std::ofstream(out / "config.toml") << toml;
    const Result on_cuda = run("run --resume " + out.string() + " train.steps=300");
    EXPECT_EQ(on_cuda.code, 2);
    EXPECT_NE(on_cuda.err.find("device = cuda: "), std::string::npos) << on_cuda.err;
    EXPECT_NE(on_cuda.err.find("(valid: --device cpu or --device emulated"), std::string::npos)
        << on_cuda.err;
    EXPECT_EQ(run("--device cpu run --resume " + out.string() + " train.steps=300").code, 0);
  }
  // --force replaces a run, never a folder of other files.
  const fs::path mine = dir_ / "mine";
  fs::create_directories(mine / "sub");
  std::ofstream(mine / "data.txt") << "keep";
  const Result forced =
      run("run " + kExamples + "grok-mlp-small.toml train.steps=10 --force --out " + mine.string());
  EXPECT_EQ(forced.code, 2);
  EXPECT_NE(forced.err.find("holds files that are not a run's"), std::string::npos) << forced.err;
  EXPECT_EQ(slurp(mine / "data.txt"), "keep");
  EXPECT_TRUE(fs::is_directory(mine / "sub"));
  EXPECT_FALSE(fs::exists(mine / "run.lock"));
  // Nor one whose config.toml is not gradscope's, or whose run-named folder holds other files.
  std::ofstream(mine / "config.toml") << "x = 1\n";
  fs::remove(mine / "data.txt");
  fs::remove(mine / "sub");
  fs::create_directories(mine / "checkpoints");
  std::ofstream(mine / "checkpoints" / "notes.txt") << "keep";
  const Result again_forced =
      run("run " + kExamples + "grok-mlp-small.toml train.steps=10 --force --out " + mine.string());
  EXPECT_EQ(again_forced.code, 2);
  EXPECT_NE(again_forced.err.find("config.toml"), std::string::npos) << again_forced.err;
  EXPECT_NE(again_forced.err.find("checkpoints"), std::string::npos) << again_forced.err;
  EXPECT_EQ(slurp(mine / "checkpoints" / "notes.txt"), "keep");
}

TEST_F(Cli, DivergenceStopsAndKeepsTheLastGoodCheckpoint) {
  const fs::path out = dir_ / "nan";
  const Result r = run("run " + kExamples +
                       "grok-mlp-small.toml optim.name=sgd optim.lr=1e12 "
                       "optim.weight_decay=0 train.steps=500 --out " +
                       out.string());
  EXPECT_EQ(r.code, 1);
  const auto s = summary(out);
  EXPECT_EQ(s["status"], "diverged");
  EXPECT_NE(s["message"].get<std::string>().find("last good checkpoint"), std::string::npos);
  EXPECT_TRUE(fs::exists(out / "checkpoints/step_00000000.ckpt"));
}

TEST_F(Cli, KeysListsTypeDefaultValidValuesAndHelpFromTheSchema) {
  const Result norm = run("keys model.norm");
  ASSERT_EQ(norm.code, 0) << norm.err;
  EXPECT_EQ(norm.out,
            "model.norm  string = \"none\"  (valid: none, pre, post)\n"
            "    LayerNorm placement (transformer)\n");
  // task.name's valid values are the task registry's names; replica-safe keys say so.
  const Result task = run("keys task.name");
  for (const char* name : {"modular", "permutation", "sparse_parity", "arrays", "text"})
    EXPECT_NE(task.out.find(name), std::string::npos) << name << " in " << task.out;
  EXPECT_NE(run("keys optim.lr").out.find("[replica-safe]"), std::string::npos);
  const Result all = run("keys");
  EXPECT_NE(all.out.find("train.checkpoint_steps"), std::string::npos);
  const Result bad = run("keys modle");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("no key under 'modle' (did you mean 'model'?)"), std::string::npos)
      << bad.err;
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
}

}  // namespace
