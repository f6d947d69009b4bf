// The emergence measures (continuous metrics and hidden progress): see emergence.h.
// Shape legend: N = examples, P = predictions per example, C = outputs, L = sequence length,
// H = heads, F = input features, Dhid = hidden width.
#include "gradscope/probes/emergence.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "gradscope/config/edit_distance.h"
#include "gradscope/tasks/emergence.h"
#include "gradscope/tasks/text.h"

namespace gradscope {
namespace {

// Squared row norms [F] of the first-layer weight W [F, Dhid]; empty when the model has no such
// parameter.
template <class T>
std::vector<double> row_mass(ParamStore<T>& ps, const char* name) {
  for (int i = 0; i < ps.count(); ++i) {
    if (ps.info(i).name != name) continue;
    const Tensor<T> w = ps.value(i);
    const int64_t F = w.shape[0], W = w.shape[1];
    std::vector<double> mass(static_cast<size_t>(F), 0.0);
    for (int64_t f = 0; f < F; ++f)
      for (int64_t j = 0; j < W; ++j) {
        const double v = double(w.data[f * W + j]);
        mass[f] += v * v;
      }
    return mass;
  }
  return {};
}

}  // namespace

constexpr double kSubtaskLearned = 0.9;  // test accuracy at which a subtask counts as learned

void subtask_metrics(const Predictions& p, const Dataset& d, const std::string& split,
                     MetricValues& row) {
  const int64_t N = d.size();
  const SubtaskLabels* labels = family_data<SubtaskLabels>(d.extra);
  if (labels && !labels->groups.empty() && split == "test") {
    const std::vector<int32_t>& groups = labels->groups;  // [N]
    const int64_t T = *std::max_element(groups.begin(), groups.end()) + 1;
    std::vector<double> loss(static_cast<size_t>(T)), acc(static_cast<size_t>(T));
    std::vector<int64_t> count(static_cast<size_t>(T));
    for (int64_t e = 0; e < N; ++e) {
      const int32_t g = groups[e];
      loss[g] += p.loss[e], acc[g] += p.correct[e], ++count[g];
    }
    int64_t learned = 0;  // Michaud et al.'s count: subtasks at test accuracy >= 0.9
    for (int64_t g = 0; g < T; ++g) {
      const double n = std::max<int64_t>(count[g], 1);
      row.emplace_back(fmt::format("subtask.{}.{}_loss", g, split), loss[g] / n);
      row.emplace_back(fmt::format("subtask.{}.{}_acc", g, split), acc[g] / n);
      learned += acc[g] / n >= kSubtaskLearned;
    }
    row.emplace_back(split + "_subtasks_learned", double(learned));
  }
}

double icl_score(const Predictions& p, int64_t N, int64_t L) {
  double early = 0, late = 0;
  int64_t n_early = 0, n_late = 0;
  for (int64_t e = 0; e < N; ++e)
    for (int64_t q = 0; q < L; ++q) {
      const int64_t r = e * L + q;
      if (4 * q < L) early += p.loss[r], ++n_early;
      if (4 * q >= 3 * L) late += p.loss[r], ++n_late;
    }
  return late / std::max<int64_t>(n_late, 1) - early / std::max<int64_t>(n_early, 1);
}

void induction_metrics(const Predictions& p, const Dataset& d, const std::string& split,
                       MetricValues& row) {
  const InductionTargets* targets = family_data<InductionTargets>(d.extra);
  if (!targets || targets->prefix_target.empty()) return;
  const int64_t N = d.size(), L = d.targets_per_example;
  double ind_loss = 0, ind_acc = 0;
  int64_t n_ind = 0, segments = 0, exact = 0, edits = 0;
  std::vector<int32_t> truth, guess;
  for (int64_t e = 0; e < N; ++e) {
    const int32_t* pt = targets->prefix_target.data() + e * L;
    for (int64_t q = 0; q < L; ++q) {
      const int64_t r = e * L + q;
      if (pt[q] < 0) continue;
      ind_loss += p.loss[r], ind_acc += p.correct[r], ++n_ind;
      // A segment: a maximal run of predictable positions copying consecutive keys.
      if (q == 0 || pt[q - 1] < 0 || pt[q - 1] + 1 != pt[q]) {
        truth.clear();
        guess.clear();
      }
      truth.push_back(d.targets[r]);
      guess.push_back(p.argmax.empty() ? -1 : p.argmax[r]);
      const bool ends = q + 1 == L || pt[q + 1] < 0 || pt[q] + 1 != pt[q + 1];
      if (ends) {
        const int64_t dist = static_cast<int64_t>(
            edit_distance(truth.data(), truth.size(), guess.data(), guess.size()));
        ++segments, exact += dist == 0, edits += dist;
      }
    }
  }
  row.emplace_back(split + "_icl_score", icl_score(p, N, L));
  row.emplace_back(split + "_induction_loss", ind_loss / std::max<int64_t>(n_ind, 1));
  row.emplace_back(split + "_induction_acc", ind_acc / std::max<int64_t>(n_ind, 1));
  row.emplace_back(split + "_segment_exact_match", double(exact) / std::max<int64_t>(segments, 1));
  row.emplace_back(split + "_segment_edit_distance",
                   double(edits) / std::max<int64_t>(segments, 1));
}

template <class T>
void dist_from_init(Model<T>& model, Tape<T>&, const TaskData&, MetricValues& row) {
  ParamStore<T>& ps = model.params();
  const std::span<const T> w = ps.values(), w0 = ps.initial_values();
  double d2 = 0;
  for (size_t i = 0; i < w.size(); ++i) d2 += (double(w[i]) - w0[i]) * (double(w[i]) - w0[i]);
  row.emplace_back("dist_from_init", std::sqrt(d2));
}

template <class T>
void relevant_share(Model<T>& model, Tape<T>&, const TaskData& data, MetricValues& row) {
  const RelevantBits* task = family_data<RelevantBits>(data.extra);
  if (!task || task->relevant.empty()) return;
  const std::vector<double> mass = row_mass(model.params(), "layers.0.W");
  if (mass.empty()) return;
  const int64_t first_bit = task->subtasks;  // bits follow the subtask code
  double bits = 0;
  for (size_t f = static_cast<size_t>(first_bit); f < mass.size(); ++f) bits += mass[f];
  for (size_t g = 0; g < task->relevant.size(); ++g) {
    double on = 0;
    for (int32_t f : task->relevant[g]) on += mass[f];
    row.emplace_back(task->subtasks > 0 ? fmt::format("subtask.{}.relevant_share", g)
                                        : std::string("relevant_share"),
                     bits > 0 ? on / bits : NAN);
  }
}

namespace {

// Adds to score and count the prefix-matching sums of head h over windows [first, first + n):
// P [n, H, L, L] their attention patterns, `prefix_target` [N, L] the induction targets.
template <class T>
void prefix_match_sums(const Tensor<T>& P, const Dataset& test,
                       const std::vector<int32_t>& prefix_target, int64_t first, int64_t n,
                       int64_t h, double& score, int64_t& count) {
  const int64_t H = P.shape[1], L = test.length;
  for (int64_t e = 0; e < n; ++e) {
    const int64_t w = first + e;
    const int32_t* in = test.inputs.data() + w * L;
    for (int64_t q = 0; q < L; ++q) {
      if (prefix_target[w * L + q] < 0) continue;
      const T* row = P.data + ((e * H + h) * L + q) * L;  // attention of query q
      for (int64_t j = 1; j <= q; ++j)
        if (in[j - 1] == in[q]) score += double(row[j]);  // after an earlier occurrence
      ++count;
    }
  }
}

}  // namespace

// Windows per forward pass of the probe: 2,048 positions (at least one window), so that the
// patterns [n, H, L, L] of every layer stay the size of a training batch's.
constexpr int64_t kPrefixMatchPositions = 2048;

template <class T>
void prefix_matching(Model<T>& model, Tape<T>& t, const TaskData& data, MetricValues& row) {
  const RepeatedTokens* repeated = family_data<RepeatedTokens>(data.extra);
  const Dataset& test = repeated && repeated->repeats.size() > 0 ? repeated->repeats : data.test;
  const InductionTargets* targets = family_data<InductionTargets>(test.extra);
  if (!targets || targets->prefix_target.empty()) return;
  const int64_t n = std::min(test.size(), kPrefixMatchSequences), L = test.length;
  const int64_t chunk = std::max<int64_t>(1, kPrefixMatchPositions / std::max<int64_t>(L, 1));
  const bool was = t.grad_enabled();
  std::vector<double> score;  // [layers * H], summed window by window in order
  std::vector<int64_t> count;
  int64_t H = 0;
  t.set_grad_enabled(false);
  for (int64_t first = 0; first < n; first += chunk) {
    const int64_t m = std::min(chunk, n - first);
    t.reset();
    const std::vector<Tensor<T>> patterns =
        model.attention_patterns(t, test.inputs.data() + first * L, m);
    if (patterns.empty()) break;
    H = patterns[0].shape[1];
    score.resize(patterns.size() * H), count.resize(patterns.size() * H);
    for (size_t l = 0; l < patterns.size(); ++l)
      for (int64_t h = 0; h < H; ++h)
        prefix_match_sums(patterns[l], test, targets->prefix_target, first, m, h, score[l * H + h],
                          count[l * H + h]);
  }
  for (size_t i = 0; i < score.size(); ++i)
    row.emplace_back(fmt::format("prefix_match.{}.{}", i / H, i % H),
                     score[i] / std::max<int64_t>(count[i], 1));
  t.reset();
  t.set_grad_enabled(was);
}

Measure subtasks_measure() {
  return with_columns(
      {"subtasks", &subtask_metrics},
      {"subtask.*.<split>_loss", "subtask.*.<split>_acc", "<split>_subtasks_learned"});
}
Measure induction_measure() {
  return with_columns({"induction", &induction_metrics},
                      {"<split>_icl_score", "<split>_induction_loss", "<split>_induction_acc",
                       "<split>_segment_exact_match", "<split>_segment_edit_distance"});
}
Measure dist_from_init_measure() {
  return with_columns(GRADSCOPE_MODEL_MEASURE("dist_from_init", dist_from_init),
                      {"dist_from_init"});
}
Measure relevant_share_measure() {
  return with_columns(GRADSCOPE_MODEL_MEASURE("relevant_share", relevant_share),
                      {"relevant_share", "subtask.*.relevant_share"});
}
Measure prefix_matching_measure() {
  return with_columns(GRADSCOPE_MODEL_MEASURE("prefix_matching", prefix_matching),
                      {"prefix_match.*.*"});
}

}  // namespace gradscope
