// End-to-end tests of sweeps: resume after a crash gives the same index as an uninterrupted
// sweep, Slurm-array shards cover the sweep exactly once, phase diagrams, bad input.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

#include "cli_fixture.h"
#include "gradscope/cuda/device.h"
#include "gradscope/index/results_index.h"

namespace {

using namespace gradscope_it;

const std::string kSweep = kExamples +
                           "grok-mlp-small.toml name=tiny train.steps=600 probe.spectra=false "
                           "optim.weight_decay=0.3,1 task.train_fraction=0.4,0.5,0.6";

// The index as CSV without the wall-clock columns, which differ between two executions.
std::string index_without_timing(const fs::path& db) {
  std::istringstream in(gradscope::ResultsIndex(db).export_csv());
  std::string header, line, out;
  std::getline(in, header);
  std::vector<bool> keep;
  std::stringstream h(header);
  for (std::string c; std::getline(h, c, ',');)
    keep.push_back(c != "wall_time_s" && c != "steps_per_s");
  auto filter = [&](const std::string& l) {
    std::stringstream s(l);
    std::string c, r;
    for (size_t i = 0; std::getline(s, c, ','); ++i)
      if (i < keep.size() && keep[i]) r += c + ",";
    return r + "\n";
  };
  out = filter(header);
  while (std::getline(in, line)) out += filter(line);
  return out;
}

// The runs an index holds (0 when there is no index).
int64_t index_rows(const fs::path& db) {
  return fs::exists(db) ? gradscope::ResultsIndex(db, gradscope::IndexAccess::read).count("runs")
                        : 0;
}

std::set<std::string> finished_runs(const fs::path& sweep_dir) {
  std::set<std::string> ids;
  for (const auto& e : fs::directory_iterator(sweep_dir))
    if (fs::exists(e.path() / "summary.json")) ids.insert(e.path().filename().string());
  return ids;
}

TEST_F(Cli, SweepKilledMidwayResumesToTheSameIndex) {
  const fs::path whole = dir_ / "whole", killed = dir_ / "killed";
  const Result r = run("sweep " + kSweep + " --jobs 2 --root " + whole.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(finished_runs(whole / "tiny").size(), 6u);

  // The same sweep, one job at a time, SIGKILLed with its children once two runs have finished.
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    std::freopen("/dev/null", "w", stdout);
    const std::string cmd = kBinary + " sweep " + kSweep + " --jobs 1 --root " + killed.string();
    ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  size_t done = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(killed / "tiny") && (done = finished_runs(killed / "tiny").size()) >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(-pid, SIGKILL);
  int st = 0;
  ::waitpid(pid, &st, 0);
  ASSERT_GE(done, 2u);
  ASSERT_LT(finished_runs(killed / "tiny").size(), 6u) << "the sweep finished before the kill";

  const Result again = run("sweep " + kSweep + " --jobs 2 --root " + killed.string());
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find(std::to_string(done) + " already complete"), std::string::npos)
      << again.out;
  EXPECT_EQ(finished_runs(killed / "tiny"), finished_runs(whole / "tiny"));
  for (const std::string& id : finished_runs(whole / "tiny"))
    EXPECT_EQ(slurp(killed / "tiny" / id / "metrics.jsonl"),
              slurp(whole / "tiny" / id / "metrics.jsonl"))
        << id;
  EXPECT_EQ(index_without_timing(killed / "index.sqlite"),
            index_without_timing(whole / "index.sqlite"));
  // A third invocation finds nothing to do.
  const Result third = run("sweep " + kSweep + " --root " + killed.string());
  EXPECT_NE(third.out.find("6 already complete"), std::string::npos) << third.out;
}

// A sweep interrupted (SIGINT to it alone, or to its group as Ctrl-C at a terminal; it sends each
// child SIGTERM): the interrupted run checkpoints, says so, and is in the index. (The sweep sent
// SIGTERM every 20 ms, and one after the first killed the child between its summary and its index
// row, about half the time.)
TEST_F(Cli, ARunInterruptedWithItsSweepIsIndexed) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    const fs::path root = dir_ / ("int" + std::to_string(attempt));
    const pid_t pid = spawn(kBinary + " --threads 1 sweep " + kExamples +
                                "grok-mlp-small.toml name=i train.steps=100000 train.log_every=1 "
                                "optim.weight_decay=0.1,1 --jobs 1 --root " +
                                root.string(),
                            true);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    auto training = [&] {  // a run has logged a row past step 0
      if (!fs::exists(root / "i")) return false;
      for (const auto& e : fs::directory_iterator(root / "i"))
        if (fs::exists(e.path() / "metrics.jsonl") &&
            fs::file_size(e.path() / "metrics.jsonl") > 400)
          return true;
      return false;
    };
    while (std::chrono::steady_clock::now() < deadline && !training())
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(training());
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // rows to index
    ::kill(attempt % 2 ? -pid : pid, SIGINT);
    int st = 0;
    ::waitpid(pid, &st, 0);
    EXPECT_EQ(index_rows(root / "index.sqlite"), 1) << "attempt " << attempt;
  }
}

// A run another process starts training after the sweep scheduled it: the sweep's child is
// refused as busy (exit 3), and the sweep counts it as trained elsewhere, not as failed.
TEST_F(Cli, ARunTrainedByAnotherProcessIsSkippedNotFailed) {
  const fs::path root = dir_ / "busy";
  const std::string out = (dir_ / "busy.txt").string(), err = (dir_ / "busy.err").string();
  const pid_t sweep = spawn(kBinary + " --threads 1 sweep " + kExamples +
                            "grok-mlp-small.toml name=b train.steps=4000 optim.weight_decay=0.1,1 "
                            "--jobs 1 --root " +
                            root.string() + " > " + out + " 2> " + err);
  // The second point's config, once the sweep has written it: trained elsewhere, for longer.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::vector<fs::path> configs;
  while (std::chrono::steady_clock::now() < deadline && configs.size() < 2) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    configs.clear();
    if (fs::exists(root / "b" / "configs"))
      for (const auto& e : fs::directory_iterator(root / "b" / "configs")) configs.push_back(e);
  }
  ASSERT_EQ(configs.size(), 2u);
  const std::string first = slurp(root / "b" / "sweep.json");
  const std::string second_id = nlohmann::json::parse(first)["runs"][1];
  const pid_t other = spawn(kBinary + " --threads 1 run " +
                            (root / "b" / "configs" / (second_id + ".toml")).string() +
                            " train.steps=10000000 --out " + (root / "b" / second_id).string());
  int st = 0;
  ::waitpid(sweep, &st, 0);
  ::kill(other, SIGINT);
  int other_st = 0;
  ::waitpid(other, &other_st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << slurp(err);
  EXPECT_NE(slurp(err).find(second_id + " is trained by another process; skipped"),
            std::string::npos)
      << slurp(err);
  EXPECT_FALSE(fs::exists(root / "b" / "failures-shard0.json"));
}

TEST_F(Cli, SlurmArrayShardsRunEveryPointExactlyOnce) {
  const fs::path plain = dir_ / "plain", sharded = dir_ / "sharded";
  ASSERT_EQ(run("sweep " + kSweep + " --jobs 2 --root " + plain.string()).code, 0);
  // Three array tasks as concurrent processes, as Slurm starts them (ids 4..6).
  std::string cmd;
  for (int task = 4; task <= 6; ++task)
    cmd += "SLURM_ARRAY_TASK_ID=" + std::to_string(task) +
           " SLURM_ARRAY_TASK_MIN=4 SLURM_ARRAY_TASK_MAX=6 SLURM_ARRAY_TASK_COUNT=3 "
           "SLURM_CPUS_PER_TASK=1 " +
           kBinary + " sweep " + kSweep + " --root " + sharded.string() + " > " +
           (dir_ / ("shard" + std::to_string(task) + ".txt")).string() + " 2>&1 & ";
  ASSERT_EQ(std::system(("(" + cmd + "wait)").c_str()), 0);
  for (int task = 4; task <= 6; ++task)
    EXPECT_NE(slurp(dir_ / ("shard" + std::to_string(task) + ".txt"))
                  .find("shard " + std::to_string(task - 4) + "/3: 2 runs"),
              std::string::npos);
  EXPECT_EQ(finished_runs(sharded / "tiny"), finished_runs(plain / "tiny"));
  // Each run started once: its log holds one start line.
  for (const std::string& id : finished_runs(sharded / "tiny")) {
    const std::string log = slurp(sharded / "tiny" / "logs" / (id + ".log"));
    size_t starts = 0;
    for (size_t p = log.find("gradscope run "); p != std::string::npos;
         p = log.find("gradscope run ", p + 1))
      ++starts;
    EXPECT_EQ(starts, 1u) << id;
  }
  EXPECT_EQ(gradscope::ResultsIndex(sharded / "index.sqlite").count("runs"), 6);
  EXPECT_EQ(index_without_timing(sharded / "index.sqlite"),
            index_without_timing(plain / "index.sqlite"));

  // A non-contiguous array (--array=1,3,9) is refused.
  ::setenv("SLURM_ARRAY_TASK_ID", "9", 1);
  ::setenv("SLURM_ARRAY_TASK_MIN", "1", 1);
  ::setenv("SLURM_ARRAY_TASK_MAX", "9", 1);
  ::setenv("SLURM_ARRAY_TASK_COUNT", "3", 1);
  const Result gaps = run("sweep " + kSweep + " --root " + sharded.string());
  for (const char* v : {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX",
                        "SLURM_ARRAY_TASK_COUNT"})
    ::unsetenv(v);
  EXPECT_EQ(gaps.code, 2);
  EXPECT_NE(gaps.err.find("--array=0-2"), std::string::npos) << gaps.err;

  // The sbatch script.
  const Result script =
      run("sweep " + kSweep + " --slurm-script --tasks 3 --cpus 2 --root " + sharded.string());
  EXPECT_EQ(script.code, 0);
  EXPECT_NE(script.out.find("#SBATCH --array=0-2"), std::string::npos) << script.out;
  EXPECT_NE(script.out.find("#SBATCH --cpus-per-task=2"), std::string::npos);
  // The tasks write where this sweep would: --root (absolute) and --device go into the script.
  const std::string root = fs::absolute(sharded).string();
  EXPECT_NE(script.out.find("#SBATCH --output=" + root + "/slurm-logs/"), std::string::npos)
      << script.out;
  EXPECT_NE(script.out.find("--root '" + root + "'"), std::string::npos) << script.out;
  EXPECT_TRUE(fs::is_directory(sharded / "slurm-logs"));
  const Result on_device = run("--device emulated sweep " + kSweep +
                               " --slurm-script --tasks 3 --root " + sharded.string());
  EXPECT_NE(on_device.out.find(" --device emulated sweep "), std::string::npos) << on_device.out;
  // With --replicas: the array covers the groups (weight decay is replica-safe, the fraction is
  // not: 3 groups of 2), each task trains its groups on its CPUs as threads.
  const Result groups =
      run("sweep " + kSweep + " --slurm-script --replicas 2 --cpus 2 --root " + sharded.string());
  EXPECT_EQ(groups.code, 0);
  EXPECT_NE(groups.out.find("#SBATCH --array=0-2"), std::string::npos) << groups.out;
  EXPECT_NE(groups.out.find("--threads 2 sweep"), std::string::npos) << groups.out;
  EXPECT_NE(groups.out.find("--replicas 2 --jobs 1"), std::string::npos) << groups.out;
}

TEST_F(Cli, PhaseDiagramListAndExport) {
  const fs::path root = dir_ / "r";
  ASSERT_EQ(run("sweep " + kSweep + " --jobs 2 --root " + root.string()).code, 0);
  const fs::path svg = dir_ / "phase.svg";
  Result r = run("plot " + (root / "tiny").string() +
                 " --x optim.weight_decay --y task.train_fraction --z regime --logx --out " +
                 svg.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("6 cells from 6 runs"), std::string::npos) << r.out;
  EXPECT_NE(slurp(svg).find("<rect"), std::string::npos);
  r = run("plot " + (root / "tiny").string() +
          " --x optim.weight_decay --y task.train_fraction --z final.test_acc --out " +
          svg.string());
  EXPECT_EQ(r.code, 0) << r.err;
  r = run("plot " + (root / "tiny").string() + " --x optim.weight_decy --y task.train_fraction");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("did you mean 'optim.weight_decay'"), std::string::npos) << r.err;
  // A corrupt run directory: reported and skipped, never fatal.
  fs::create_directories(root / "tiny" / "broken");
  std::ofstream(root / "tiny" / "broken" / "config.toml") << "[model\n";
  r = run("index rebuild " + root.string());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("indexed 6 runs"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("broken"), std::string::npos) << r.err;
  r = run("ls optim.weight_decay=1 --index " + (root / "index.sqlite").string());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("3 runs"), std::string::npos) << r.out;
  r = run("export --csv --index " + (root / "index.sqlite").string());
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 7) << r.out;
  EXPECT_NE(r.out.find("optim.weight_decay"), std::string::npos);
}

// The parameter count from a checkpoint's own parameter table (its JSON header).
int64_t params_in_checkpoint(const fs::path& file) {
  const std::string bytes = slurp(file);
  uint64_t len = 0;
  std::memcpy(&len, bytes.data() + 8, 8);
  const nlohmann::json header = nlohmann::json::parse(bytes.substr(16, len));
  int64_t n = 0;
  for (const auto& p : header.at("params")) {
    int64_t e = 1;
    for (const auto& d : p["shape"]) e *= d.get<int64_t>();
    n += e;
  }
  return n;
}

TEST_F(Cli, SweepLinesAgainstTheParameterCount) {
  const fs::path root = dir_ / "r";
  const std::string sweep = kSourceDir + "/tests/fixtures/tiny.toml model.d_hidden=8,16,32 " +
                            "seed=0,1 train.steps=40 --jobs 2 --root " + root.string();
  ASSERT_EQ(run("sweep " + sweep).code, 0);
  std::set<int64_t> counts;
  for (const auto& e : fs::directory_iterator(root / "tiny")) {
    if (!fs::exists(e.path() / "summary.json")) continue;
    const int64_t n = summary(e.path())["n_params"].get<int64_t>();
    EXPECT_EQ(n, params_in_checkpoint(e.path() / "checkpoints/step_00000040.ckpt"));
    counts.insert(n);
  }
  EXPECT_EQ(counts.size(), 3u);  // one per width, the same for both seeds
  const fs::path svg = dir_ / "lines.svg";
  Result r = run("plot " + (root / "tiny").string() +
                 " --x n_params --y final.train_acc,final.test_acc --logx --out " + svg.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2 line(s) over 3 x values from 6 runs"), std::string::npos) << r.out;
  EXPECT_NE(slurp(svg).find("final.test_acc"), std::string::npos);
  // One line per value of another key (here the seed: no mean over seeds then).
  r = run("plot " + (root / "tiny").string() + " --x n_params --y final.test_acc --by seed --out " +
          svg.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2 line(s) over 3 x values from 6 runs"), std::string::npos) << r.out;
  EXPECT_NE(slurp(svg).find("final.test_acc, seed = 1"), std::string::npos);
  r = run("plot " + (root / "tiny").string() + " --x n_params --y final.test_acc --by seeed");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("seeed"), std::string::npos) << r.err;
  r = run("plot " + (root / "tiny").string() + " --x model.d_hidden --y final.test_accc");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--y final.test_accc"), std::string::npos) << r.err;  // no such metric
  r = run("plot " + (root / "tiny").string() + " --x n_params --y memorised_step");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--y memorised_step (valid: memorized_step"), std::string::npos) << r.err;
  r = run("ls 'n_params>0' --index " + (root / "index.sqlite").string());
  EXPECT_NE(r.out.find("6 runs"), std::string::npos) << r.out;
}

// The failures file holds the runs whose last attempt failed: a run that is complete (or ran
// again) since loses its entry, and the file goes when none is left.
TEST_F(Cli, AFailureEntryGoesOnceItsRunIsComplete) {
  const fs::path root = dir_ / "r";
  const std::string args = "sweep " + kExamples +
                           "grok-mlp-small.toml name=f train.steps=20 seed=0,1 --root " +
                           root.string();
  ASSERT_EQ(run(args).code, 0);
  std::string id;
  for (const auto& e : fs::directory_iterator(root / "f"))
    if (fs::is_directory(e) && fs::exists(e.path() / "summary.json"))
      id = e.path().filename().string();
  ASSERT_FALSE(id.empty());
  const fs::path failures = root / "f" / "failures-shard0.json";
  std::ofstream(failures) << "[\"" + id +
                                 " (seed=0): exit 1: old\", \"ffffffffffffffff (x): exit 1\"]";
  // Files of an earlier array's shards past this sharding's count lose their complete runs too.
  const fs::path stale = root / "f" / "failures-shard3.json",
                 done = root / "f" / "failures-shard4.json";
  std::ofstream(stale) << "[\"" + id +
                              " (seed=0): exit 1: old\", \"ffffffffffffffff (x): exit 1\"]";
  std::ofstream(done) << "[\"" + id + " (seed=0): exit 1: old\"]";
  ASSERT_EQ(run(args).code, 0);  // both complete: skipped
  const std::string kept = slurp(failures);
  EXPECT_EQ(kept.find(id), std::string::npos) << kept;
  EXPECT_NE(kept.find("ffffffffffffffff"), std::string::npos) << kept;  // not this sweep's run
  EXPECT_EQ(slurp(stale).find(id), std::string::npos) << slurp(stale);
  EXPECT_NE(slurp(stale).find("ffffffffffffffff"), std::string::npos);
  EXPECT_FALSE(fs::exists(done));
  // ls shows the config keys that vary, top-level ones (seed) among them.
  const Result listed = run("ls --index " + (root / "index.sqlite").string());
  EXPECT_NE(listed.out.substr(0, listed.out.find('\n')).find("seed"), std::string::npos)
      << listed.out;
  // gradscope replicas skips a complete run as the sweep does, and refuses what is no group.
  const auto summary_time = fs::last_write_time(root / "f" / id / "summary.json");
  Result r = run("replicas " + (root / "f").string() + " " + id);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(id + ": exit 0 (complete, skipped)"), std::string::npos) << r.out;
  EXPECT_EQ(fs::last_write_time(root / "f" / id / "summary.json"), summary_time);
  r = run("replicas " + (root / "f").string() + " " + id + " " + id);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("is listed twice"), std::string::npos) << r.err;
  r = run("replicas " + (root / "nosuch").string() + " " + id);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not a sweep directory"), std::string::npos) << r.err;
}

// More seeds of a sweep train only the new seeds, in the same folder, whose manifest then lists
// every run; fewer train nothing and leave it.
TEST_F(Cli, MoreSeedsTrainOnlyTheNewOnes) {
  const fs::path root = dir_ / "r", experiment = dir_ / "seeds.toml";
  const std::string base = slurp(fs::path(kExamples + "grok-mlp-small.toml"));
  auto sweep = [&](int seeds) {
    std::ofstream(experiment) << base << "\n[sweep]\nseeds = " << seeds << "\n";
    return run("sweep " + experiment.string() + " name=s train.steps=20 --root " + root.string());
  };
  ASSERT_EQ(sweep(2).code, 0);
  EXPECT_EQ(finished_runs(root / "s").size(), 2u);
  const auto first = finished_runs(root / "s");
  const auto summary_time = fs::last_write_time(root / "s" / *first.begin() / "summary.json");
  Result r = sweep(3);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2 already complete"), std::string::npos) << r.out;
  EXPECT_EQ(finished_runs(root / "s").size(), 3u);
  EXPECT_EQ(fs::last_write_time(root / "s" / *first.begin() / "summary.json"), summary_time);
  const auto manifest = nlohmann::json::parse(slurp(root / "s" / "sweep.json"));
  EXPECT_EQ(manifest["runs"].size(), 3u);
  EXPECT_EQ(manifest["spec"]["seeds"], 3);
  r = sweep(1);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("1 already complete"), std::string::npos) << r.out;
  EXPECT_EQ(nlohmann::json::parse(slurp(root / "s" / "sweep.json"))["runs"].size(), 3u);
}

TEST_F(Cli, SweepBadInput) {
  const fs::path root = dir_ / "r";
  Result r = run("sweep " + kExamples + "grok-mlp-small.toml optim.weight_decy=0.1,1 --root " +
                 root.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("did you mean 'optim.weight_decay'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(root));
  r = run("sweep " + kExamples + "grok-mlp-small.toml task.train_fraction=0.5,2 --root " +
          root.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("task.train_fraction = 2"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(root));
  r = run("sweep " + kExamples + "grok-mlp-small.toml optim.weight_decay=0.1,1 --jobs 0 --root " +
          root.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--jobs: Value 0 not in range 1"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(root));
  // A device that is no device, and (without a GPU) cuda, by flag or key: refused before any run.
  for (const std::string device : {"--device gpu sweep", "sweep"}) {
    r = run(device + " " + kExamples + "grok-mlp-small.toml seed=0,1 --root " + root.string() +
            (device == "sweep" ? " device=gpu" : ""));
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.err.find("gpu"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("(valid: cpu, cuda, emulated)"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(root));
  }
  if (gradscope::device_unavailable(gradscope::Device::cuda) != "")
    for (const std::string how : {"--device cuda sweep", "sweep"}) {
      r = run(how + " " + kExamples + "grok-mlp-small.toml seed=0,1 --root " + root.string() +
              (how == "sweep" ? " device=cuda" : ""));
      EXPECT_EQ(r.code, 2) << r.out;
      EXPECT_NE(r.err.find("cuda: "), std::string::npos) << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
      EXPECT_FALSE(fs::exists(root));
    }
  // Two different sweeps under one name: the second is refused.
  ASSERT_EQ(run("sweep " + kExamples +
                "grok-mlp-small.toml name=s train.steps=50 optim.weight_decay=0.1,1 --root " +
                root.string())
                .code,
            0);
  r = run("sweep " + kExamples +
          "grok-mlp-small.toml name=s train.steps=50 optim.weight_decay=0.2,1 --root " +
          root.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("holds a different sweep"), std::string::npos) << r.err;
  // A name that is the index's file, or no directory name at all.
  r = run("sweep " + kExamples + "grok-mlp-small.toml name=index.sqlite train.steps=50 --root " +
          root.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("index.sqlite is a file, not a sweep folder"), std::string::npos) << r.err;
  r = run("sweep " + kExamples + "grok-mlp-small.toml name=.. --root " + root.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not . or ..)\n"), std::string::npos) << r.err;  // no empty [sweep point]
  r = run("index rebuil " + root.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("index: unknown subcommand 'rebuil' (valid: rebuild [ROOT])"),
            std::string::npos)
      << r.err;
  r = run("index rebuild " + root.string() + " extra");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'extra' was not expected"), std::string::npos) << r.err;
}

}  // namespace

// plot picks its plot by the path's kind and the flags given; another kind's flags are bad input,
// said in one line.
TEST_F(Cli, PlotPicksByThePathsKindAndRefusesAnotherKindsFlags) {
  const fs::path root = dir_ / "r";
  ASSERT_EQ(run("sweep " + kSourceDir + "/tests/fixtures/tiny.toml seed=0,1 train.steps=10 " +
                "--root " + root.string())
                .code,
            0);
  fs::path one_run;
  for (const auto& e : fs::directory_iterator(root / "tiny"))
    if (fs::exists(e.path() / "summary.json")) one_run = e.path();
  ASSERT_FALSE(one_run.empty());
  const std::vector<std::pair<std::string, std::string>> refused = {
      {one_run.string() + " --x n_params --y final.test_acc", "is a run directory"},
      {root.string(), "not a run or sweep directory"},
      {(root / "tiny").string() + " --x n_params --y final.test_acc --z regime", "--z regime"},
      {(root / "tiny").string() + " --x n_params", "--x and --y go together"},
      {one_run.string() + " --logx", "--logx: "},
      {(root / "tiny").string() + " --by seed", "the seeds' curves, which take no --by"},
      {(root / "tiny").string() + " --logy", "take no --logy"},
      {(root / "tiny").string() + " --x seed --y optim.lr --z regime --by seed",
       "--by seed draws lines"},
      {(root / "tiny").string() + " --x seed --y optim.lr --z final.tset_acc",
       "--z final.tset_acc: no finished run of tiny has a value of it"}};
  for (const auto& [args, message] : refused) {
    const Result r = run("plot " + args);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(run("plot " + one_run.string()).code, 0);
  EXPECT_TRUE(fs::exists(one_run / "curves.svg"));
  EXPECT_EQ(run("plot " + (root / "tiny").string()).code, 0);  // the seeds' curves
}
