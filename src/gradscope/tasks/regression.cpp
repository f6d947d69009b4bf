// Regression teachers and matrix completion: see regression.h.
// Shape legend: N = examples, d = input dimension, L = sequence length, n = matrix size.
#include "gradscope/tasks/regression.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "gradscope/tasks/task_family.h"
#include "gradscope/tensor/lapack.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

[[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& valid) {
  throw std::invalid_argument("task." + key + " = " + value + " (valid: " + valid + ")");
}

std::string list_text(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", v[i]);
  return s + "]";
}

// A random d x k matrix with orthonormal columns (QR of a Gaussian matrix), or the first k
// columns of the identity.
std::vector<double> basis(int64_t d, int64_t k, bool identity, Rng& rng) {
  std::vector<double> g(static_cast<size_t>(d * k), 0.0);
  if (identity) {
    for (int64_t i = 0; i < k; ++i) g[i * k + i] = 1.0;
    return g;
  }
  rng.fill_normal(g.data(), d * k, 0.0, 1.0);
  return orthonormal_columns(g.data(), d, k);
}

// [k, d] rows = the columns of a [d, k] matrix.
std::vector<double> columns_as_rows(const std::vector<double>& a, int64_t d, int64_t k) {
  std::vector<double> r(a.size());
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < k; ++j) r[j * d + i] = a[i * k + j];
  return r;
}

// Inputs [N, d] for the train split (whitened or Gaussian) and the test split (Gaussian).
void draw_inputs(const RegressionTaskConfig& c, int64_t d, Dataset& train, Dataset& test) {
  train.features = test.features = d;
  if (c.inputs == TeacherInputs::whitened) {
    train.x.assign(static_cast<size_t>(d * d), 0.0);
    for (int64_t i = 0; i < d; ++i) train.x[i * d + i] = std::sqrt(double(d));
  } else {
    train.x.resize(static_cast<size_t>(c.n_samples * d));
    Rng(c.split_seed, "train_inputs").fill_normal(train.x.data(), c.n_samples * d, 0.0, 1.0);
  }
  test.x.resize(static_cast<size_t>(c.n_test * d));
  Rng(c.split_seed, "test_inputs").fill_normal(test.x.data(), c.n_test * d, 0.0, 1.0);
}

// y [N, out] = x [N, in] W [in, out].
void apply_linear(Dataset& s, const std::vector<double>& W, int64_t in, int64_t out) {
  const int64_t N = static_cast<int64_t>(s.x.size()) / in;
  s.outputs = out;
  s.y.assign(static_cast<size_t>(N * out), 0.0);
  for (int64_t r = 0; r < N; ++r)
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = 0; j < out; ++j) s.y[r * out + j] += s.x[r * in + i] * W[i * out + j];
}

TaskData diagonal_teacher(const RegressionTaskConfig& c) {
  const int64_t d = c.input_dim();
  TaskData t;
  std::vector<double> w(static_cast<size_t>(d), 0.0);
  std::copy(c.target.begin(), c.target.end(), w.begin());
  draw_inputs(c, d, t.train, t.test);
  apply_linear(t.train, w, d, 1);
  apply_linear(t.test, w, d, 1);
  Teacher& teacher = own_family_data<Teacher>(t.extra);
  teacher.values = w;
  teacher.in_dim = d;
  teacher.out_dim = 1;
  t.description = fmt::format("diagonal teacher w* = {}, {} inputs, d = {}", list_text(c.target),
                              option_name("task.inputs", c.inputs), d);
  return t;
}

TaskData linear_teacher(const RegressionTaskConfig& c) {
  const int64_t d = c.input_dim(), k = static_cast<int64_t>(c.target.size());
  Rng rng(c.split_seed, "teacher");
  const bool identity = c.teacher_basis == TeacherBasis::identity;
  const std::vector<double> V = basis(d, k, identity, rng);  // [d, k] input side
  const std::vector<double> U = basis(d, k, identity, rng);  // [d, k] output side
  std::vector<double> W(static_cast<size_t>(d * d), 0.0);    // [d_in, d_out]
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j)
      for (int64_t m = 0; m < k; ++m) W[i * d + j] += c.target[m] * V[i * k + m] * U[j * k + m];
  TaskData t;
  draw_inputs(c, d, t.train, t.test);
  apply_linear(t.train, W, d, d);
  apply_linear(t.test, W, d, d);
  Teacher& teacher = own_family_data<Teacher>(t.extra);
  teacher.values = c.target;
  teacher.in_dim = teacher.out_dim = d;
  teacher.in_vectors = columns_as_rows(V, d, k);
  teacher.out_vectors = columns_as_rows(U, d, k);
  t.description = fmt::format(
      "low-rank linear teacher, singular values {}, {} basis, {} inputs, "
      "d = {}",
      list_text(c.target), option_name("task.teacher_basis", c.teacher_basis),
      option_name("task.inputs", c.inputs), d);
  return t;
}

// y = (sum_j a_j x_j) (.) vo, a = softmax_j(<x_L (.) qk, x_j> / sqrt(d)), per example.
void apply_attention(Dataset& s, const std::vector<double>& qk, const std::vector<double>& vo,
                     int64_t L, int64_t d) {
  const int64_t N = static_cast<int64_t>(s.x.size()) / (L * d);
  s.outputs = d;
  s.y.assign(static_cast<size_t>(N * d), 0.0);
  std::vector<double> score(static_cast<size_t>(L));
  for (int64_t r = 0; r < N; ++r) {
    const double* X = s.x.data() + r * L * d;  // [L, d]
    const double* q = X + (L - 1) * d;
    double mx = -INFINITY;
    for (int64_t j = 0; j < L; ++j) {
      double dot = 0;
      for (int64_t m = 0; m < d; ++m) dot += q[m] * qk[m] * X[j * d + m];
      score[j] = dot / std::sqrt(double(d));
      mx = std::max(mx, score[j]);
    }
    double z = 0;
    for (double& e : score) z += (e = std::exp(e - mx));
    for (int64_t j = 0; j < L; ++j)
      for (int64_t m = 0; m < d; ++m) s.y[r * d + m] += score[j] / z * X[j * d + m] * vo[m];
  }
}

TaskData attention_teacher(const RegressionTaskConfig& c) {
  const int64_t d = c.input_dim(), L = c.seq_len;
  std::vector<double> qk(static_cast<size_t>(d), 0.0), vo(static_cast<size_t>(d), 0.0);
  std::copy(c.target.begin(), c.target.end(), qk.begin());
  const auto& vo_src = c.target_vo.empty() ? c.target : c.target_vo;
  std::copy(vo_src.begin(), vo_src.end(), vo.begin());
  TaskData t;
  t.train.features = t.test.features = L * d;
  t.train.x.resize(static_cast<size_t>(c.n_samples * L * d));
  t.test.x.resize(static_cast<size_t>(c.n_test * L * d));
  Rng(c.split_seed, "train_inputs").fill_normal(t.train.x.data(), c.n_samples * L * d, 0.0, 1.0);
  Rng(c.split_seed, "test_inputs").fill_normal(t.test.x.data(), c.n_test * L * d, 0.0, 1.0);
  apply_attention(t.train, qk, vo, L, d);
  apply_attention(t.test, qk, vo, L, d);
  Teacher& teacher = own_family_data<Teacher>(t.extra);
  teacher.values = qk;
  teacher.in_dim = teacher.out_dim = d;
  t.description = fmt::format(
      "attention teacher W_Q W_K^T = diag{}, W_V W_O = diag{}, L = {}, "
      "{} train / {} test sequences",
      list_text(qk), list_text(vo), L, c.n_samples, c.n_test);
  return t;
}

TaskData matrix_completion(const RegressionTaskConfig& c) {
  const int64_t n = c.size, r = c.rank;
  Rng rng(c.split_seed, "teacher");
  std::vector<double> M(static_cast<size_t>(n * n), 0.0);
  if (!c.target.empty()) {  // given singular values, random orthonormal vectors
    const std::vector<double> U = basis(n, r, false, rng), V = basis(n, r, false, rng);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t m = 0; m < r; ++m) M[i * n + j] += c.target[m] * U[i * r + m] * V[j * r + m];
  } else {  // Gaussian factors G1 G2^T, scaled to ||M||_F = n
    std::vector<double> G1(static_cast<size_t>(n * r)), G2(static_cast<size_t>(n * r));
    rng.fill_normal(G1.data(), n * r, 0.0, 1.0);
    rng.fill_normal(G2.data(), n * r, 0.0, 1.0);
    double f = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double v = 0;
        for (int64_t m = 0; m < r; ++m) v += G1[i * r + m] * G2[j * r + m];
        M[i * n + j] = v;
        f += v * v;
      }
    for (double& v : M) v *= double(n) / std::sqrt(f);
  }
  std::vector<int64_t> order(static_cast<size_t>(n * n));
  std::iota(order.begin(), order.end(), 0);
  Rng(c.split_seed, "split").shuffle(order.data(), n * n);
  TaskData t;
  t.vocab = n * n;
  for (int64_t k = 0; k < n * n; ++k) {
    Dataset& s = k < c.observed ? t.train : t.test;
    s.length = 1;
    s.outputs = 1;
    s.inputs.push_back(static_cast<int32_t>(order[k]));
    s.y.push_back(M[order[k]]);
  }
  Teacher& teacher = own_family_data<Teacher>(t.extra);
  teacher.values = singular_values(M.data(), n, n);
  teacher.values.resize(static_cast<size_t>(r));
  teacher.in_dim = teacher.out_dim = n;
  t.description = fmt::format("matrix completion: {}x{} rank {}, {} observed / {} held out", n, n,
                              r, t.train.size(), t.test.size());
  return t;
}

}  // namespace

void validate(const RegressionTaskConfig& c) {
  if (c.name != "diagonal_teacher" && c.name != "lowrank_teacher" && c.name != "matrix_completion")
    bad("name", "\"" + c.name + "\"", "diagonal_teacher, lowrank_teacher, matrix_completion");
  if (c.n_test < 1) bad("n_test", std::to_string(c.n_test), "an integer >= 1");
  if (c.inputs == TeacherInputs::gaussian && c.n_samples < 1)
    bad("n_samples", std::to_string(c.n_samples), "an integer >= 1");
  for (double v : c.target)
    if (!std::isfinite(v)) bad("target", list_text(c.target), "finite numbers");
  if (c.name == "matrix_completion") {
    if (c.size < 1 || c.size > 4096) bad("size", std::to_string(c.size), "an integer in [1, 4096]");
    if (c.rank < 1 || c.rank > c.size)
      bad("rank", std::to_string(c.rank), fmt::format("an integer in [1, task.size = {}]", c.size));
    if (!c.target.empty() && static_cast<int64_t>(c.target.size()) != c.rank)
      bad("target", list_text(c.target),
          fmt::format("task.rank = {} singular values, or [] for Gaussian factors", c.rank));
    if (c.observed < 1 || c.observed >= c.size * c.size)
      bad("observed", std::to_string(c.observed),
          fmt::format("an integer in [1, {}) (a {}x{} matrix has {} entries; some must be held "
                      "out for testing)",
                      c.size * c.size, c.size, c.size, c.size * c.size));
    return;
  }
  if (c.target.empty()) bad("target", "[]", "a non-empty list of numbers");
  if (c.dim < 0) bad("dim", std::to_string(c.dim), "an integer >= 0 (0: length of task.target)");
  if (c.dim > 0 && c.dim < static_cast<int64_t>(c.target.size()))
    bad("dim", std::to_string(c.dim),
        fmt::format("0 or at least the {} entries of task.target (a rank above the dimension)",
                    c.target.size()));
  if (c.name == "lowrank_teacher" && c.teacher == TeacherKind::attention) {
    if (c.seq_len < 1) bad("seq_len", std::to_string(c.seq_len), "an integer >= 1");
    if (!c.target_vo.empty() && c.target_vo.size() > static_cast<size_t>(c.input_dim()))
      bad("target_vo", list_text(c.target_vo),
          fmt::format("at most task.dim = {} numbers", c.input_dim()));
    if (c.inputs != TeacherInputs::gaussian)
      bad("inputs", "\"whitened\"", "gaussian (the attention teacher reads sequences)");
  }
}

TaskData make_regression_task(const RegressionTaskConfig& c) {
  validate(c);
  TaskData t;
  if (c.name == "diagonal_teacher")
    t = diagonal_teacher(c);
  else if (c.name == "matrix_completion")
    t = matrix_completion(c);
  else if (c.teacher == TeacherKind::attention)
    t = attention_teacher(c);
  else
    t = linear_teacher(c);
  t.regression = true;
  return t;
}

RegressionTaskConfig regression_options(const Config& c) {
  RegressionTaskConfig t = options_from<RegressionTaskConfig>(c);
  t.name = c.string("task.name");
  return t;
}

namespace {

TaskFamily regression_family(const std::string& name, std::vector<std::string> models) {
  TaskFamily f;
  f.name = name;
  f.models = std::move(models);
  f.validate = [](const Config& c) { validate(regression_options(c)); };
  f.build = [](const Config& c) { return make_regression_task(regression_options(c)); };
  f.losses = {"cross_entropy"};
  f.measures = {"teacher_modes"};
  f.summary_line = regression_summary_line;
  f.targets = TaskFamily::Targets::values;
  return f;
}

}  // namespace

TaskFamily diagonal_teacher_task() {
  return regression_family("diagonal_teacher", {"diagonal", "deep_linear"});
}

TaskFamily lowrank_teacher_task() {
  TaskFamily f = regression_family("lowrank_teacher", {"deep_linear", "diag_attention"});
  f.shape = [](const Config& c, const TaskData& d) {
    ModelShape s = data_shape(d);
    if (c.string("task.teacher") == "attention") s.seq_len = c.integer("task.seq_len");
    return s;
  };
  return f;
}

TaskFamily matrix_completion_task() {
  return regression_family("matrix_completion", {"matrix_factorization"});
}

}  // namespace gradscope
