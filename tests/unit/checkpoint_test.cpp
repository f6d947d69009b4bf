// Checkpoint files: every format version ever written still loads (tests/fixtures/checkpoints
// keeps one of each), and a damaged file (truncated, bit-flipped, padded) is detected as
// CheckpointDamaged before anything in the model changes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/run/experiment.h"
#include "gradscope/run/trainer.h"
#include "gradscope/run/training_state.h"
#include "gradscope/rundir/files.h"

namespace gradscope {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(GRADSCOPE_SOURCE_DIR) / "tests/fixtures/checkpoints";

fs::path fixture(int format) {
  return kFixtures / ("format-" + std::to_string(format) + ".ckpt");
}

// The model and optimizer a checkpoint's own config describes.
std::unique_ptr<Experiment<float>> experiment_of(const fs::path& file) {
  const CheckpointInfo info = read_checkpoint_info(file);
  return Experiment<float>::build(
      experiment_config(Config::from_string(info.config_toml, file.string()), {}, "fixture"));
}

TEST(Checkpoint, EveryFormatVersionStillLoads) {
  std::vector<std::vector<float>> loaded_values;  // per format
  for (int format = 1; format <= kCheckpointFormat; ++format) {
    SCOPED_TRACE(fixture(format).string());
    ASSERT_TRUE(fs::exists(fixture(format))) << "each format needs its fixture";
    const CheckpointInfo info = read_checkpoint_info(fixture(format));
    EXPECT_EQ(info.format, format);
    EXPECT_EQ(info.step, 250);
    auto x = experiment_of(fixture(format));
    const std::vector<float> before(x->model->params().values().begin(),
                                    x->model->params().values().end());
    const CheckpointInfo loaded =
        restore_training_state(fixture(format), x->optim, x->model->params(), *x->optimizer);
    EXPECT_EQ(loaded.optimizer_steps, 250);
    EXPECT_EQ(x->optimizer->steps(), 250);
    const std::vector<float> after(x->model->params().values().begin(),
                                   x->model->params().values().end());
    EXPECT_NE(after, before);
    loaded_values.push_back(after);
  }
  // Every fixture is step 250 of the same run (README.md), written by different builds: each
  // format's reader gives the same parameters, to the last bits the builds may differ in.
  for (size_t f = 1; f < loaded_values.size(); ++f) {
    ASSERT_EQ(loaded_values[f].size(), loaded_values[0].size());
    double scale = 0, worst = 0;
    for (size_t i = 0; i < loaded_values[0].size(); ++i) {
      scale = std::max(scale, double(std::abs(loaded_values[0][i])));
      worst = std::max(worst, double(std::abs(loaded_values[f][i] - loaded_values[0][i])));
    }
    EXPECT_GT(scale, 0);
    EXPECT_LE(worst, 1e-3 * scale) << "format " << f + 1 << " against format 1";
  }
}

class Damage : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = fs::temp_directory_path() / ("gradscope_ckpt_damage_" + std::to_string(::getpid()));
    whole_ = read_file(fixture(kCheckpointFormat));
  }
  void TearDown() override { fs::remove(file_); }
  // Writes the fixture changed by `change` and expects CheckpointDamaged from the loader and
  // the layout reader, with the model's values untouched.
  void expect_damaged(const std::string& what, const std::function<void(std::string&)>& change) {
    SCOPED_TRACE(what);
    std::string bytes = whole_;
    change(bytes);
    std::ofstream(file_, std::ios::binary) << bytes;
    auto x = experiment_of(fixture(kCheckpointFormat));
    const std::vector<float> before(x->model->params().values().begin(),
                                    x->model->params().values().end());
    EXPECT_THROW(restore_training_state(file_, x->optim, x->model->params(), *x->optimizer),
                 CheckpointDamaged);
    EXPECT_THROW(read_checkpoint_layout(file_), CheckpointDamaged);
    EXPECT_EQ(
        std::vector<float>(x->model->params().values().begin(), x->model->params().values().end()),
        before);
  }
  fs::path file_;
  std::string whole_;
};

TEST_F(Damage, TruncatedBitFlippedOrPaddedFilesAreDetected) {
  const size_t header_end = whole_.find("\"buffers\"");
  ASSERT_NE(header_end, std::string::npos);
  expect_damaged("one bit of a weight", [](std::string& b) { b[b.size() - 100] ^= 0x10; });
  expect_damaged("one bit of the config text", [](std::string& b) {
    b[b.find("compat-run")] ^= 0x01;  // "bompat-run": still valid JSON and TOML
  });
  expect_damaged("the format digit (2 -> 3: not a newer format)",
                 [](std::string& b) { b[b.find("checkpoint-2") + 11] = '3'; });
  expect_damaged("one bit of the trailer", [](std::string& b) { b.back() ^= 0x80; });
  expect_damaged("the last byte cut", [](std::string& b) { b.pop_back(); });
  expect_damaged("cut in half", [](std::string& b) { b.resize(b.size() / 2); });
  expect_damaged("cut inside the header", [&](std::string& b) { b.resize(header_end); });
  expect_damaged("a byte appended", [](std::string& b) { b.push_back('\0'); });
  expect_damaged("empty", [](std::string& b) { b.clear(); });
}

TEST_F(Damage, TheUndamagedFileLoads) {
  std::ofstream(file_, std::ios::binary) << whole_;
  auto x = experiment_of(file_);
  EXPECT_EQ(restore_training_state(file_, x->optim, x->model->params(), *x->optimizer).step, 250);
  EXPECT_EQ(read_checkpoint_layout(file_).buffers.size(), 4u);  // values, initial, adam m, v
}

}  // namespace
}  // namespace gradscope
