// The fixture of the end-to-end tests: runs the gradscope executable in a fresh temporary
// directory and captures its exit code, stdout and stderr.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace gradscope_it {

inline const std::string kBinary = GRADSCOPE_BINARY;
inline const std::string kExamples = std::string(GRADSCOPE_SOURCE_DIR) + "/examples/";

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
  nlohmann::json summary(const fs::path& run) {
    return nlohmann::json::parse(slurp(run / "summary.json"));
  }

  fs::path dir_;
};

}  // namespace gradscope_it
