// Sparse parity, multitask sparse parity and induction sequences: see emergence.h.
// Shape legend: N = examples, n = bits, T = subtasks, L = sequence length (inputs), S = segment.
#include "gradscope/tasks/emergence.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "gradscope/tasks/task_family.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

[[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& valid) {
  throw std::invalid_argument("task." + key + " = " + value + " (valid: " + valid + ")");
}

// What every split of a task shares: the relevant bits of each subtask and the subtask CDF.
struct Setup {
  std::vector<std::vector<int32_t>> relevant;  // [subtasks][k] bit indices in [0, n)
  std::vector<double> cdf;                     // [T] cumulative subtask probabilities
};

Setup make_setup(const EmergenceTaskConfig& c) {
  Setup s;
  if (c.name == "induction") return s;
  const int64_t T = c.name == "multitask_sparse_parity" ? c.n_tasks : 1;
  Rng rng(c.split_seed, "subsets");
  std::vector<int32_t> bits(static_cast<size_t>(c.n_bits));
  for (int64_t t = 0; t < T; ++t) {
    std::iota(bits.begin(), bits.end(), 0);
    rng.shuffle(bits.data(), c.n_bits);
    std::vector<int32_t> chosen(bits.begin(), bits.begin() + c.k);
    std::sort(chosen.begin(), chosen.end());
    s.relevant.push_back(chosen);
  }
  double total = 0;
  for (int64_t t = 0; t < T; ++t) total += std::pow(double(t + 1), -c.zipf_exponent);
  double acc = 0;
  for (int64_t t = 0; t < T; ++t)
    s.cdf.push_back(acc += std::pow(double(t + 1), -c.zipf_exponent) / total);
  s.cdf.back() = 1.0;
  return s;
}

// Per-sequence buffers of draw_sequences, kept between calls by a sampler.
struct Scratch {
  std::vector<int32_t> seq, copy_of, deck;
};

// n parity examples from rng into d (its buffers reused); `task` >= 0 fixes the subtask
// (multitask test sets).
void draw_parity(const EmergenceTaskConfig& c, const Setup& s, Rng& rng, int64_t n, Dataset& d,
                 int64_t task = -1) {
  const bool multi = c.name == "multitask_sparse_parity";
  const int64_t T = multi ? c.n_tasks : 0, F = T + c.n_bits;
  d.features = F;
  d.x.assign(static_cast<size_t>(n * F), 0.0);  // [N, T + n]
  d.targets.resize(static_cast<size_t>(n));
  std::vector<int32_t>* groups = nullptr;  // [N] the subtask labels (multitask)
  if (multi) {
    groups = &own_family_data<SubtaskLabels>(d.extra).groups;
    groups->assign(static_cast<size_t>(n), 0);
  }
  for (int64_t e = 0; e < n; ++e) {
    int64_t t = task;
    if (multi && t < 0) {
      const double u = rng.next_uniform();
      t = std::upper_bound(s.cdf.begin(), s.cdf.end(), u) - s.cdf.begin();
      t = std::min(t, T - 1);
    }
    double* x = d.x.data() + e * F;
    if (multi) x[t] = 1.0, (*groups)[e] = static_cast<int32_t>(t);
    for (int64_t b = 0; b < c.n_bits; ++b) x[T + b] = rng.next_below(2) ? 1.0 : -1.0;
    double product = 1;
    for (int32_t b : s.relevant[multi ? t : 0]) product *= x[T + b];
    d.targets[e] = product > 0 ? 1 : 0;
  }
}

// n induction sequences from rng into d (its buffers and the scratch reused).
void draw_sequences(const EmergenceTaskConfig& c, Rng& rng, int64_t n, Dataset& d,
                    Scratch& scratch) {
  const int64_t L = c.seq_len, S = c.segment_len, H = (L + 1) / 2;  // H: first-half tokens
  d.length = L;
  d.targets_per_example = L;
  d.inputs.resize(static_cast<size_t>(n * L));  // [N, L]
  d.targets.resize(static_cast<size_t>(n * L));
  std::vector<int32_t>& prefix_target = own_family_data<InductionTargets>(d.extra).prefix_target;
  prefix_target.assign(static_cast<size_t>(n * L), -1);  // [N, L]
  std::vector<int32_t>& seq = scratch.seq;               // [L + 1] tokens
  std::vector<int32_t>& copy_of = scratch.copy_of;       // [L + 1] source position of a copy, or -1
  std::vector<int32_t>& deck = scratch.deck;             // [V]
  seq.resize(static_cast<size_t>(L + 1));
  copy_of.resize(static_cast<size_t>(L + 1));
  deck.resize(static_cast<size_t>(c.vocab));
  for (int64_t e = 0; e < n; ++e) {
    std::fill(copy_of.begin(), copy_of.end(), -1);
    // First half: draws from a shuffled deck of the vocabulary (reshuffled when used up), so a
    // token recurs only once the vocabulary is exhausted and an earlier occurrence is unique.
    for (int64_t i = 0; i < H; ++i) {
      if (i % c.vocab == 0) {
        std::iota(deck.begin(), deck.end(), 0);
        rng.shuffle(deck.data(), c.vocab);
      }
      seq[i] = deck[i % c.vocab];
    }
    for (int64_t pos = H; pos <= L; pos += S) {  // chunks copying a window of the first half
      const int64_t w = static_cast<int64_t>(rng.next_below(H - S + 1));
      for (int64_t o = 0; o < S && pos + o <= L; ++o) {
        seq[pos + o] = seq[w + o];
        copy_of[pos + o] = static_cast<int32_t>(w + o);
      }
    }
    for (int64_t p = 0; p < L; ++p) {
      d.inputs[e * L + p] = seq[p];
      d.targets[e * L + p] = seq[p + 1];
      if (copy_of[p] >= 0 && copy_of[p + 1] == copy_of[p] + 1)
        prefix_target[e * L + p] = copy_of[p] + 1;
    }
  }
}

void draw(const EmergenceTaskConfig& c, const Setup& s, Rng& rng, int64_t n, Dataset& d,
          Scratch& scratch) {
  if (c.name == "induction")
    draw_sequences(c, rng, n, d, scratch);
  else
    draw_parity(c, s, rng, n, d);
}

// A new dataset of n examples (the fixed splits).
Dataset drawn(const EmergenceTaskConfig& c, const Setup& s, Rng& rng, int64_t n,
              int64_t task = -1) {
  Dataset d;
  Scratch scratch;
  if (task >= 0)
    draw_parity(c, s, rng, n, d, task);
  else
    draw(c, s, rng, n, d, scratch);
  return d;
}

// Appends b's examples to a (same layout).
void append(Dataset& a, const Dataset& b) {
  a.inputs.insert(a.inputs.end(), b.inputs.begin(), b.inputs.end());
  a.targets.insert(a.targets.end(), b.targets.begin(), b.targets.end());
  a.x.insert(a.x.end(), b.x.begin(), b.x.end());
  if (const auto* g = family_data<SubtaskLabels>(b.extra)) {
    std::vector<int32_t>& groups = own_family_data<SubtaskLabels>(a.extra).groups;
    groups.insert(groups.end(), g->groups.begin(), g->groups.end());
  }
  if (const auto* t = family_data<InductionTargets>(b.extra)) {
    std::vector<int32_t>& targets = own_family_data<InductionTargets>(a.extra).prefix_target;
    targets.insert(targets.end(), t->prefix_target.begin(), t->prefix_target.end());
  }
}

}  // namespace

void validate(const EmergenceTaskConfig& c) {
  if (c.name != "sparse_parity" && c.name != "multitask_sparse_parity" && c.name != "induction")
    bad("name", "\"" + c.name + "\"", "sparse_parity, multitask_sparse_parity, induction");
  if (c.name == "induction") {
    if (c.vocab < 2) bad("vocab", std::to_string(c.vocab), "an integer >= 2");
    if (c.seq_len < 2) bad("seq_len", std::to_string(c.seq_len), "an integer >= 2");
    if (c.segment_len < 1) bad("segment_len", std::to_string(c.segment_len), "an integer >= 1");
    if (c.segment_len > (c.seq_len + 1) / 2)
      throw std::invalid_argument(fmt::format(
          "task.segment_len = {} is longer than half the sequence (task.seq_len = {}: at most {}, "
          "so that a segment can appear twice)",
          c.segment_len, c.seq_len, (c.seq_len + 1) / 2));
  } else {
    if (c.n_bits < 1) bad("n_bits", std::to_string(c.n_bits), "an integer >= 1");
    if (c.k < 1) bad("k", std::to_string(c.k), "an integer >= 1");
    if (c.k > c.n_bits)
      throw std::invalid_argument(fmt::format(
          "task.k = {} is larger than task.n_bits = {} (valid: 1 <= k <= n_bits)", c.k, c.n_bits));
    if (c.name == "multitask_sparse_parity") {
      if (c.n_tasks < 1) bad("n_tasks", std::to_string(c.n_tasks), "an integer >= 1");
      if (!(c.zipf_exponent >= 0) || !std::isfinite(c.zipf_exponent))
        bad("zipf_exponent", fmt::format("{}", c.zipf_exponent), "a finite number >= 0");
    }
  }
  if (c.n_train < 0) bad("n_train", std::to_string(c.n_train), ">= 0 (0: fresh samples)");
  if (c.n_test < 1) bad("n_test", std::to_string(c.n_test), "an integer >= 1");
}

TaskData make_emergence_task(const EmergenceTaskConfig& c) {
  validate(c);
  const Setup setup = make_setup(c);
  TaskData data;
  const bool multi = c.name == "multitask_sparse_parity";
  if (c.name != "induction") {
    RelevantBits& bits = own_family_data<RelevantBits>(data.extra);
    bits.relevant = setup.relevant;
    if (multi)  // relevant features come after the subtask code
      for (auto& r : bits.relevant)
        for (int32_t& b : r) b += static_cast<int32_t>(c.n_tasks);
    bits.subtasks = multi ? c.n_tasks : 0;
  }
  Rng test_rng(c.split_seed, "test");
  if (multi) {  // n_test examples of every subtask
    data.test = drawn(c, setup, test_rng, c.n_test, 0);
    for (int64_t t = 1; t < c.n_tasks; ++t)
      append(data.test, drawn(c, setup, test_rng, c.n_test, t));
  } else {
    data.test = drawn(c, setup, test_rng, c.n_test);
  }
  if (c.n_train > 0) {
    Rng train_rng(c.split_seed, "train");
    data.train = drawn(c, setup, train_rng, c.n_train);
  } else {
    // The train split logs train_* metrics on a fixed sample of the training distribution; the
    // gradient steps draw fresh examples.
    Rng train_rng(c.split_seed, "train_eval");
    data.train = drawn(c, setup, train_rng, std::min<int64_t>(c.n_test, 4096));
    data.sample = [c, setup, scratch = Scratch{}](uint64_t seed, uint64_t step, int64_t n,
                                                  Dataset& out) mutable {
      Rng rng = Rng(seed, "batch").substream(step);
      draw(c, setup, rng, n, out, scratch);
    };
  }
  if (c.name == "induction") {
    data.vocab = data.num_classes = c.vocab;
    data.description = fmt::format(
        "induction: vocab {}, sequences of {} tokens, segments of {}: {} test sequences, {}",
        c.vocab, c.seq_len, c.segment_len, c.n_test,
        c.n_train > 0 ? std::to_string(c.n_train) + " train" : std::string("fresh training data"));
  } else {
    data.num_classes = 2;
    std::string bits;
    for (int32_t b : setup.relevant[0]) bits += (bits.empty() ? "" : ",") + std::to_string(b);
    data.description =
        multi ? fmt::format(
                    "multitask sparse parity: {} subtasks (zipf {}), n = {}, k = {}: {} "
                    "test per subtask, {}",
                    c.n_tasks, c.zipf_exponent, c.n_bits, c.k, c.n_test,
                    c.n_train > 0 ? std::to_string(c.n_train) + " train"
                                  : std::string("fresh training data"))
              : fmt::format("sparse parity: n = {}, k = {} (bits {}): {} test, {}", c.n_bits, c.k,
                            bits, c.n_test,
                            c.n_train > 0 ? std::to_string(c.n_train) + " train"
                                          : std::string("fresh training data"));
  }
  return data;
}

EmergenceTaskConfig emergence_options(const Config& c) {
  EmergenceTaskConfig t = options_from<EmergenceTaskConfig>(c);
  t.name = c.string("task.name");
  return t;
}

namespace {

void validate_emergence(const Config& c) {
  const std::string& name = c.string("task.name");
  if (name != "induction" && c.string("model.type") == "mlp" &&
      c.string("model.mlp_form") != "dense")
    throw ConfigError("model.mlp_form = \"" + c.string("model.mlp_form") +
                      "\" reads operand ids; " + name + " gives bit vectors (valid: dense)");
  if (c.integer("task.n_train") == 0 && c.integer("train.batch_size") == 0)
    throw ConfigError(
        "train.batch_size = 0 (full batch) with task.n_train = 0 (fresh samples "
        "every step): set train.batch_size >= 1, or task.n_train > 0");
  validate(emergence_options(c));
}

// "test loss A -> B (drop at step S), final test accuracy X": the test loss's phase change.
std::string emergence_summary_line(const nlohmann::ordered_json& s) {
  const nlohmann::ordered_json none;
  const auto& drop =
      s.contains("phase_changes") ? s["phase_changes"].value("test_loss", none) : none;
  const bool known = drop.is_object();
  const bool acc =
      s.contains("final") && s["final"].contains("test_acc") && s["final"]["test_acc"].is_number();
  auto value = [&](const char* f) {  // four significant digits, as the other final lines
    return known && drop[f].is_number() ? fmt::format("{:.4g}", drop[f].get<double>())
                                        : std::string("?");
  };
  return fmt::format("test loss {} -> {} ({}), final test accuracy {:.4f}", value("from"),
                     value("to"),
                     !known                   ? std::string("too few logged steps to tell")
                     : drop["step"].is_null() ? std::string("no phase change")
                                              : "drop at step " + drop["step"].dump(),
                     acc ? s["final"]["test_acc"].get<double>() : NAN);
}

TaskFamily emergence_family(const std::string& name, std::vector<std::string> measures) {
  TaskFamily f;
  f.name = name;
  f.models = {name == "induction" ? "transformer" : "mlp"};
  if (name != "induction") f.losses = {"cross_entropy", "hinge", "stablemax"};
  f.validate = validate_emergence;
  f.build = [](const Config& c) { return make_emergence_task(emergence_options(c)); };
  f.shape = [](const Config& c, const TaskData& d) {
    ModelShape s = data_shape(d);
    if (c.string("train.loss") == "hinge") s.num_classes = 1;  // one score per example
    return s;
  };
  f.measures = std::move(measures);
  f.monitored = {"test_loss",
                 "test_acc",
                 "test_icl_score",
                 "test_induction_loss",
                 "test_induction_acc",
                 "test_segment_exact_match",
                 "test_segment_edit_distance",
                 "dist_from_init",
                 "relevant_share",
                 "subtask.*.test_loss",
                 "subtask.*_share",
                 "prefix_match.*"};
  f.summary_line = emergence_summary_line;
  return f;
}

}  // namespace

TaskFamily sparse_parity_task() {
  return emergence_family("sparse_parity", {"dist_from_init", "relevant_share"});
}
TaskFamily multitask_sparse_parity_task() {
  return emergence_family("multitask_sparse_parity",
                          {"subtasks", "dist_from_init", "relevant_share"});
}
TaskFamily induction_task() {
  return emergence_family("induction", {"induction", "dist_from_init", "prefix_matching"});
}

}  // namespace gradscope
