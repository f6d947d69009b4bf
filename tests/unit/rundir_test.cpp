// The run-directory module: the summary's typed round trip, the run states decided in one place
// (with heartbeats of live, dead and remote processes), the run lock (held, stale after kill -9,
// another host's), checkpoint headers of every format version, the metrics readers (the fast path
// and the full JSON parser agreeing), the CSV writer, and the llc/ and hessian/ folders read as
// columns.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gradscope/rundir/checkpoint.h"
#include "gradscope/rundir/csv.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/heartbeat.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"
#include "gradscope/rundir/run_lock.h"
#include "gradscope/rundir/run_state.h"
#include "gradscope/rundir/spectra_files.h"
#include "gradscope/rundir/summary_file.h"
#include "gradscope/tensor/npy.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;

std::string fmt_pid(pid_t pid) {
  return "pid " + std::to_string(pid) + " ";
}

class RunDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gradscope_rundir_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

Summary sample_summary() {
  Summary s;
  s.status = "completed";
  s.memorized_step = 300;
  s.generalized_step = 8000;
  s.grokking_delay = 7700;
  s.regime = "grokking";
  s.memorize_threshold = s.generalize_threshold = 0.99;
  s.regime_threshold = 0.9;
  s.regime_gap = 1000;
  s.final = {{"step", 20000}, {"train_loss", 1e-7}, {"test_acc", NAN}};
  s.steps_done = 20000;
  s.n_params = 176;
  s.wall_time_s = 120.5;
  s.steps_per_s = 20000 / 120.5;
  s.phase_changes = {{"test_loss", {{"step", 8000}}}};
  s.extra = {{"from_the_future", 1}};
  return s;
}

TEST_F(RunDir, SummaryRoundTripsThroughItsFile) {
  const Summary s = sample_summary();
  write_summary(dir_, s);
  const std::string first = read_file(rundir::summary_file(dir_));
  const std::optional<Summary> back = read_summary(dir_);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->generalized_step, 8000);
  EXPECT_EQ(back->regime, "grokking");
  EXPECT_TRUE(std::isnan(back->final_value("test_acc")));  // written as null
  EXPECT_DOUBLE_EQ(back->final_value("train_loss"), 1e-7);
  EXPECT_EQ(back->n_params, 176);
  write_summary(dir_, *back);
  EXPECT_EQ(read_file(rundir::summary_file(dir_)), first);  // nothing lost, same bytes
  std::ofstream(rundir::summary_file(dir_)) << "{not json";
  EXPECT_THROW(read_summary(dir_), std::runtime_error);
  // A step that is not a whole int64 is a corrupt file, not a conversion (a fuzz finding).
  for (const char* step : {"2.4e43", "0.5", "\"12\"", "-9.3e18"}) {
    std::ofstream(rundir::summary_file(dir_))
        << R"({"status": "completed", "generalized_step": )" << step << "}";
    try {
      read_summary(dir_);
      ADD_FAILURE() << step << " was read";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("not a gradscope summary"), std::string::npos);
    }
  }
  std::ofstream(rundir::summary_file(dir_))
      << R"({"status": "completed", "generalized_step": 8e3})";
  EXPECT_EQ(read_summary(dir_)->generalized_step, 8000);  // an integral number still reads
}

// A run resumed by a build that logs a new column: every row keeps the same columns, the old
// ones null (jsonl) or nan (csv) in it.
TEST_F(RunDir, AResumeThatLogsANewColumnWidensEveryRow) {
  {
    MetricsLog log(dir_, -1);
    log.append({{{"step", 0.0}, {"loss", 2.0}}});
    log.append({{{"step", 10.0}, {"loss", 1.0}}});
  }
  MetricsLog log(dir_, 10);  // keeps step 0
  log.append({{{"step", 10.0}, {"loss", 1.0}, {"numerics.x", 0.5}}});
  log.append({{{"step", 20.0}, {"loss", 0.5}, {"numerics.x", 0.25}}});
  std::ifstream jsonl(rundir::metrics_jsonl(dir_)), csv(rundir::metrics_csv(dir_));
  std::stringstream j, c;
  j << jsonl.rdbuf();
  c << csv.rdbuf();
  EXPECT_EQ(j.str(),
            "{\"step\":0,\"loss\":2,\"numerics.x\":null}\n"
            "{\"step\":10,\"loss\":1,\"numerics.x\":0.5}\n"
            "{\"step\":20,\"loss\":0.5,\"numerics.x\":0.25}\n");
  EXPECT_EQ(c.str(), "step,loss,numerics.x\n0,2,nan\n10,1,0.5\n20,0.5,0.25\n");
  // A row lacking a column the file has is written with it as NaN.
  log.append({{{"step", 30.0}, {"loss", 0.25}}});
  EXPECT_TRUE(std::isnan(read_metrics(dir_).back().get("numerics.x")));
  EXPECT_EQ(read_metrics(dir_).back().values.size(), 3u);
}

TEST_F(RunDir, StatesAreDecidedFromTheFiles) {
  EXPECT_EQ(inspect_run(dir_).state, RunState::none);
  write_run_config(dir_, "", Config());
  EXPECT_EQ(inspect_run(dir_).state, RunState::broken);  // nothing to continue from
  fs::create_directories(rundir::checkpoints_dir(dir_));
  std::ofstream(rundir::checkpoint_file(dir_, 100)) << "x";
  EXPECT_EQ(inspect_run(dir_).state, RunState::resumable);
  Summary s = sample_summary();
  s.status = "interrupted";
  write_summary(dir_, s);
  EXPECT_EQ(inspect_run(dir_).state, RunState::resumable);
  s.status = "diverged";
  write_summary(dir_, s);
  EXPECT_EQ(inspect_run(dir_).state, RunState::complete);
  // A live heartbeat (this process) wins; a dead pid on this host does not count.
  write_heartbeat(dir_, heartbeat_now(5, 10, 1.0, 2.0));
  EXPECT_EQ(inspect_run(dir_).state, RunState::running);
  Heartbeat dead = heartbeat_now(5, 10, 1.0, 2.0);
  dead.pid = 999999999;
  write_heartbeat(dir_, dead);
  EXPECT_EQ(inspect_run(dir_).state, RunState::complete);
  remove_heartbeat(dir_);
  EXPECT_FALSE(read_heartbeat(dir_));
}

// A heartbeat's process on this host: running (a child that sleeps) counts; exited but not yet
// reaped (a zombie, as a run killed with its sweep is until init reaps it) does not, though
// kill(pid, 0) still answers for it; reaped does not.
TEST_F(RunDir, AZombieProcessDoesNotKeepItsHeartbeatAlive) {
  const pid_t sleeper = ::fork();
  ASSERT_GE(sleeper, 0);
  if (sleeper == 0) {
    ::pause();  // until killed
    ::_exit(0);
  }
  Heartbeat h = heartbeat_now(1, 2, 0, 0);
  h.pid = sleeper;
  EXPECT_TRUE(heartbeat_alive(h));
  ::kill(sleeper, SIGKILL);
  siginfo_t info{};  // wait until it has exited, leaving it unreaped
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(sleeper), &info, WEXITED | WNOWAIT), 0);
  EXPECT_EQ(::kill(sleeper, 0), 0);  // the zombie still answers kill
  EXPECT_FALSE(heartbeat_alive(h));
  ASSERT_EQ(::waitpid(sleeper, nullptr, 0), sleeper);
  EXPECT_FALSE(heartbeat_alive(h));
}

TEST_F(RunDir, AnotherHostsHeartbeatCountsUntilItIsStale) {
  Heartbeat h = heartbeat_now(1, 2, 0, 0);
  h.host = "some-other-node";
  h.pid = 1;
  EXPECT_TRUE(heartbeat_alive(h));
  h.updated -= kHeartbeatStaleAfter + 1;
  EXPECT_FALSE(heartbeat_alive(h));
  write_heartbeat(dir_, h);
  const auto back = read_heartbeat(dir_);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->host, "some-other-node");
  EXPECT_EQ(back->step, 1);
}

TEST_F(RunDir, ARunLockIsHeldByOneAtATimeAndRemovedWithItsDirectory) {
  const fs::path run = dir_ / "run";
  {
    const RunLock held(run);
    EXPECT_TRUE(fs::exists(rundir::lock_file(run)));
    EXPECT_EQ(read_lock_holder(run)->pid, ::getpid());
    try {
      const RunLock second(run);  // another open file: flock refuses it as it would a process
      FAIL() << "locked twice";
    } catch (const RunBusy& e) {
      EXPECT_NE(std::string(e.what()).find(fmt_pid(::getpid())), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(this_host()), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(fs::exists(run)) << "the lock made the directory and nothing else went there";
}

TEST_F(RunDir, TheLockOfAKilledProcessIsTakenOver) {
  const fs::path run = dir_ / "run";
  const pid_t child = ::fork();
  if (child == 0) {
    try {
      const RunLock held(run);
      ::raise(SIGKILL);  // dies holding it: run.lock stays, the flock goes with the process
    } catch (...) {
    }
    ::_exit(1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_EQ(read_lock_holder(run)->pid, child);
  const RunLock taken(run);
  ASSERT_TRUE(taken.replaced());
  EXPECT_EQ(taken.replaced()->pid, child);
  EXPECT_EQ(read_lock_holder(run)->pid, ::getpid());
}

TEST_F(RunDir, AnotherHostsLockHoldsWhileItsHeartbeatIsFresh) {
  const fs::path run = dir_ / "run";
  fs::create_directories(run);
  auto write_lock = [&] {
    std::ofstream(rundir::lock_file(run))
        << R"({"host":"some-other-node","pid":1,"started":)" << unix_time_now() << "}\n";
  };
  write_lock();  // no heartbeat yet: the lock's own age decides
  EXPECT_THROW(RunLock{run}, RunBusy);
  Heartbeat beat{"some-other-node", 1, 5, 10, 1.0, 5.0, unix_time_now()};
  write_heartbeat(run, beat);
  EXPECT_THROW(RunLock{run}, RunBusy);
  beat.updated -= 2 * kHeartbeatStaleAfter;  // that host went away mid-run
  write_heartbeat(run, beat);
  {
    const RunLock taken(run);
    ASSERT_TRUE(taken.replaced());
    EXPECT_EQ(taken.replaced()->host, "some-other-node");
  }
  remove_heartbeat(run);
  write_lock();
  fs::last_write_time(rundir::lock_file(run),
                      fs::file_time_type::clock::now() - std::chrono::minutes(5));
  EXPECT_NO_THROW(RunLock{run});  // a stale lock that never got to write a heartbeat
}

// The commands' llc/ and hessian/ folders read as the probes' columns: llc.mean the mean over the
// chains that did not diverge (NaN), hessian.top the first column; a step with no finite value is
// left out; a missing file gives nothing.
TEST_F(RunDir, CommandFoldersReadAsTheProbesColumns) {
  write_probe_files(dir_ / "llc", {{"steps.npy", encode_npy_f32({0, 10, 20}, 3, 0)},
                                   {"llc.npy", encode_npy_f32({1, NAN, 2, 4, NAN, NAN}, 3, 2)}});
  write_probe_files(dir_ / "hessian", {{"steps.npy", encode_npy_f32({0, 10}, 2, 0)},
                                       {"top.npy", encode_npy_f32({9, 1, 8, 2}, 2, 2)}});
  using Points = std::vector<std::pair<double, double>>;
  EXPECT_EQ(folder_measure_series(dir_, "llc.mean"), (Points{{0, 1}, {10, 3}}));
  EXPECT_EQ(folder_measure_series(dir_, "hessian.top"), (Points{{0, 9}, {10, 8}}));
  EXPECT_TRUE(folder_measure_series(dir_, "hessian.preconditioned").empty());
  EXPECT_TRUE(folder_measure_series(dir_, "train_loss").empty());
}

TEST_F(RunDir, CheckpointsOfFormatOneStillRead) {
  // Written by gradscope 0.1 (tests/fixtures/compat): format 1.
  const fs::path v1 = fs::path(GRADSCOPE_SOURCE_DIR) /
                      "tests/fixtures/compat/run-killed/checkpoints/step_00000250.ckpt";
  const CheckpointInfo info = read_checkpoint_info(v1);
  EXPECT_EQ(info.format, 1);
  EXPECT_EQ(info.step, 250);
  EXPECT_EQ(info.precision, "float32");
  EXPECT_EQ(info.optimizer, "adamw");
  EXPECT_EQ(info.optimizer_steps, 250);
  EXPECT_NE(info.config_toml.find("name = \"compat-run\""), std::string::npos);
  EXPECT_EQ(rundir::list_checkpoints(v1.parent_path().parent_path()),
            (std::vector<int64_t>{0, 100, 200, 250}));
}

TEST_F(RunDir, CheckpointsOfALaterFormatAreRefusedByName) {
  const std::string header = R"({"format":"gradscope-checkpoint-99","step":1})";
  const uint64_t len = header.size();
  std::ofstream out(dir_ / "future.ckpt", std::ios::binary);
  out.write("GSCKPT01", 8);
  out.write(reinterpret_cast<const char*>(&len), 8);
  out << header;
  out.close();
  try {
    read_checkpoint_info(dir_ / "future.ckpt");
    FAIL() << "read a checkpoint of a newer format";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("newer gradscope (checkpoint format 99"),
              std::string::npos)
        << e.what();
  }
  std::ofstream(dir_ / "junk.ckpt") << "not a checkpoint at all";
  EXPECT_THROW(read_checkpoint_info(dir_ / "junk.ckpt"), std::runtime_error);
}

TEST_F(RunDir, MetricsReadersAgreeOnEveryFormOfALine) {
  // Lines as gradscope writes them, one with spaces and an exponent, one with an escaped key (the
  // full parser's case), a row with a column missing and one added, and a torn last line.
  write_file_atomic(rundir::metrics_jsonl(dir_),
                    "{\"step\":0,\"loss\":4.5,\"acc\":null}\n"
                    "{ \"step\" : 10 , \"loss\" : 1.25e-7 , \"acc\" : 0.5 }\n"
                    "{\"step\":20,\"lo\\u0073s\":0.1,\"acc\":-0.0}\n"
                    "{\"step\":30,\"acc\":1,\"extra\":3}\n"
                    "{\"step\":40,\"loss\":0.");
  const std::vector<MetricsRow> rows = read_metrics(dir_);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1].get("loss"), 1.25e-7);
  EXPECT_TRUE(std::isnan(rows[0].get("acc")));
  EXPECT_EQ(rows[2].get("loss"), 0.1);  // the escaped key, read by the full parser
  const MetricsTable t = read_metrics_table(dir_);
  ASSERT_EQ(t.rows, 4);
  ASSERT_EQ(t.columns, (std::vector<std::string>{"step", "loss", "acc"}));
  const std::vector<double> want = {0, 4.5, NAN, 10, 1.25e-7, 0.5, 20, 0.1, -0.0, 30, NAN, 1};
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_TRUE(t.values[i] == want[i] || (std::isnan(t.values[i]) && std::isnan(want[i]))) << i;
  // A malformed line before the last one is an error naming the file and the line.
  write_file_atomic(rundir::metrics_jsonl(dir_), "{\"step\":0}\n{\"step\":1,}\n{\"step\":2}\n");
  try {
    read_metrics_table(dir_);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("metrics.jsonl: malformed line 2"), std::string::npos)
        << e.what();
  }
}

TEST(Csv, FieldsAreQuotedOnlyWhenNeeded) {
  EXPECT_EQ(csv_line({"a", "b,c", "say \"hi\"", ""}), "a,\"b,c\",\"say \"\"hi\"\"\",\n");
}

// An atomic write to a device (here through a link to /dev/null, as `--out /dev/null` would be
// run as root) writes into it: renaming over it would replace the device with a file.
TEST(Files, AnAtomicWriteToADeviceWritesThroughIt) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("gs_devnull_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path link = dir / "out.json";
  fs::create_symlink("/dev/null", link);
  write_file_atomic(link, "{}\n");
  EXPECT_TRUE(fs::is_symlink(link));  // not replaced by a regular file
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  std::size_t left = 0;
  for (const auto& e : fs::directory_iterator(dir)) left += e.path() != link;
  EXPECT_EQ(left, 0u);  // no temporary file left behind
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gradscope
