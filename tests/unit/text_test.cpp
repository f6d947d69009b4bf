// The text task family (tasks/text.h, tasks/text_corpus.h): reading a file or a directory (binary
// files, hidden files and links skipped), the character table, held-out blocks that no window
// crosses, exact and deterministic windows, the repeated-token probe, the recorded hash and table,
// and every bad input as one line naming the key or file.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "gradscope/probes/emergence.h"
#include "gradscope/tasks/emergence.h"
#include "gradscope/tasks/task_family.h"
#include "gradscope/tasks/text.h"
#include "gradscope/tasks/text_corpus.h"

using namespace gradscope;
namespace fs = std::filesystem;

namespace {

class TextTask : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gradscope_text_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  // The message of the std::invalid_argument f throws ("" when it throws none).
  template <class F>
  static std::string error_of(F f) {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

// A corpus whose byte i is 'A' + i / 256: the block a token came from is readable from it.
std::string block_coded(int blocks) {
  std::string s;
  for (int b = 0; b < blocks; ++b) s += std::string(256, static_cast<char>('A' + b));
  return s;
}

TEST_F(TextTask, ADirectoryIsItsTextFilesInNameOrder) {
  write("corpus/b.txt", "second\n");
  write("corpus/a.txt", "first\n");
  write("corpus/a.dat", std::string("\x00\x01index", 7));  // binary: skipped
  write("corpus/.hidden", "hidden\n");
  write("corpus/empty", "");
  fs::create_symlink(dir_ / "corpus/a.txt", dir_ / "corpus/a.u8");  // the same file again
  const auto c = load_text_corpus((dir_ / "corpus").string(), "bytes");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(c->bytes), c->n_bytes), "first\nsecond\n");
  ASSERT_EQ(c->files.size(), 2u);
  EXPECT_EQ(fs::path(c->files[0]).filename(), "a.txt");
  EXPECT_EQ(c->vocab(), 256);
  EXPECT_EQ(c->token(0), 'f');
}

TEST_F(TextTask, TheCharacterTableIsTheCorpusCodePointsInOrder) {
  const std::string text =
      "b\xc3\xa9"
      "a\xe2\x82\xac"
      "ab";  // "béa€ab"
  const auto c = load_text_corpus(write("t.txt", text), "chars");
  ASSERT_EQ(c->chars, (std::vector<char32_t>{U'a', U'b', U'\u00e9', U'\u20ac'}));
  ASSERT_EQ(c->size(), 6);
  std::vector<char32_t> decoded;
  for (int64_t i = 0; i < c->size(); ++i) decoded.push_back(c->chars[c->token(i)]);
  EXPECT_EQ(to_utf8(decoded), text);
  EXPECT_EQ(c->hash.size(), 16u);
}

TEST_F(TextTask, NoWindowCrossesBlocksAndTestBlocksAreNeverTrainedOn) {
  TextTaskConfig c;
  c.path = write("blocks.txt", block_coded(20));
  c.alphabet = Alphabet::bytes;
  c.seq_len = 31;
  c.block_len = 256;
  c.n_eval = 200;
  c.held_out = 0.15;
  TaskData d = make_text_task(c);
  // The block of every window, checking that all its tokens and its targets come from one.
  auto blocks_of = [&](const Dataset& s, std::set<int>& seen) {
    for (int64_t e = 0; e < s.size(); ++e) {
      const int32_t b = s.inputs[e * c.seq_len];
      for (int64_t j = 0; j < c.seq_len; ++j) {
        ASSERT_EQ(s.inputs[e * c.seq_len + j], b);
        ASSERT_EQ(s.targets[e * c.seq_len + j], b);
      }
      seen.insert(b);
    }
  };
  std::set<int> train, test;
  blocks_of(d.train, train);
  blocks_of(d.test, test);
  ASSERT_TRUE(d.sample);
  Dataset batch;
  for (uint64_t step = 0; step < 50; ++step) {
    d.sample(7, step, 16, batch);
    ASSERT_EQ(batch.size(), 16);
    blocks_of(batch, train);
  }
  EXPECT_EQ(test.size(), 3u);  // round(20 * 0.15)
  EXPECT_EQ(train.size(), 17u);
  for (int b : test) EXPECT_EQ(train.count(b), 0u) << char(b);
}

TEST_F(TextTask, WindowsAreConsecutiveTokensAndTheStreamIsAFunctionOfSeedAndStep) {
  std::string text;
  for (int i = 0; i < 4000; ++i) text += static_cast<char>('a' + (i * 7) % 26);
  TextTaskConfig c;
  c.path = write("t.txt", text);
  c.seq_len = 16;
  c.block_len = 100;
  TaskData d = make_text_task(c);
  ASSERT_EQ(d.vocab, 26);
  Dataset a, b;
  d.sample(3, 11, 8, a);
  d.sample(3, 11, 8, b);
  EXPECT_EQ(a.inputs, b.inputs);
  d.sample(3, 12, 8, b);
  EXPECT_NE(a.inputs, b.inputs);
  for (int64_t e = 0; e < 8; ++e)
    for (int64_t j = 0; j < 16; ++j) {
      const int32_t t = a.inputs[e * 16 + j], next = a.targets[e * 16 + j];
      EXPECT_EQ(next, (t + 7) % 26);  // the next character of the text
      if (j > 0) {
        EXPECT_EQ(t, a.targets[e * 16 + j - 1]);
      }
    }
  // The evaluation windows are fixed by split_seed alone.
  EXPECT_EQ(make_text_task(c).test.inputs, d.test.inputs);
}

TEST_F(TextTask, RepeatedTokenSequencesMarkTheKeyAfterThePreviousOccurrence) {
  TextTaskConfig c;
  c.path = write("t.txt", block_coded(8) + "xyz0123456789");
  c.alphabet = Alphabet::bytes;
  c.seq_len = 40;  // copies of P = 10 tokens
  c.block_len = 200;
  const TaskData d = make_text_task(c);
  const RepeatedTokens* repeated = family_data<RepeatedTokens>(d.extra);
  ASSERT_TRUE(repeated);
  const Dataset& r = repeated->repeats;
  ASSERT_EQ(r.size(), 64);
  const std::vector<int32_t>& prefix_target = family_data<InductionTargets>(r.extra)->prefix_target;
  for (int64_t e = 0; e < r.size(); ++e) {
    const int32_t* in = r.inputs.data() + e * 40;
    EXPECT_EQ(std::set<int32_t>(in, in + 10).size(), 10u);  // distinct in a copy
    for (int64_t j = 0; j < 40; ++j) {
      if (j < 10) {
        EXPECT_EQ(prefix_target[e * 40 + j], -1);
        continue;
      }
      EXPECT_EQ(in[j], in[j - 10]);
      EXPECT_EQ(prefix_target[e * 40 + j], j - 9);  // the key after the previous occurrence
      EXPECT_EQ(in[prefix_target[e * 40 + j] - 1], in[j]);
      EXPECT_EQ(r.targets[e * 40 + j], in[j - 9]);
    }
  }
  // task.n_repeats = 5: the first five of the same sequences (one stream), nothing else.
  c.n_repeats = 5;
  const TaskData few = make_text_task(c);
  const Dataset& f = family_data<RepeatedTokens>(few.extra)->repeats;
  ASSERT_EQ(f.size(), 5);
  EXPECT_EQ(f.inputs, std::vector<int32_t>(r.inputs.begin(), r.inputs.begin() + 5 * 40));
  EXPECT_EQ(f.targets, std::vector<int32_t>(r.targets.begin(), r.targets.begin() + 5 * 40));
  EXPECT_EQ(family_data<InductionTargets>(f.extra)->prefix_target,
            std::vector<int32_t>(prefix_target.begin(), prefix_target.begin() + 5 * 40));
}

TEST_F(TextTask, ResolveRecordsTheHashAndTableAndAChangedCorpusIsRefused) {
  const std::string path = write("t.txt", std::string(300, 'a') + "bc\n");
  Config cfg;
  cfg.set("task.name", std::string("text"));
  cfg.set("task.path", path);
  cfg.set("task.seq_len", int64_t{8});
  cfg.set("train.batch_size", int64_t{4});
  resolve_task(cfg);
  EXPECT_EQ(cfg.string("task.data_hash").size(), 16u);
  EXPECT_EQ(cfg.list("task.chars"), (std::vector<double>{'\n', 'a', 'b', 'c'}));
  write("t.txt", std::string(300, 'a') + "bdd\n");  // another size: the cache reads it again
  const std::string e = error_of([&] { (void)make_text_task(text_options(cfg)); });
  EXPECT_NE(e.find("task.data_hash"), std::string::npos) << e;
}

TEST_F(TextTask, BadInputNamesTheKeyOrFile) {
  TextTaskConfig c;
  c.seq_len = 8;
  auto error = [&](const std::string& path, auto adjust) {
    TextTaskConfig t = c;
    t.path = path;
    adjust(t);
    return error_of([&] { (void)make_text_task(t); });
  };
  const auto same = [](TextTaskConfig&) {};
  EXPECT_NE(error((dir_ / "missing.txt").string(), same).find("no such file"), std::string::npos);
  EXPECT_NE(error(write("empty.txt", ""), same).find("empty"), std::string::npos);
  EXPECT_NE(error(write("short.txt", "0123456789abcdef"), same).find("shorter than two contexts"),
            std::string::npos);
  EXPECT_NE(error(write("bad.txt", std::string(50, 'a') + "\xff" + std::string(50, 'b')), same)
                .find("byte 50 (0xff) is not UTF-8"),
            std::string::npos);
  const std::string ok = write("ok.txt", std::string(100, 'a'));
  EXPECT_NE(error(ok, [](TextTaskConfig& t) { t.seq_len = 0; }).find("task.seq_len = 0"),
            std::string::npos);
  EXPECT_NE(error(ok, [](TextTaskConfig& t) { t.held_out = 1; }).find("task.held_out = 1"),
            std::string::npos);
  EXPECT_NE(error(ok, [](TextTaskConfig& t) { t.block_len = 4; }).find("task.block_len = 4"),
            std::string::npos);
  for (int64_t n : {0, 257})
    EXPECT_NE(
        error(ok, [n](TextTaskConfig& t) { t.n_repeats = n; })
            .find("task.n_repeats = " + std::to_string(n) + " (valid: an integer from 1 to 256"),
        std::string::npos);
  fs::create_directories(dir_ / "bin");
  write("bin/x.dat", std::string("\x00\x01", 2));
  EXPECT_NE(error((dir_ / "bin").string(), same).find("no text file"), std::string::npos);
  // Under bytes any file reads.
  EXPECT_EQ(error(write("bytes.txt", std::string(50, 'a') + "\xff" + std::string(50, 'b')),
                  [](TextTaskConfig& t) { t.alphabet = Alphabet::bytes; }),
            "");
}

TEST_F(TextTask, PromptsEncodeAndDecodeUnderTheRunsAlphabet) {
  TextTaskConfig c;
  c.chars = {U' ', U'a', U'h', U'\u00e9'};
  const std::vector<int32_t> ids = encode_text("ha \xc3\xa9", c);
  EXPECT_EQ(ids, (std::vector<int32_t>{2, 1, 0, 3}));
  EXPECT_EQ(decode_tokens(ids, c), "ha \xc3\xa9");
  const std::string e = error_of([&] { (void)encode_text("hz", c); });
  EXPECT_NE(e.find("\"z\" (U+007A) is not in the run's alphabet"), std::string::npos) << e;
  c.alphabet = Alphabet::bytes;
  EXPECT_EQ(encode_text("hz", c), (std::vector<int32_t>{'h', 'z'}));
}

TEST(TextMeasure, BitsAreNatsOverLn2AndTheInContextScoreIsLateMinusEarly) {
  const Measure& m = find_measure("text");
  Dataset d;
  d.length = d.targets_per_example = 4;
  d.targets.assign(8, 0);
  Predictions p;
  p.loss = {4, 3, 2, 1, 4, 3, 2, 1};  // 2 windows of 4 positions
  MetricValues row;
  m.split(p, d, "test", row);
  ASSERT_EQ(row.size(), 2u);
  EXPECT_EQ(row[0].first, "test_bits");
  EXPECT_NEAR(row[0].second, 2.5 / std::log(2.0), 1e-12);
  EXPECT_EQ(row[1].first, "test_icl_score");
  EXPECT_NEAR(row[1].second, 1.0 - 4.0, 1e-12);
}

}  // namespace
