// The text task's induction heads (label `slow`, 1 minute): on text_fixture.h's corpus of
// repeated words a 2-layer attention-only model forms induction heads (prefix-matching scores of
// second-layer heads far above chance, the in-context score strongly negative) and the 1-layer
// control does not; `gradscope sample` on the trained model continues a phrase by copying it,
// deterministically, the same on the emulated device. Moved out of make test's integration tests
// to keep make test within 30 minutes.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "gradscope/cuda/device.h"
#include "text_fixture.h"

using namespace gradscope_it;

namespace {

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

}  // namespace
