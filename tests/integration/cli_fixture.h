// The fixture of the end-to-end tests: runs the gradscope executable in a fresh temporary
// directory and captures its exit code, stdout and stderr.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace gradscope_it {

// The executable and the source tree, as built; the environment variables GRADSCOPE_BINARY and
// GRADSCOPE_SOURCE_DIR override them (test binaries carried to another machine).
inline std::string from_env(const char* name, const char* built) {
  const char* v = std::getenv(name);
  return v && *v ? v : built;
}
inline const std::string kBinary = from_env("GRADSCOPE_BINARY", GRADSCOPE_BINARY);
inline const std::string kSourceDir = from_env("GRADSCOPE_SOURCE_DIR", GRADSCOPE_SOURCE_DIR);
inline const std::string kExamples = kSourceDir + "/examples/";

struct Result {
  int code;
  std::string out, err;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The rows of a run's metrics.jsonl.
inline std::vector<nlohmann::json> rows(const fs::path& run) {
  std::vector<nlohmann::json> out;
  std::istringstream in(slurp(run / "metrics.jsonl"));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gradscope_it_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result run(const std::string& args) {
    const std::string cmd = kBinary + " " + args + " >" + (dir_ / "out.txt").string() + " 2>" +
                            (dir_ / "err.txt").string();
    const int status = std::system(cmd.c_str());
    return {WEXITSTATUS(status), slurp(dir_ / "out.txt"), slurp(dir_ / "err.txt")};
  }
  // Starts `gradscope run <args> --out <out>` and SIGKILLs it once metrics.jsonl has more than
  // `rows` rows. True when it was killed mid-way (before writing its summary).
  // Starts `sh -c "exec CMD"` (stdout to /dev/null; in a process group of its own when asked)
  // and returns its pid, for a test that signals or waits for it.
  static pid_t spawn(const std::string& cmd, bool own_group = false) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (own_group) ::setpgid(0, 0);
      std::freopen("/dev/null", "w", stdout);
      ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (own_group) ::setpgid(pid, pid);
    return pid;
  }
  bool run_and_kill(const std::string& args, const fs::path& out, int rows) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::freopen("/dev/null", "w", stdout);
      const std::string cmd = kBinary + " run " + args + " --out " + out.string();
      ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool killed_midway = false;
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(out / "metrics.jsonl");
      std::string line;
      int n = 0;
      while (std::getline(in, line)) ++n;
      if (n > rows) {
        killed_midway = !fs::exists(out / "summary.json");
        ::kill(pid, SIGKILL);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return killed_midway && WIFSIGNALED(status);
  }
  // A run's checkpoint files (step_<8 digits>.ckpt), by step.
  static std::vector<fs::path> checkpoint_files(const fs::path& run) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(run / "checkpoints"))
      if (e.path().extension() == ".ckpt") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
  }
  // Removes every checkpoint of a killed run but its newest, whose step it returns (-1 without
  // one): a resume then has only that one to start from. Matching metrics alone do not prove it
  // resumed (a restart from step 0 writes the same rows); resumed_from() checks it did.
  static int64_t keep_only_newest_checkpoint(const fs::path& run) {
    const std::vector<fs::path> files = checkpoint_files(run);
    if (files.empty()) return -1;
    for (size_t i = 0; i + 1 < files.size(); ++i) fs::remove(files[i]);
    return std::stoll(files.back().stem().string().substr(5));
  }
  // "" when no checkpoint before `step` came back after keep_only_newest_checkpoint (a restart
  // writes step 0's again); else the first such file.
  static std::string resumed_from(const fs::path& run, int64_t step) {
    for (const fs::path& f : checkpoint_files(run))
      if (std::stoll(f.stem().string().substr(5)) < step)
        return f.filename().string() + " was written again: the run restarted";
    return "";
  }
  // Each case's arguments must fail with exit code 2 and one line on stderr containing `expect`,
  // and leave no run directory at `out`.
  struct BadCase {
    std::string args, expect;
  };
  void expect_bad_input(const std::vector<BadCase>& cases, const fs::path& out) {
    for (const BadCase& c : cases) {
      const Result r = run(c.args + " --out " + out.string());
      EXPECT_EQ(r.code, 2) << c.args;
      EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << "\n" << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
      EXPECT_FALSE(fs::exists(out)) << c.args;
    }
  }
  nlohmann::json summary(const fs::path& run) {
    return nlohmann::json::parse(slurp(run / "summary.json"));
  }

  fs::path dir_;
};

}  // namespace gradscope_it
