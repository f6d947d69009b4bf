// Replica groups end to end (gradscope sweep --replicas K): on the cpu every replica is the run
// `gradscope run` makes of its config, byte for byte (a transformer, an MLP and a rank-dynamics
// model); a group killed with SIGKILL and rerun finishes as the uninterrupted group did; on the
// emulated device a group follows its standalone runs and repeats itself exactly.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "cli_fixture.h"

namespace {

using namespace gradscope_it;

// The run ids (directories) of a sweep.
std::vector<std::string> run_ids(const fs::path& sweep_dir) {
  std::vector<std::string> ids;
  for (const auto& e : fs::directory_iterator(sweep_dir))
    if (fs::exists(e.path() / "config.toml")) ids.push_back(e.path().filename().string());
  std::sort(ids.begin(), ids.end());
  return ids;
}

// A checkpoint's parts that do not hold wall-clock time: the magic, the JSON header without
// wall_time_s, and the payload (without format 2's CRC-32 trailer, which covers the time too).
std::string checkpoint_without_time(const fs::path& file) {
  const std::string bytes = slurp(file);
  uint64_t len = 0;
  std::memcpy(&len, bytes.data() + 8, 8);
  nlohmann::json header = nlohmann::json::parse(bytes.substr(16, len));
  header.erase("wall_time_s");
  const size_t end = header.value("checksum", "") == "crc32" ? bytes.size() - 4 : bytes.size();
  return bytes.substr(0, 8) + header.dump() + bytes.substr(16 + len, end - 16 - len);
}

// What differs between two run directories beyond wall-clock time ("" when nothing): every file
// byte for byte but config.toml's header comment, summary.json's timing fields, the checkpoints'
// times and plots.
std::string difference(const fs::path& a, const fs::path& b) {
  std::set<std::string> names;
  for (const fs::path& d : {a, b})
    for (const auto& e : fs::recursive_directory_iterator(d))
      if (e.is_regular_file()) names.insert(fs::relative(e.path(), d).string());
  for (const std::string& n : names) {
    if (!fs::exists(a / n) || !fs::exists(b / n)) return n + " only in one of them";
    if (n.ends_with(".svg")) continue;
    std::string x = slurp(a / n), y = slurp(b / n);
    if (n == "summary.json") {
      auto strip = [](const std::string& t) {
        nlohmann::ordered_json j = nlohmann::ordered_json::parse(t);
        j.erase("wall_time_s");
        j.erase("steps_per_s");
        return j.dump();
      };
      x = strip(x), y = strip(y);
    } else if (n == "config.toml") {
      x = x.substr(x.find('\n')), y = y.substr(y.find('\n'));
    } else if (n.rfind("checkpoints/", 0) == 0) {
      x = checkpoint_without_time(a / n), y = checkpoint_without_time(b / n);
    }
    if (x != y) return n + " differs";
  }
  return "";
}

// Metrics rows a and b agree: the same steps and columns, numbers within `tolerance` relative to
// max(1, |a|); "" or where they first differ.
std::string rows_apart(const fs::path& a, const fs::path& b, double tolerance) {
  const auto x = rows(a), y = rows(b);
  if (x.size() != y.size() || x.empty()) return "row counts differ";
  for (size_t r = 0; r < x.size(); ++r)
    for (const auto& [k, v] : x[r].items()) {
      if (!y[r].contains(k)) return k + " missing";
      if (!v.is_number()) continue;
      const double d = std::abs(v.get<double>() - y[r][k].get<double>());
      if (!(d <= tolerance * std::max(1.0, std::abs(v.get<double>()))))
        return "row " + std::to_string(r) + " " + k + " apart by " + std::to_string(d);
    }
  return "";
}

class Replicas : public Cli {
 protected:
  // Sweeps `args` (4 runs named `sweep`) into root/<kind>/, as one replica group (kind "group")
  // or as plain runs two at a time; returns the sweep directory.
  fs::path sweep(const std::string& global, const std::string& args, const fs::path& root,
                 const std::string& kind, const std::string& name) {
    const std::string how = kind == "plain" ? " --jobs 2" : " --replicas 4";
    const Result r = run(global + " sweep " + args + how + " --root " + (root / kind).string());
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    if (kind != "plain") {
      EXPECT_NE(r.out.find("in 1 replica groups of up to 4"), std::string::npos) << r.out;
    }
    const fs::path dir = root / kind / name;
    if (kind != "plain" && global.find("emulated") != std::string::npos &&
        !args.ends_with("train.steps=1")) {  // the first two steps run before any replay
      // The group's process says how its steps ran: one stacked step, every replica zipped.
      std::string log;
      for (const auto& e : fs::directory_iterator(dir / "logs"))
        if (e.path().string().ends_with(".group.log")) log += slurp(e.path());
      EXPECT_NE(log.find("4 replicas in one stacked step on emulated"), std::string::npos) << log;
      EXPECT_NE(log.find("every replica's step zipped"), std::string::npos) << log;
    }
    EXPECT_EQ(run_ids(dir).size(), 4u) << dir;
    return dir;
  }
};

TEST_F(Replicas, OnTheCpuEveryReplicaIsItsPlainRunByteForByte) {
  struct Case {
    std::string experiment, overrides, name;
  };
  const std::vector<Case> cases = {
      {"nanda-grokking.toml", "train.steps=12 train.log_every=4 probe.every=6",
       "nanda-grokking"},                                       // transformer
      {"pair-mlp.toml", "train.steps=60", "pair-mlp"},          // an MLP
      {"diag-stages.toml", "train.steps=200", "diag-stages"}};  // rank dynamics
  for (const Case& c : cases) {
    const std::string args =
        kExamples + c.experiment + " " + c.overrides + " seed=1,2 optim.weight_decay=0.5,1";
    const fs::path root = dir_ / c.name;
    const fs::path group = sweep("--threads 2", args, root, "group", c.name);
    const fs::path plain = sweep("--threads 2", args, root, "plain", c.name);
    ASSERT_EQ(run_ids(group), run_ids(plain));
    EXPECT_NE(difference(group / run_ids(group)[0], plain / run_ids(plain)[1]), "");  // it tells
    for (const std::string& id : run_ids(plain))
      EXPECT_EQ(difference(group / id, plain / id), "") << c.experiment << ": run " << id;
  }
}

TEST_F(Replicas, AGroupKilledMidwayFinishesAsTheWholeGroupDid) {
  const std::string args = kSourceDir +
                           "/tests/fixtures/tiny.toml seed=0,1,2,3 train.steps=30000 "
                           "train.log_every=100 'train.checkpoint_steps=\"every:500\"'";
  const fs::path whole = sweep("--threads 2", args, dir_, "group", "tiny");
  const fs::path killed = dir_ / "killed" / "tiny";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    std::freopen("/dev/null", "w", stdout);
    const std::string cmd = kBinary + " --threads 2 sweep " + args + " --replicas 4 --root " +
                            (dir_ / "killed").string();
    ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  // Killed once every replica has written its first checkpoint after step 0 (step 500).
  auto past_checkpoint = [&] {
    if (!fs::exists(killed) || run_ids(killed).size() < 4) return false;
    for (const std::string& id : run_ids(killed))
      if (!fs::exists(killed / id / "checkpoints" / "step_00000500.ckpt")) return false;
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline && !past_checkpoint())
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const bool past = past_checkpoint();
  ::kill(-pid, SIGKILL);
  int st = 0;
  ::waitpid(pid, &st, 0);
  ASSERT_TRUE(past) << "no replica past its first checkpoint within 120 s";
  // Each replica's older checkpoints held aside while it resumes, so it can only resume from its
  // newest, not restart (the same rows either way); put back to compare the folders.
  const fs::path aside = dir_ / "aside";
  std::map<std::string, int64_t> newest;
  for (const std::string& id : run_ids(killed)) {
    fs::create_directories(aside / id);
    fs::copy(killed / id / "checkpoints", aside / id);
    newest[id] = keep_only_newest_checkpoint(killed / id);
    ASSERT_GT(newest[id], 0) << id;
  }
  size_t finished = 0;
  for (const std::string& id : run_ids(killed))
    finished += fs::exists(killed / id / "summary.json");
  ASSERT_LT(finished, 4u) << "the group finished before the kill";
  const fs::path resumed = sweep("--threads 2", args, dir_, "killed", "tiny");
  for (const std::string& id : run_ids(killed))
    EXPECT_EQ(resumed_from(killed / id, newest[id]), "");
  for (const std::string& id : run_ids(killed))
    for (const auto& e : fs::directory_iterator(aside / id))
      if (!fs::exists(killed / id / "checkpoints" / e.path().filename()))
        fs::copy_file(e.path(), killed / id / "checkpoints" / e.path().filename());
  ASSERT_EQ(run_ids(resumed), run_ids(whole));
  for (const std::string& id : run_ids(whole))
    EXPECT_EQ(difference(resumed / id, whole / id), "") << "run " << id;
}

TEST_F(Replicas, OnTheEmulatedDeviceAGroupFollowsItsStandaloneRuns) {
  const std::string tiny = kSourceDir + "/tests/fixtures/tiny.toml seed=0,1,2,3 train.log_every=1 ";
  // float64, 20 steps: every logged number within 1e-10 of the standalone run's; a second group
  // run repeats the first byte for byte.
  const std::string f64 = tiny + "precision=float64 train.steps=20";
  const fs::path group = sweep("--device emulated", f64, dir_ / "f64", "group", "tiny");
  const fs::path again = sweep("--device emulated", f64, dir_ / "f64", "again", "tiny");
  const fs::path plain = sweep("--device emulated", f64, dir_ / "f64", "plain", "tiny");
  for (const std::string& id : run_ids(plain)) {
    EXPECT_EQ(rows_apart(group / id, plain / id, 1e-10), "") << "float64 run " << id;
    // the emulated device's batched GEMM is its GEMM, once per replica: the same bits
    EXPECT_EQ(difference(group / id, plain / id), "") << "float64 run " << id;
    EXPECT_EQ(difference(group / id, again / id), "") << "float64 run " << id;
  }
  // float32, one step: within the device tests' 1e-4.
  const std::string f32 = tiny + "train.steps=1";
  const fs::path g32 = sweep("--device emulated", f32, dir_ / "f32", "group", "tiny");
  const fs::path p32 = sweep("--device emulated", f32, dir_ / "f32", "plain", "tiny");
  for (const std::string& id : run_ids(p32))
    EXPECT_EQ(rows_apart(g32 / id, p32 / id, 1e-4), "") << "float32 run " << id;
}

}  // namespace
