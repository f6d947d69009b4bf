// The batch stream (run/batches.h): epoch order covers the train split once per epoch in
// consecutive batches (the last smaller), reshuffles every epoch, and is a pure function of the
// step; sample order draws distinct examples, also of real sequences without ids; Grokfast's task
// layout [a, op, b, '='] with b != 0.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

#include "gradscope/run/batches.h"
#include "gradscope/tasks/algorithmic.h"

namespace gradscope {
namespace {

using Pairs = std::vector<std::pair<int, int>>;

// (a, b) of every example of a batch, from [a, b, '='] inputs.
Pairs pairs(const Examples& e) {
  Pairs out;
  for (int64_t j = 0; j < e.n; ++j) out.emplace_back(e.ids[j * 3], e.ids[j * 3 + 1]);
  return out;
}

TaskData small_task() {
  AlgorithmicTaskConfig c;
  c.p = 11;
  c.train_fraction = 0.5;  // 60 train examples
  return make_algorithmic_task(c);
}

TEST(Batches, EpochOrderCoversTheTrainSplitOncePerEpoch) {
  const TaskData data = small_task();
  ASSERT_EQ(data.train.size(), 60);
  Batches b(data, 16, 7, true);  // 4 steps per epoch: 16, 16, 16, 12
  std::vector<Pairs> epochs(2);
  for (int64_t s = 0; s < 8; ++s) {
    const Examples e = b.at(s);
    EXPECT_EQ(e.n, s % 4 == 3 ? 12 : 16) << s;
    for (auto p : pairs(e)) epochs[s / 4].push_back(p);
  }
  for (const auto& epoch : epochs) {
    const std::set<Pairs::value_type> distinct(epoch.begin(), epoch.end());
    EXPECT_EQ(epoch.size(), 60u);
    EXPECT_EQ(distinct.size(), 60u);  // every example once
  }
  EXPECT_NE(epochs[0], epochs[1]);  // reshuffled
  // A pure function of the step: a fresh stream asked out of order gives the same batches.
  Batches again(data, 16, 7, true);
  const Pairs step5(epochs[1].begin() + 16, epochs[1].begin() + 32);
  const Pairs step0(epochs[0].begin(), epochs[0].begin() + 16);
  EXPECT_EQ(pairs(again.at(5)), step5);
  EXPECT_EQ(pairs(again.at(0)), step0);
}

TEST(Batches, SampleOrderDrawsDistinctExamplesPerStep) {
  const TaskData data = small_task();
  Batches b(data, 16, 7);
  const auto first = pairs(b.at(0));
  const std::set<Pairs::value_type> distinct(first.begin(), first.end());
  EXPECT_EQ(distinct.size(), 16u);
  EXPECT_NE(first, pairs(b.at(1)));
  EXPECT_EQ(first, pairs(b.at(0)));
}

// A split of real sequences without ids (in-context regression's: a length, features and outputs,
// no inputs): a minibatch gathers whole rows of x and y and gives no ids.
TEST(Batches, RealSequencesWithoutIdsAreGatheredByRow) {
  TaskData data;
  data.regression = true;
  Dataset& d = data.train;
  d.length = 2, d.features = 3, d.outputs = 1;
  for (int e = 0; e < 20; ++e) {
    d.y.push_back(e);
    for (int f = 0; f < 3; ++f) d.x.push_back(3 * e + f);
  }
  Batches b(data, 4, 7);
  const Examples e = b.at(0);
  ASSERT_EQ(e.n, 4);
  EXPECT_EQ(e.ids, nullptr);
  for (int64_t j = 0; j < e.n; ++j)
    for (int f = 0; f < 3; ++f) EXPECT_EQ(e.x[j * 3 + f], 3 * e.y[j] + f) << j;
}

TEST(AlgorithmicTask, GrokfastLayoutHasAnOpTokenAndNoZeroB) {
  AlgorithmicTaskConfig c;
  c.op = "a*b";
  c.p = 97;
  c.train_fraction = 0.5;
  c.op_token = true;
  c.nonzero_b = true;
  const TaskData d = make_algorithmic_task(c);
  EXPECT_EQ(d.train.size() + d.test.size(), 97 * 96);
  EXPECT_EQ(d.train.size(), 97 * 96 / 2);  // 4,656 as in the Grokfast code
  EXPECT_EQ(d.vocab, 99);
  EXPECT_EQ(d.num_classes, 99);  // their head reads out the whole vocabulary
  EXPECT_EQ(d.train.length, 4);
  for (const Dataset* s : {&d.train, &d.test})
    for (int64_t j = 0; j < s->size(); ++j) {
      const int32_t* e = s->inputs.data() + j * 4;
      ASSERT_EQ(e[1], 97);
      ASSERT_EQ(e[3], 98);
      ASSERT_NE(e[2], 0);
      ASSERT_EQ(s->targets[j], e[0] * e[2] % 97);
    }
}

}  // namespace
}  // namespace gradscope
