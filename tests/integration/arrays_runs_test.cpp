// The arrays task end to end: a built-in task's data saved as an .npz trains to byte-identical
// metrics; the run keeps its data, resumes without the original and refuses a changed one; a
// sweep runs on it; bad data is exit 2 with nothing written.
#include <filesystem>
#include <string>

#include "../support/npz_writer.h"
#include "cli_fixture.h"
#include "gradscope/config/config.h"
#include "gradscope/tasks/task_family.h"

namespace gradscope_it {
namespace {

using gradscope_test::npy;
using gradscope_test::write_zip;

// (a*b) mod 97 on a small transformer, 40 steps.
const char* kExperiment = R"(name = "xy"
seed = 3
[task]
name = "modular"
op = "a*b"
p = 97
train_fraction = 0.4
[model]
type = "transformer"
n_layers = 1
d_model = 32
n_heads = 2
d_mlp = 64
[optim]
name = "adamw"
lr = 1e-3
weight_decay = 1.0
[train]
steps = 40
log_every = 10
)";

// The experiment's data as gradscope builds it, saved as an .npz of int32 arrays.
void save_task_data(const std::string& experiment, const fs::path& npz) {
  const gradscope::Config c = gradscope::Config::from_string(experiment, "experiment");
  const gradscope::TaskData d = gradscope::find_task_family("modular").build(c);
  auto x = [](const gradscope::Dataset& s) {
    return npy<int32_t>("<i4", {s.size(), s.length}, s.inputs);
  };
  auto y = [](const gradscope::Dataset& s) { return npy<int32_t>("<i4", {s.size()}, s.targets); };
  write_zip(npz, {{"x_train.npy", x(d.train)},
                  {"y_train.npy", y(d.train)},
                  {"x_test.npy", x(d.test)},
                  {"y_test.npy", y(d.test)}});
}

class Arrays : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    std::ofstream(dir_ / "xy.toml") << kExperiment;
    fs::create_directories(dir_ / "data" / "exp");
    save_task_data(kExperiment, dir_ / "data" / "xy.npz");
    std::string arrays = kExperiment;
    arrays.replace(arrays.find("name = \"modular\""), 16,
                   "name = \"arrays\"\npath = \"../xy.npz\"");  // relative to the file
    std::ofstream(dir_ / "data" / "exp" / "xy.toml") << arrays;
  }
};

TEST_F(Arrays, TrainsToTheSameMetricsAsTheBuiltInTask) {
  ASSERT_EQ(run("run " + (dir_ / "xy.toml").string() + " --out " + (dir_ / "a").string()).code, 0);
  const Result r =
      run("run " + (dir_ / "data/exp/xy.toml").string() + " --out " + (dir_ / "b").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(dir_ / "a/metrics.jsonl"), slurp(dir_ / "b/metrics.jsonl"));
  EXPECT_TRUE(fs::exists(dir_ / "b/data.npz"));
  const std::string config = slurp(dir_ / "b/config.toml");
  EXPECT_NE(config.find("path = \"data.npz\""), std::string::npos) << config;
  EXPECT_NE(config.find("data_hash = \""), std::string::npos) << config;
  EXPECT_NE(r.out.find("arrays (tokens int32, y labels int32): 3763 train"), std::string::npos)
      << r.out;
}

TEST_F(Arrays, RunOnTheDeviceAsTheBuiltInTaskDoes) {  // the emulated device's code path
  for (const char* exp : {"xy.toml", "data/exp/xy.toml"})
    ASSERT_EQ(run("--device emulated run " + (dir_ / exp).string() + " train.steps=20 --out " +
                  (dir_ / (std::string("dev-") + exp[0])).string())
                  .code,
              0);
  EXPECT_EQ(slurp(dir_ / "dev-x/metrics.jsonl"), slurp(dir_ / "dev-d/metrics.jsonl"));
}

TEST_F(Arrays, ARunKeepsItsDataAndRefusesAChangedCopy) {
  const fs::path out = dir_ / "run";
  ASSERT_EQ(run("run " + (dir_ / "data/exp/xy.toml").string() + " --out " + out.string()).code, 0);
  fs::remove(dir_ / "data/xy.npz");  // the run reads its own copy from now on
  fs::rename(out, dir_ / "moved");   // wherever the directory goes
  Result r = run("run --resume " + (dir_ / "moved").string() + " train.steps=60");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(slurp(dir_ / "moved/metrics.jsonl").find("\"step\":60"), std::string::npos);
  // Another file under the same name is noticed.
  std::string exp = kExperiment;  // split_seed differs: the same pairs, split otherwise
  exp.replace(exp.find("train_fraction"), 0, "split_seed = 9\n");
  save_task_data(exp, dir_ / "moved/data.npz");
  r = run("run --resume " + (dir_ / "moved").string() + " train.steps=80");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not task.data_hash"), std::string::npos) << r.err;
}

TEST_F(Arrays, ASweepRunsOnTheData) {
  const std::string sweep = "sweep " + (dir_ / "data/exp/xy.toml").string() +
                            " optim.weight_decay=0.5,1.0 --root " + (dir_ / "runs").string();
  Result r = run(sweep);
  ASSERT_EQ(r.code, 0) << r.err;
  int runs = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "runs/xy"))
    if (fs::exists(e.path() / "data.npz") && fs::exists(e.path() / "summary.json")) ++runs;
  EXPECT_EQ(runs, 2);
  r = run(sweep);
  EXPECT_NE(r.out.find("2 already complete"), std::string::npos) << r.out;
}

TEST_F(Arrays, BadDataIsExitTwoWithNothingWritten) {
  const std::string exp = (dir_ / "data/exp/xy.toml").string();
  write_zip(dir_ / "label.npz", {{"x_train.npy", npy<int32_t>("<i4", {2, 3}, {0, 1, 97, 2, 3, 97})},
                                 {"y_train.npy", npy<int32_t>("<i4", {2}, {5, 97})},
                                 {"x_test.npy", npy<int32_t>("<i4", {1, 3}, {4, 5, 97})},
                                 {"y_test.npy", npy<int32_t>("<i4", {1}, {20})},
                                 {"classes.npy", npy<int64_t>("<i8", {}, {97})}});
  write_zip(dir_ / "float.npz", {{"x_train.npy", npy<float>("<f4", {1, 3}, {0, 1, 97})},
                                 {"y_train.npy", npy<int32_t>("<i4", {1}, {5})},
                                 {"x_test.npy", npy<float>("<f4", {1, 3}, {4, 5, 97})},
                                 {"y_test.npy", npy<int32_t>("<i4", {1}, {20})}});
  write_zip(dir_ / "ragged.npz", {{"x_train.npy", npy<char>("|O", {2}, {})}});
  write_zip(dir_ / "real.npz", {{"x_train.npy", npy<double>("<f8", {2, 2}, {1, 2, 3, 4})},
                                {"y_train.npy", npy<double>("<f8", {2}, {0.5, 1.5})},
                                {"x_test.npy", npy<double>("<f8", {1, 2}, {5, 6})},
                                {"y_test.npy", npy<double>("<f8", {1}, {2.5})}});
  std::ofstream(dir_ / "junk.npz") << "not a zip";
  const std::string run_arrays = "run " + exp + " task.path=";
  expect_bad_input({{run_arrays + (dir_ / "label.npz").string(),
                     "y_train holds 97 at [1] (valid: 0..96, classes = 97)"},
                    {run_arrays + (dir_ / "float.npz").string(),
                     "x_train is float32: the model reads token ids"},
                    {run_arrays + (dir_ / "ragged.npz").string(), "dtype object"},
                    {run_arrays + (dir_ / "junk.npz").string(), "not a .npz archive"},
                    {run_arrays + (dir_ / "none.npz").string(), "no such file"},
                    {"run " + exp + " task.path=", "task.path = \"\""},
                    {"run " + exp + " model.type=deep_linear",
                     "x_train is int32: the model reads real features"}},
                   dir_ / "out");
}

}  // namespace
}  // namespace gradscope_it
