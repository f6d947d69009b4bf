// Algorithmic tasks: every operation's values, split sizes and seeds, unordered pairs, S_n.
#include <gtest/gtest.h>

#include <set>

#include "gradscope/tasks/algorithmic.h"

namespace gradscope {
namespace {

TEST(ModularOps, ValuesOfEveryOperation) {
  const int64_t p = 97;
  EXPECT_EQ(modular_apply("a+b", 90, 10, p), 3);
  EXPECT_EQ(modular_apply("a-b", 3, 10, p), 90);
  EXPECT_EQ(modular_apply("a*b", 10, 20, p), 200 % 97);
  EXPECT_EQ(modular_apply("a/b", 7, 0, p), -1);  // undefined: the pair is left out
  for (int64_t b = 1; b < p; ++b) EXPECT_EQ(modular_apply("a/b", 5, b, p) * b % p, 5);
  EXPECT_EQ(modular_apply("a/b_if_odd_else_a-b", 5, 4, p), 1);
  EXPECT_EQ(modular_apply("a/b_if_odd_else_a-b", 6, 3, p), 2);
  EXPECT_EQ(modular_apply("a^2+b^2", 3, 4, p), 25);
  EXPECT_EQ(modular_apply("a^2+ab+b^2", 3, 4, p), 37);
  EXPECT_EQ(modular_apply("a^2+ab+b^2+a", 3, 4, p), 40);
  EXPECT_EQ(modular_apply("a^3+ab", 50, 60, p), (125000 + 3000) % 97);
  EXPECT_EQ(modular_apply("a^3+ab^2+b", 50, 60, p), (125000 + 50 * 3600 + 60) % 97);
}

TEST(AlgorithmicTask, NandaSplitSizesAndTokens) {
  AlgorithmicTaskConfig c;  // a+b mod 113, 30%
  const TaskData d = make_algorithmic_task(c);
  EXPECT_EQ(d.train.size(), 3830);
  EXPECT_EQ(d.test.size(), 8939);
  EXPECT_EQ(d.vocab, 114);
  EXPECT_EQ(d.equals_token, 113);
  ASSERT_EQ(d.train.length, 3);
  for (int64_t i = 0; i < d.train.size(); ++i) {
    const int32_t a = d.train.inputs[3 * i], b = d.train.inputs[3 * i + 1];
    EXPECT_EQ(d.train.inputs[3 * i + 2], 113);
    EXPECT_EQ(d.train.targets[i], (a + b) % 113);
  }
  // Train and test partition all pairs.
  std::set<std::pair<int, int>> seen;
  for (const Dataset* s : {&d.train, &d.test})
    for (int64_t i = 0; i < s->size(); ++i) seen.insert({s->inputs[3 * i], s->inputs[3 * i + 1]});
  EXPECT_EQ(seen.size(), 113u * 113u);
}

TEST(AlgorithmicTask, SplitDependsOnlyOnSplitSeed) {
  AlgorithmicTaskConfig c;
  c.p = 23;
  const TaskData a = make_algorithmic_task(c);
  const TaskData b = make_algorithmic_task(c);
  EXPECT_EQ(a.train.inputs, b.train.inputs);
  c.split_seed = 1;
  EXPECT_NE(make_algorithmic_task(c).train.inputs, a.train.inputs);
}

TEST(AlgorithmicTask, PairUnorderedOperands) {
  AlgorithmicTaskConfig c;
  c.p = 67;
  c.train_fraction = 0.4;
  c.unordered = true;
  c.tokens = false;
  const TaskData d = make_algorithmic_task(c);
  EXPECT_EQ(d.train.size() + d.test.size(), 2278);
  EXPECT_EQ(d.train.size(), 911);
  EXPECT_EQ(d.train.length, 2);
  EXPECT_EQ(d.vocab, 67);
  for (int64_t i = 0; i < d.train.size(); ++i)
    EXPECT_LE(d.train.inputs[2 * i], d.train.inputs[2 * i + 1]);
}

TEST(AlgorithmicTask, DivisionLeavesOutZero) {
  AlgorithmicTaskConfig c;
  c.p = 97;
  c.op = "a/b";
  c.train_fraction = 0.5;
  const TaskData d = make_algorithmic_task(c);
  EXPECT_EQ(d.train.size() + d.test.size(), 97 * 96);
}

TEST(AlgorithmicTask, PermutationGroupS5) {
  AlgorithmicTaskConfig c;
  c.name = "permutation";
  c.op = "ab";
  c.n = 5;
  c.train_fraction = 1.0;
  const TaskData d = make_algorithmic_task(c);
  EXPECT_EQ(d.train.size(), 120 * 120);
  EXPECT_EQ(d.num_classes, 120);
  // Identity (index 0 in lexicographic order) is neutral; each row is a permutation of S5.
  std::vector<std::set<int>> rows(120);
  for (int64_t i = 0; i < d.train.size(); ++i) {
    const int a = d.train.inputs[3 * i], b = d.train.inputs[3 * i + 1], r = d.train.targets[i];
    if (a == 0) {
      EXPECT_EQ(r, b);
    }
    rows[a].insert(r);
  }
  for (const auto& r : rows) EXPECT_EQ(r.size(), 120u);
  c.op = "aba^-1";  // conjugation fixes the identity: a e a^-1 = e
  const TaskData conj = make_algorithmic_task(c);
  for (int64_t i = 0; i < conj.train.size(); ++i)
    if (conj.train.inputs[3 * i + 1] == 0) {
      EXPECT_EQ(conj.train.targets[i], 0);
    }
}

TEST(AlgorithmicTask, BadInputNamesTheKey) {
  auto message = [](AlgorithmicTaskConfig c) {
    try {
      validate(c);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  AlgorithmicTaskConfig c;
  c.p = 1;
  EXPECT_NE(message(c).find("task.p = 1"), std::string::npos);
  c = {};
  c.train_fraction = 0;
  EXPECT_NE(message(c).find("task.train_fraction"), std::string::npos);
  c = {};
  c.op = "a/b";
  c.p = 100;
  EXPECT_NE(message(c).find("not prime"), std::string::npos);
  c = {};
  c.op = "a%b";
  EXPECT_NE(message(c).find("task.op"), std::string::npos);
}

}  // namespace
}  // namespace gradscope
