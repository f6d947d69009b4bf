// Every file in examples/ for a few steps on the emulated device (the cuda code path on the host;
// label `slow`, `make test-slow`: minutes, its kernels run one index at a time). A run's losses
// follow the cpu's (float32: within 1e-4 relative, the device tests' tolerance); a sweep runs
// every point on the device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_fixture.h"

namespace fs = std::filesystem;
using namespace gradscope_it;

namespace {

std::vector<fs::path> example_files() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(kExamples))
    if (e.path().extension() == ".toml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

bool is_sweep(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str().find("[sweep]") != std::string::npos;
}

// Short enough for the emulated device; warmup below the steps (linear decay needs it).
const std::string kFew = " train.steps=3 train.log_every=1 optim.warmup_steps=1";

TEST_F(Cli, EveryExampleRunsOnTheEmulatedDevice) {
  int runs = 0, sweeps = 0;
  for (const fs::path& file : example_files()) {
    const std::string name = file.stem().string();
    if (is_sweep(file)) {
      const Result r = run("--device emulated sweep " + file.string() + kFew + " --jobs 2 --root " +
                           (dir_ / "sweeps").string());
      EXPECT_EQ(r.code, 0) << name << ": " << r.err;
      ++sweeps;
      continue;
    }
    const fs::path cpu = dir_ / name / "cpu", dev = dir_ / name / "dev";
    const Result a = run("run " + file.string() + kFew + " --out " + cpu.string());
    ASSERT_EQ(a.code, 0) << name << ": " << a.err;
    const Result b =
        run("--device emulated run " + file.string() + kFew + " --out " + dev.string());
    ASSERT_EQ(b.code, 0) << name << ": " << b.err;
    const auto x = rows(cpu), y = rows(dev);
    ASSERT_EQ(x.size(), y.size()) << name;
    for (size_t i = 0; i < x.size(); ++i) {
      const double c = x[i]["train_loss"].get<double>(), d = y[i]["train_loss"].get<double>();
      EXPECT_TRUE(std::isfinite(d)) << name;
      EXPECT_NEAR(d, c, 1e-4 * std::max(1.0, std::abs(c))) << name << " row " << i;
    }
    ++runs;
  }
  std::printf("examples on the emulated device: %d runs (each against the cpu), %d sweeps\n", runs,
              sweeps);
  EXPECT_GT(runs, 30);
}

}  // namespace
