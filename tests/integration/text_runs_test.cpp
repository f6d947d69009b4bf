// End-to-end tests of the text task family on a small generated corpus whose lines repeat a few
// random words (text_fixture.h): a killed run resumes exactly, the device path trains the same
// model, bad input (gradscope sample's included) is one line and exit 2 with nothing written.
// (Induction heads forming on it, and sampling from the trained model: the slow
// tests/slow/text_induction_test.cpp.)
#include <gtest/gtest.h>

#include <string>

#include "cli_fixture.h"
#include "gradscope/cuda/device.h"
#include "text_fixture.h"

using namespace gradscope_it;

namespace {

TEST_F(TextRuns, ATextRunResumesExactly) {
  const std::string config = small(2) +
                             " train.steps=300 train.log_every=1 train.checkpoint_every=40 "
                             "task.n_eval=8 train.batch_size=8";
  const fs::path whole = dir_ / "whole", killed = dir_ / "killed";
  ASSERT_EQ(run("run " + config + " --out " + whole.string()).code, 0);
  ASSERT_TRUE(run_and_kill(config, killed, 150)) << "the run finished before it could be killed";
  const int64_t newest = keep_only_newest_checkpoint(killed);  // it can only resume
  ASSERT_GT(newest, 0);
  const Result resumed = run("run --resume " + killed.string());
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(resumed_from(killed, newest), "");
  EXPECT_EQ(slurp(killed / "metrics.jsonl"), slurp(whole / "metrics.jsonl"));
}

TEST_F(TextRuns, TheDevicePathTrainsTheSameModel) {
  const std::string config = small(2) + " train.steps=30 train.log_every=10 task.n_eval=16";
  const fs::path cpu = dir_ / "cpu", device = dir_ / "device";
  ASSERT_EQ(run("run " + config + " --out " + cpu.string()).code, 0);
  const Result r = run("--device emulated run " + config + " --out " + device.string());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto a = summary(cpu)["final"], b = summary(device)["final"];
  for (const char* key : {"train_loss", "test_loss", "test_bits", "prefix_match.1.0"})
    EXPECT_NEAR(a[key].get<double>(), b[key].get<double>(), 1e-4 * std::abs(a[key].get<double>()))
        << key;
}

TEST_F(TextRuns, BadInputIsOneLineAndNothingIsWritten) {
  const std::string file = kExamples + "text-induction.toml ";
  std::ofstream(dir_ / "empty.txt");
  std::ofstream(dir_ / "short.txt") << "a few words";
  std::ofstream(dir_ / "latin1.txt") << std::string(300, 'a') + "caf\xe9" + std::string(300, 'b');
  const std::vector<BadCase> cases = {
      {"run " + file + "task.path=" + (dir_ / "missing.txt").string(), "no such file"},
      {"run " + file + "task.path=" + (dir_ / "empty.txt").string(), "the file is empty"},
      {"run " + file + "task.path=" + (dir_ / "short.txt").string(), "shorter than two contexts"},
      {"run " + file + "task.seq_len=0", "task.seq_len = 0"},
      {"run " + file + "task.path=" + (dir_ / "latin1.txt").string(),
       "byte 303 (0xe9) is not UTF-8"},
      {"run " + file + "task.alphabet=words", "task.alphabet = \"words\""},
      {"run " + file + "train.batch_size=0", "train.batch_size = 0"},
      {"run " + file + "model.type=mlp", "model.type"},
  };
  expect_bad_input(cases, dir_ / "bad");
  // The same non-UTF-8 file reads as bytes.
  const Result bytes = run("run " + small(1) + " task.path=" + (dir_ / "latin1.txt").string() +
                           " task.alphabet=bytes train.steps=5 --out " + (dir_ / "b").string());
  EXPECT_EQ(bytes.code, 0) << bytes.err;
  // sample: a prompt outside the alphabet, and a run that is not a text run.
  const Result outside =
      run("sample " + (dir_ / "b").string() + " --prompt x --tokens 3 --temperature -1");
  EXPECT_EQ(outside.code, 2);
  EXPECT_NE(outside.err.find("--temperature -1"), std::string::npos) << outside.err;
  const fs::path chars = dir_ / "c";
  ASSERT_EQ(run("run " + small(1) + " train.steps=5 --out " + chars.string()).code, 0);
  const Result unknown = run("sample " + chars.string() + " --prompt 'Q'");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("\"Q\" (U+0051) is not in the run's alphabet"), std::string::npos)
      << unknown.err;
  ASSERT_EQ(run("run " + kExamples + "induction-1layer.toml train.steps=5 --out " +
                (dir_ / "ind").string())
                .code,
            0);
  const Result other = run("sample " + (dir_ / "ind").string() + " --prompt a");
  EXPECT_EQ(other.code, 2);
  EXPECT_NE(other.err.find("runs of task.name = \"text\""), std::string::npos) << other.err;
}

}  // namespace
