// Algorithmic tasks: see algorithmic.h.
#include "gradscope/tasks/algorithmic.h"

#include <fmt/core.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "gradscope/tasks/task_family.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

bool is_prime(int64_t p) {
  if (p < 2) return false;
  for (int64_t d = 2; d * d <= p; ++d)
    if (p % d == 0) return false;
  return true;
}

int64_t pow_mod(int64_t base, int64_t e, int64_t p) {
  int64_t r = 1;
  base %= p;
  for (; e > 0; e >>= 1, base = base * base % p)
    if (e & 1) r = r * base % p;
  return r;
}

int64_t factorial(int64_t n) {
  return n <= 1 ? 1 : n * factorial(n - 1);
}

// All permutations of {0..n-1} in lexicographic order; element i of S_n is perms[i].
std::vector<std::vector<int>> permutations(int64_t n) {
  std::vector<int> p(n);
  std::iota(p.begin(), p.end(), 0);
  std::vector<std::vector<int>> out;
  do out.push_back(p);
  while (std::next_permutation(p.begin(), p.end()));
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

const std::vector<std::string>& modular_ops() {
  static const std::vector<std::string> ops{
      "a+b",     "a-b",        "a*b",          "a/b",    "a/b_if_odd_else_a-b",
      "a^2+b^2", "a^2+ab+b^2", "a^2+ab+b^2+a", "a^3+ab", "a^3+ab^2+b"};
  return ops;
}

const std::vector<std::string>& permutation_ops() {
  static const std::vector<std::string> ops{"ab", "aba^-1", "aba"};
  return ops;
}

int64_t modular_apply(const std::string& op, int64_t a, int64_t b, int64_t p) {
  auto div = [&](int64_t x, int64_t y) { return y == 0 ? -1 : x * pow_mod(y, p - 2, p) % p; };
  if (op == "a+b") return (a + b) % p;
  if (op == "a-b") return ((a - b) % p + p) % p;
  if (op == "a*b") return a * b % p;
  if (op == "a/b") return div(a, b);
  if (op == "a/b_if_odd_else_a-b") return b % 2 == 1 ? div(a, b) : ((a - b) % p + p) % p;
  if (op == "a^2+b^2") return (a * a + b * b) % p;
  if (op == "a^2+ab+b^2") return (a * a + a * b + b * b) % p;
  if (op == "a^2+ab+b^2+a") return (a * a + a * b + b * b + a) % p;
  if (op == "a^3+ab") return (a * a % p * a + a * b) % p;
  if (op == "a^3+ab^2+b") return (a * a % p * a + a * (b * b % p) + b) % p;
  throw std::invalid_argument("task.op = \"" + op + "\" (valid: " + join(modular_ops()) + ")");
}

void validate(const AlgorithmicTaskConfig& c) {
  if (c.name != "modular" && c.name != "permutation")
    throw std::invalid_argument("task.name = \"" + c.name + "\" (valid: modular, permutation)");
  if (!(c.train_fraction > 0 && c.train_fraction <= 1))
    throw std::invalid_argument(
        fmt::format("task.train_fraction = {} (valid: a fraction in (0, 1])", c.train_fraction));
  if (c.op_token && !c.tokens)
    throw std::invalid_argument(
        "task.op_token = true needs model.type = \"transformer\" (the MLPs read operand ids)");
  if (c.nonzero_b && c.name != "modular")
    throw std::invalid_argument("task.nonzero_b = true needs task.name = \"modular\"");
  if (c.name == "modular") {
    const auto& ops = modular_ops();
    if (std::find(ops.begin(), ops.end(), c.op) == ops.end())
      throw std::invalid_argument("task.op = \"" + c.op +
                                  "\" (valid for task.name = \"modular\": " + join(ops) + ")");
    if (c.p < 2 || c.p > 46340)
      throw std::invalid_argument(
          fmt::format("task.p = {} (valid: an integer in [2, 46340])", c.p));
    if ((c.op == "a/b" || c.op == "a/b_if_odd_else_a-b") && !is_prime(c.p))
      throw std::invalid_argument(fmt::format(
          "task.p = {} is not prime; task.op = \"{}\" divides, so p must be prime", c.p, c.op));
  } else {
    const auto& ops = permutation_ops();
    if (std::find(ops.begin(), ops.end(), c.op) == ops.end())
      throw std::invalid_argument("task.op = \"" + c.op +
                                  "\" (valid for task.name = \"permutation\": " + join(ops) + ")");
    if (c.n < 2 || c.n > 7)
      throw std::invalid_argument(fmt::format("task.n = {} (valid: an integer in [2, 7])", c.n));
  }
}

namespace {

// Appends example (a, b) -> r in the task's layout: [a, b, '='], [a, op, b, '='] or [a, b].
void append_example(Dataset& s, const AlgorithmicTaskConfig& c, int64_t size, int32_t a, int32_t b,
                    int32_t r) {
  s.inputs.push_back(a);
  if (c.op_token) s.inputs.push_back(static_cast<int32_t>(size));
  s.inputs.push_back(b);
  if (c.tokens) s.inputs.push_back(static_cast<int32_t>(size + (c.op_token ? 1 : 0)));
  s.targets.push_back(r);
}

int64_t layout_length(const AlgorithmicTaskConfig& c) {
  return 2 + (c.tokens ? (c.op_token ? 2 : 1) : 0);
}

}  // namespace

TaskData make_algorithmic_task(const AlgorithmicTaskConfig& c) {
  validate(c);
  const bool modular = c.name == "modular";
  const int64_t size = modular ? c.p : factorial(c.n);  // group elements
  std::vector<std::vector<int>> perms;
  std::vector<int64_t> inverse;
  if (!modular) {
    perms = permutations(c.n);
    auto index_of = [&](const std::vector<int>& q) {
      return std::lower_bound(perms.begin(), perms.end(), q) - perms.begin();
    };
    inverse.resize(size);
    for (int64_t i = 0; i < size; ++i) {
      std::vector<int> inv(c.n);
      for (int64_t k = 0; k < c.n; ++k) inv[perms[i][k]] = static_cast<int>(k);
      inverse[i] = index_of(inv);
    }
  }
  // (a o b) for permutations: composition (a o b)(k) = a(b(k)).
  auto compose = [&](int64_t a, int64_t b) {
    std::vector<int> r(c.n);
    for (int64_t k = 0; k < c.n; ++k) r[k] = perms[a][perms[b][k]];
    return std::lower_bound(perms.begin(), perms.end(), r) - perms.begin();
  };
  auto apply = [&](int64_t a, int64_t b) -> int64_t {
    if (modular) return modular_apply(c.op, a, b, c.p);
    if (c.op == "ab") return compose(a, b);
    if (c.op == "aba^-1") return compose(compose(a, b), inverse[a]);
    return compose(compose(a, b), a);  // aba
  };

  std::vector<std::array<int32_t, 3>> examples;  // (a, b, c)
  for (int64_t a = 0; a < size; ++a)
    for (int64_t b = c.unordered ? a : c.nonzero_b ? 1 : 0; b < size; ++b) {
      const int64_t r = apply(a, b);
      if (r >= 0)
        examples.push_back(
            {static_cast<int32_t>(a), static_cast<int32_t>(b), static_cast<int32_t>(r)});
    }
  std::vector<int64_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  Rng(c.split_seed, "split").shuffle(order.data(), static_cast<int64_t>(order.size()));
  const auto n_train = static_cast<int64_t>(c.train_fraction * static_cast<double>(order.size()));

  TaskData d;
  const int64_t extra = c.tokens ? (c.op_token ? 2 : 1) : 0;  // '=' (and the op)
  d.vocab = size + extra;
  d.num_classes = c.op_token ? d.vocab : size;
  d.equals_token = c.tokens ? size + extra - 1 : -1;
  for (Dataset* s : {&d.train, &d.test}) s->length = layout_length(c);
  for (int64_t k = 0; k < static_cast<int64_t>(order.size()); ++k) {
    const auto& e = examples[order[k]];
    append_example(k < n_train ? d.train : d.test, c, size, e[0], e[1], e[2]);
  }
  d.description =
      modular ? fmt::format("{} mod {}", c.op, c.p) : fmt::format("{} in S_{}", c.op, c.n);
  d.description += fmt::format(": {} train / {} test", d.train.size(), d.test.size());
  return d;
}

Dataset modular_grid(const AlgorithmicTaskConfig& c) {
  validate(c);
  if (c.name != "modular") throw std::invalid_argument("modular_grid needs a modular task");
  Dataset g;
  g.length = layout_length(c);
  for (int64_t a = 0; a < c.p; ++a)
    for (int64_t b = 0; b < c.p; ++b)
      append_example(g, c, c.p, static_cast<int32_t>(a), static_cast<int32_t>(b),
                     static_cast<int32_t>(modular_apply(c.op, a, b, c.p)));
  return g;
}

std::pair<int64_t, int64_t> operands(const AlgorithmicTaskConfig& c, const Dataset& d, int64_t i) {
  const int32_t* row = d.inputs.data() + i * d.length;
  return {row[0], row[c.op_token ? 2 : 1]};
}

AlgorithmicTaskConfig algorithmic_options(const Config& c) {
  AlgorithmicTaskConfig t = options_from<AlgorithmicTaskConfig>(c);
  t.tokens = c.string("model.type") == "transformer";
  return t;
}

namespace {

void validate_algorithmic(const Config& c) {
  if (c.string("model.type") == "mlp" && c.string("model.mlp_form") == "dense")
    throw ConfigError("model.mlp_form = \"dense\" reads bit vectors; task.name = \"" +
                      c.string("task.name") + "\" gives operand ids (valid: pair, concat, onehot)");
  validate(algorithmic_options(c));
}

TaskFamily algorithmic_family(const std::string& name) {
  TaskFamily f;
  f.name = name;
  f.models = {"transformer", "mlp"};
  f.validate = validate_algorithmic;
  f.build = [](const Config& c) { return make_algorithmic_task(algorithmic_options(c)); };
  return f;
}

}  // namespace

TaskFamily modular_task() {
  TaskFamily f = algorithmic_family("modular");
  f.residues = true;
  f.label = [](const Config& c) {
    return fmt::format("modular {} mod {}", c.string("task.op"), c.integer("task.p"));
  };
  return f;
}
TaskFamily permutation_task() {
  TaskFamily f = algorithmic_family("permutation");
  f.label = [](const Config& c) {
    return fmt::format("permutation {} S_{}", c.string("task.op"), c.integer("task.n"));
  };
  return f;
}

}  // namespace gradscope
