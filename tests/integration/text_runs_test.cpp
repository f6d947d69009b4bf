// End-to-end tests of the text task family on a small generated corpus whose lines repeat a few
// random words (so copying from earlier in the context pays): a 2-layer
// attention-only model forms induction heads (prefix-matching scores of second-layer heads far
// above chance, the in-context score strongly negative) and the 1-layer control does not;
// `gradscope sample` continues a prompt deterministically; a killed run resumes exactly; bad input
// is one line and exit 2 with nothing written.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "cli_fixture.h"
#include "gradscope/cuda/device.h"

using namespace gradscope_it;

namespace {

// 4,000 lines of 12 words, each line's words drawn from 4 random 4-letter words of its own (a
// fixed LCG, so the corpus is the same everywhere): once a word has appeared in a line, its later
// letters are predictable from its first only by looking back at the earlier occurrence, at
// whatever distance it was, which is what an induction head does.
std::string repeated_words() {
  uint64_t s = 12345;
  auto next = [&](uint64_t n) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return (s >> 33) % n;
  };
  std::string text;
  for (int line = 0; line < 4000; ++line) {
    std::string words[4];
    for (std::string& w : words)
      for (int k = 0; k < 4; ++k) w += static_cast<char>('a' + next(26));
    for (int k = 0; k < 12; ++k) text += (k ? " " : "") + words[next(4)];
    text += "\n";
  }
  return text;
}

class TextRuns : public Cli {
 protected:
  std::string corpus() {
    const fs::path p = dir_ / "words.txt";
    if (!fs::exists(p)) std::ofstream(p) << repeated_words();
    return p.string();
  }
  // text-induction.toml on the generated corpus: windows of 32, batch 64, 2,000 steps.
  std::string small(int layers) {
    return kExamples + "text-induction.toml task.path=" + corpus() +
           " task.seq_len=32 task.n_eval=64 model.n_layers=" + std::to_string(layers) +
           " train.steps=2000 train.log_every=100 train.batch_size=64";
  }
  // The largest prefix-matching score of the heads of layer `layer` in the final metrics.
  double best_prefix_match(const nlohmann::json& f, int layer) {
    double best = 0;
    for (int h = 0; h < 4; ++h)
      best = std::max(
          best, f["prefix_match." + std::to_string(layer) + "." + std::to_string(h)].get<double>());
    return best;
  }
};

TEST_F(TextRuns, TwoLayersFormInductionHeadsAndOneLayerDoesNot) {
  const fs::path two = dir_ / "two", one = dir_ / "one";
  const Result r2 = run("--threads 1 run " + small(2) + " --out " + two.string());
  ASSERT_EQ(r2.code, 0) << r2.err;
  EXPECT_NE(r2.out.find("bits per token"), std::string::npos) << r2.out;
  ASSERT_EQ(run("--threads 1 run " + small(1) + " --out " + one.string()).code, 0);
  const auto f2 = summary(two)["final"], f1 = summary(one)["final"];
  // Chance is about 0.1 here (attention spread evenly over the earlier positions; P = 8).
  EXPECT_GT(best_prefix_match(f2, 1), 0.3) << f2;
  EXPECT_LT(best_prefix_match(f1, 0), 0.2) << f1;
  EXPECT_LT(f2["test_icl_score"].get<double>(), f1["test_icl_score"].get<double>() - 0.3)
      << f2 << f1;
  EXPECT_LT(f2["test_bits"].get<double>(), f1["test_bits"].get<double>()) << f2 << f1;
  EXPECT_TRUE(summary(two)["phase_changes"].contains("test_icl_score"));

  // Sampling: the prompt, then --tokens characters; argmax is deterministic, and a trained model
  // continues a phrase by copying it.
  const std::string args = "sample " + two.string() + " --tokens 40 --temperature 0 --prompt ";
  const std::string prompt = "abcd wxyz abcd wxyz abcd wx";
  const Result s = run(args + "'" + prompt + "'");
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(s.out.rfind(prompt + "yz", 0), 0u) << s.out;  // copied from the earlier occurrences
  EXPECT_EQ(s.out.size(), prompt.size() + 40 + 1) << s.out;
  EXPECT_EQ(run(args + "'" + prompt + "'").out, s.out);
  // On the emulated device (the cuda path's logic): the same text.
  EXPECT_EQ(run("--device emulated " + args + "'" + prompt + "'").out, s.out);
  if (!gradscope::device_unavailable(gradscope::Device::cuda).empty()) {
    const Result gpu = run("--device cuda sample " + two.string() + " --prompt x");
    EXPECT_EQ(gpu.code, 2);
    EXPECT_NE(gpu.err.find("device = cuda: "), std::string::npos) << gpu.err;
    EXPECT_EQ(std::count(gpu.err.begin(), gpu.err.end(), '\n'), 1) << gpu.err;
  }
  const Result drawn = run("sample " + two.string() + " --tokens 40 --seed 3 --prompt x");
  ASSERT_EQ(drawn.code, 0) << drawn.err;
  EXPECT_EQ(drawn.out, run("sample " + two.string() + " --tokens 40 --seed 3 --prompt x").out);
}

TEST_F(TextRuns, ATextRunResumesExactly) {
  const std::string config = small(2) +
                             " train.steps=300 train.log_every=1 train.checkpoint_every=40 "
                             "task.n_eval=8 train.batch_size=8";
  const fs::path whole = dir_ / "whole", killed = dir_ / "killed";
  ASSERT_EQ(run("run " + config + " --out " + whole.string()).code, 0);
  ASSERT_TRUE(run_and_kill(config, killed, 150)) << "the run finished before it could be killed";
  const Result resumed = run("run --resume " + killed.string());
  ASSERT_EQ(resumed.code, 0) << resumed.err;
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
