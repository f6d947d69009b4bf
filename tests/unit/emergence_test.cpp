// The emergence tasks (labels, subtask codes and frequencies, repeated segments), their output
// metrics and hidden-progress measures, and the phase-change detection of the summary.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "gradscope/config/config.h"
#include "gradscope/probes/emergence.h"
#include "gradscope/run/summary.h"
#include "gradscope/run/validate.h"
#include "gradscope/tasks/emergence.h"
#include "gradscope/tasks/task_family.h"

namespace gradscope {
namespace {

TEST(SparseParity, LabelIsTheProductOfTheRelevantBits) {
  EmergenceTaskConfig c;
  c.n_bits = 12, c.k = 3, c.n_train = 500, c.n_test = 300;
  const TaskData d = make_emergence_task(c);
  const RelevantBits* bits = family_data<RelevantBits>(d.extra);
  ASSERT_TRUE(bits);
  ASSERT_EQ(bits->relevant.size(), 1u);
  EXPECT_EQ(bits->subtasks, 0);
  const std::set<int32_t> rel(bits->relevant[0].begin(), bits->relevant[0].end());
  EXPECT_EQ(rel.size(), 3u);
  for (const Dataset* s : {&d.train, &d.test}) {
    ASSERT_EQ(s->features, 12);
    int64_t ones = 0;
    for (int64_t e = 0; e < s->size(); ++e) {
      double prod = 1;
      for (int64_t b = 0; b < 12; ++b) {
        const double x = s->x[e * 12 + b];
        ASSERT_TRUE(x == 1.0 || x == -1.0);
        if (rel.count(static_cast<int32_t>(b))) prod *= x;
      }
      EXPECT_EQ(s->targets[e], prod > 0 ? 1 : 0);
      ones += s->targets[e];
    }
    EXPECT_NEAR(double(ones) / double(s->size()), 0.5, 0.1);
  }
  EXPECT_FALSE(d.sample);  // a fixed training set
}

TEST(SparseParity, FreshSamplesArePureFunctionsOfSeedAndStep) {
  EmergenceTaskConfig c;
  c.n_bits = 10, c.k = 2;
  const TaskData d = make_emergence_task(c);
  ASSERT_TRUE(d.sample);
  Dataset a, b, other, seed2;
  d.sample(1, 7, 16, a);
  d.sample(1, 8, 16, other);
  d.sample(1, 7, 16, b);  // after another step: still the same draw
  d.sample(2, 7, 16, seed2);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.targets, b.targets);
  EXPECT_NE(a.x, other.x);
  EXPECT_NE(a.x, seed2.x);
  EXPECT_EQ(a.size(), 16);
  d.sample(1, 7, 16, other);  // reused buffers: overwritten, not appended
  EXPECT_EQ(other.x, a.x);
  EXPECT_EQ(other.size(), 16);
}

TEST(MultitaskParity, CodesLabelsAndZipfFrequencies) {
  EmergenceTaskConfig c;
  c.name = "multitask_sparse_parity";
  c.n_tasks = 4, c.n_bits = 8, c.k = 2, c.zipf_exponent = 1.0, c.n_test = 50;
  const TaskData d = make_emergence_task(c);
  const RelevantBits* bits = family_data<RelevantBits>(d.extra);
  ASSERT_TRUE(bits);
  ASSERT_EQ(bits->subtasks, 4);
  ASSERT_EQ(bits->relevant.size(), 4u);
  ASSERT_EQ(d.test.size(), 4 * 50);  // n_test per subtask
  const SubtaskLabels* test_labels = family_data<SubtaskLabels>(d.test.extra);
  ASSERT_TRUE(test_labels);
  ASSERT_EQ(test_labels->groups.size(), 4u * 50);
  EXPECT_EQ(test_labels->groups[50], 1);  // the test set holds each subtask's examples in turn
  Dataset s;
  d.sample(0, 0, 20000, s);
  const std::vector<int32_t>& groups = family_data<SubtaskLabels>(s.extra)->groups;
  std::vector<int64_t> count(4);
  for (int64_t e = 0; e < s.size(); ++e) {
    const double* x = s.x.data() + e * 12;
    const int32_t g = groups[e];
    ++count[g];
    for (int t = 0; t < 4; ++t) ASSERT_EQ(x[t], t == g ? 1.0 : 0.0);
    double prod = 1;
    for (int32_t f : bits->relevant[g]) {
      ASSERT_GE(f, 4);  // feature index after the code
      prod *= x[f];
    }
    ASSERT_EQ(s.targets[e], prod > 0 ? 1 : 0);
  }
  const double norm = 1 + 1.0 / 2 + 1.0 / 3 + 1.0 / 4;
  for (int t = 0; t < 4; ++t) {
    const double p = 1.0 / (t + 1) / norm, expected = 20000 * p;
    EXPECT_NEAR(double(count[t]), expected, 4 * std::sqrt(expected * (1 - p))) << t;
  }
}

TEST(Induction, SegmentsRepeatAndPrefixTargetsPointAfterTheMatch) {
  EmergenceTaskConfig c;
  c.name = "induction";
  c.vocab = 20, c.seq_len = 31, c.segment_len = 5, c.n_train = 50;
  const TaskData d = make_emergence_task(c);
  const Dataset& s = d.train;
  const int64_t L = 31, H = 16;
  ASSERT_EQ(s.targets_per_example, L);
  ASSERT_EQ(s.size(), 50);
  int64_t predictable = 0;
  const std::vector<int32_t>& prefix_target = family_data<InductionTargets>(s.extra)->prefix_target;
  for (int64_t e = 0; e < 50; ++e) {
    const int32_t* in = s.inputs.data() + e * L;
    const int32_t* tg = s.targets.data() + e * L;
    std::set<int32_t> first(in, in + H);
    EXPECT_EQ(first.size(), size_t(H));  // the deck: no repeat within the first half (H <= V)
    for (int64_t p = 0; p + 1 < L; ++p) EXPECT_EQ(tg[p], in[p + 1]);
    for (int64_t p = 0; p < L; ++p) {
      const int32_t k = prefix_target[e * L + p];
      if (k < 0) continue;
      ++predictable;
      ASSERT_GE(k, 1);
      ASSERT_LT(k, p);
      EXPECT_EQ(in[k - 1], in[p]);  // the earlier occurrence of the current token
      EXPECT_EQ(in[k], tg[p]);      // and the token after it is the next one
    }
  }
  // Second half: 16 positions in chunks of 5, 4 predictable per full chunk.
  EXPECT_GE(predictable, 50 * 10);

  // Fresh sequences: a pure function of (seed, step), whatever the sampler drew before.
  c.n_train = 0;
  const TaskData fresh = make_emergence_task(c);
  Dataset a, b;
  fresh.sample(3, 11, 8, a);
  fresh.sample(3, 12, 8, b);
  EXPECT_NE(a.inputs, b.inputs);
  fresh.sample(3, 11, 8, b);
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.targets, b.targets);
  EXPECT_EQ(family_data<InductionTargets>(a.extra)->prefix_target,
            family_data<InductionTargets>(b.extra)->prefix_target);
}

TEST(EmergenceTask, BadInputNamesKeyAndValue) {
  auto message = [](const std::vector<std::string>& overrides) {
    Config cfg;
    for (const auto& o : overrides) cfg.apply_override(o);
    try {
      validate_experiment(cfg);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  const std::vector<std::string> parity = {"task.name=sparse_parity", "model.type=mlp",
                                           "model.mlp_form=dense", "model.init=uniform",
                                           "train.batch_size=32"};
  auto with = [&](std::vector<std::string> base, const std::string& extra) {
    base.push_back(extra);
    return base;
  };
  EXPECT_EQ(message(with(with(parity, "task.k=5"), "task.n_bits=3")),
            "task.k = 5 is larger than task.n_bits = 3 (valid: 1 <= k <= n_bits)");
  EXPECT_EQ(message(with(with(parity, "task.name=multitask_sparse_parity"), "task.n_tasks=0")),
            "task.n_tasks = 0 (valid: an integer >= 1)");
  const std::vector<std::string> ind = {"task.name=induction", "model.d_mlp=0",
                                        "train.batch_size=8"};
  EXPECT_EQ(message(with(with(ind, "task.segment_len=40"), "task.seq_len=32")),
            "task.segment_len = 40 is longer than half the sequence (task.seq_len = 32: at most "
            "16, so that a segment can appear twice)");
  EXPECT_EQ(message(with(ind, "task.vocab=1")), "task.vocab = 1 (valid: an integer >= 2)");
  EXPECT_NE(message(with(parity, "model.mlp_form=pair")).find("model.mlp_form"), std::string::npos);
  EXPECT_NE(message({"train.loss=hinge"}).find("train.loss"), std::string::npos);
  EXPECT_NE(message(with(parity, "train.batch_size=0")).find("train.batch_size"),
            std::string::npos);
  EXPECT_EQ(message(parity), "(no error)");
}

TEST(EmergenceMetrics, InductionScoresFromPredictions) {
  // One sequence of L = 8: positions 5, 6 predictable (one segment), 7 predictable (another).
  Dataset d;
  d.length = 8, d.targets_per_example = 8;
  d.inputs = {0, 1, 2, 3, 4, 1, 2, 3};
  d.targets = {1, 2, 3, 4, 1, 2, 3, 9};
  own_family_data<InductionTargets>(d.extra).prefix_target = {-1, -1, -1, -1, -1, 2, 3, 6};
  Predictions p;
  p.loss = {3, 3, 1, 1, 1, 0.5, 0.5, 2};  // early (q < 2): 3; late (q >= 6): 1.25
  p.correct = {0, 0, 0, 0, 0, 1, 0, 1};
  p.argmax = {0, 0, 0, 0, 0, 2, 5, 9};
  MetricValues row;
  induction_metrics(p, d, "test", row);
  auto get = [&](const std::string& k) {
    for (const auto& [n, v] : row)
      if (n == k) return v;
    return double(NAN);
  };
  EXPECT_DOUBLE_EQ(get("test_icl_score"), 1.25 - 3.0);
  EXPECT_DOUBLE_EQ(get("test_induction_loss"), 1.0);
  EXPECT_DOUBLE_EQ(get("test_induction_acc"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(get("test_segment_exact_match"), 0.5);    // [2, 5] vs [2, 3]; [9] vs [9]
  EXPECT_DOUBLE_EQ(get("test_segment_edit_distance"), 0.5);  // 1 and 0 edits
}

std::vector<MetricsRow> rows_of(const std::vector<std::pair<int64_t, double>>& loss,
                                const std::vector<double>& share) {
  std::vector<MetricsRow> rows;
  for (size_t i = 0; i < loss.size(); ++i) {
    MetricsRow r;
    r.values = {{"step", double(loss[i].first)},
                {"test_loss", loss[i].second},
                {"relevant_share", share[i]}};
    rows.push_back(r);
  }
  return rows;
}

bool monitored_by_parity(const std::string& metric) {
  return find_task_family("sparse_parity").monitors(metric);
}

TEST(PhaseChanges, AbruptDropSmoothCreepAndNoChange) {
  // A noisy plateau at 1 until step 3000, a drop to 0 over 300 steps; a share creeping from
  // step 500 on.
  std::vector<std::pair<int64_t, double>> loss;
  std::vector<double> share;
  for (int64_t s = 0; s <= 6000; s += 100) {
    const double noise = (s / 100 % 3 == 0 ? 0.02 : -0.02);
    loss.emplace_back(s, s < 3000 ? 1 + noise : std::max(0.0, 1 - (s - 3000) / 300.0));
    share.push_back(0.1 + (s > 500 ? 0.0001 * double(s - 500) : 0.0));
  }
  const auto pc = detect_phase_changes(rows_of(loss, share), 0.1, monitored_by_parity);
  const auto& l = pc["test_loss"];
  EXPECT_EQ(l["step"].get<int64_t>(), 3200);
  EXPECT_TRUE(l["abrupt"].get<bool>());
  EXPECT_GE(l["onset_step"].get<int64_t>(), 3000);
  const auto& sh = pc["relevant_share"];
  EXPECT_LT(sh["onset_step"].get<int64_t>(), 1000);  // moves long before the loss
  EXPECT_FALSE(sh["abrupt"].get<bool>());
  // Below the minimum change: no phase change.
  const auto none = detect_phase_changes(rows_of(loss, share), 2.0, monitored_by_parity);
  EXPECT_TRUE(none["test_loss"]["step"].is_null());
}

}  // namespace
}  // namespace gradscope
