// The text runs' fixture, shared by tests/integration/text_runs_test.cpp and the slow
// tests/slow/text_induction_test.cpp: a small generated corpus whose lines repeat a few random
// words (so copying from earlier in the context pays) and text-induction.toml made small on it.
#pragma once

#include <algorithm>
#include <fstream>
#include <string>

#include "cli_fixture.h"

namespace gradscope_it {

// 4,000 lines of 12 words, each line's words drawn from 4 random 4-letter words of its own (a
// fixed LCG, so the corpus is the same everywhere): once a word has appeared in a line, its later
// letters are predictable from its first only by looking back at the earlier occurrence, at
// whatever distance it was, which is what an induction head does.
inline std::string repeated_words() {
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

}  // namespace gradscope_it
