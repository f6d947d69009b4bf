// The rank-dynamics models: see linear_models.h. Shape legend: N = examples, d = input width,
// L = sequence length, n = matrix size; weights are stored [in, out].
#include "gradscope/nn/linear_models.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "gradscope/nn/layers.h"
#include "gradscope/nn/model_registry.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

// The product of row-major matrices A [m, k] and B [k, n] into C [m, n] (double).
void matmul_into(const std::vector<double>& A, const std::vector<double>& B, int64_t m, int64_t k,
                 int64_t n, std::vector<double>& C) {
  C.assign(static_cast<size_t>(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p) {
      const double a = A[i * k + p];
      if (a != 0)
        for (int64_t j = 0; j < n; ++j) C[i * n + j] += a * B[p * n + j];
    }
}

template <class T>
std::vector<double> param_copy(const ParamStore<T>& ps, int i, std::span<const T> buf) {
  const ParamInfo& p = ps.info(i);
  return std::vector<double>(buf.begin() + p.offset, buf.begin() + p.offset + p.shape.numel());
}

// ---------------------------------------------------------------------------------------------
template <class T>
class Diagonal final : public Model<T>, public DiagonalNetwork<T> {
 public:
  Diagonal(const ModelConfig& c, const ModelShape& s, uint64_t seed) : d_(s.features) {
    ParamStore<T>& ps = this->params_;
    for (int64_t k = 0; k < c.depth; ++k) u_.push_back(ps.add(fmt::format("diag.u{}", k), {d_}));
    ps.finalize();
    Rng rng(seed, "init");
    for (int i : u_) rng.fill_normal(ps.value(i).data, d_, 0.0, c.init_scale);
    ps.save_initial();
  }
  int64_t outputs() const override { return 1; }
  Var forward(Tape<T>& t, const Batch& b) override {
    ParamStore<T>& ps = this->params_;
    Var w = ps.on(t, u_[0]);
    for (size_t k = 1; k < u_.size(); ++k) w = mul(t, w, ps.on(t, u_[k]));  // [d]
    return matmul(t, b.x, reshape(t, w, Shape{d_, 1}));                     // [N, 1]
  }
  int64_t diagonal_coordinates() const override { return u_.size() == 2 ? d_ : 0; }
  void set_diagonal_point(std::span<T> buf, const std::vector<double>& w) const override {
    const ParamStore<T>& ps = this->params_;
    for (int64_t i = 0; i < d_; ++i) {
      buf[ps.info(u_[0]).offset + i] = static_cast<T>(w[i]);
      buf[ps.info(u_[1]).offset + i] = T(1);
    }
  }
  void diagonal_gradient(std::span<const T> g, std::vector<double>& out) const override {
    const int64_t o = this->params_.info(u_[0]).offset;
    out.assign(g.begin() + o, g.begin() + o + d_);
  }

 protected:
  std::vector<ProbedMatrix> products() const override { return {{"end_to_end", d_, d_, -1}}; }
  void product(const ProbedMatrix&, std::span<const T> buf, double* out) const override {
    std::vector<double> w(static_cast<size_t>(d_), 1.0);
    for (int i : u_) {
      const auto f = param_copy(this->params_, i, buf);
      for (int64_t j = 0; j < d_; ++j) w[j] *= f[j];
    }
    std::fill(out, out + d_ * d_, 0.0);
    for (int64_t j = 0; j < d_; ++j) out[j * d_ + j] = w[j];
  }

 private:
  int64_t d_;
  std::vector<int> u_;
};

// ---------------------------------------------------------------------------------------------
template <class T>
class DiagAttention final : public Model<T>, public DiagonalNetwork<T> {
 public:
  DiagAttention(const ModelConfig& c, const ModelShape& s, uint64_t seed)
      : L_(s.seq_len), d_(s.features / s.seq_len) {
    ParamStore<T>& ps = this->params_;
    q_ = ps.add("attn.w_Q", {d_});
    k_ = ps.add("attn.w_K", {d_});
    v_ = ps.add("attn.w_V", {d_});
    o_ = ps.add("attn.w_O", {d_});
    ps.finalize();
    Rng rng(seed, "init");
    for (int i : {q_, k_, v_, o_}) rng.fill_normal(ps.value(i).data, d_, 0.0, c.init_scale);
    ps.save_initial();
  }
  int64_t outputs() const override { return d_; }
  Var forward(Tape<T>& t, const Batch& b) override {
    ParamStore<T>& ps = this->params_;
    const int64_t N = b.n;
    Var X = reshape(t, b.x, Shape{N, L_, d_});                                     // [N, L, d]
    Var q = reshape(t, mul(t, select_last(t, X), ps.on(t, q_)), Shape{N, 1, d_});  // [N, 1, d]
    Var k = mul(t, X, ps.on(t, k_));                                               // [N, L, d]
    Var v = mul(t, X, ps.on(t, v_));                                               // [N, L, d]
    Var a = attention(t, q, k, v, 1, false);                                       // [N, 1, d]
    return mul(t, reshape(t, a, Shape{N, d_}), ps.on(t, o_));                      // [N, d]
  }
  // w = (w_Q (.) w_K, w_V (.) w_O): 2d coordinates, named QK[i] and VO[i].
  int64_t diagonal_coordinates() const override { return 2 * d_; }
  std::string coordinate_name(int64_t c) const override {
    return c < d_ ? fmt::format("QK[{}]", c) : fmt::format("VO[{}]", c - d_);
  }
  void set_diagonal_point(std::span<T> buf, const std::vector<double>& w) const override {
    const ParamStore<T>& ps = this->params_;
    for (int64_t i = 0; i < d_; ++i) {
      buf[ps.info(q_).offset + i] = static_cast<T>(w[i]);
      buf[ps.info(k_).offset + i] = T(1);
      buf[ps.info(v_).offset + i] = static_cast<T>(w[d_ + i]);
      buf[ps.info(o_).offset + i] = T(1);
    }
  }
  void diagonal_gradient(std::span<const T> g, std::vector<double>& out) const override {
    const ParamStore<T>& ps = this->params_;
    out.resize(static_cast<size_t>(2 * d_));
    for (int64_t i = 0; i < d_; ++i) {
      out[i] = double(g[ps.info(q_).offset + i]);
      out[d_ + i] = double(g[ps.info(v_).offset + i]);
    }
  }

 protected:
  std::vector<ProbedMatrix> products() const override {
    return {{"attn.QK", d_, d_, -1}, {"attn.VO", d_, d_, -1}};
  }
  void product(const ProbedMatrix& m, std::span<const T> buf, double* out) const override {
    const bool qk = m.name == "attn.QK";
    const auto a = param_copy(this->params_, qk ? q_ : v_, buf);
    const auto b = param_copy(this->params_, qk ? k_ : o_, buf);
    std::fill(out, out + d_ * d_, 0.0);
    for (int64_t j = 0; j < d_; ++j) out[j * d_ + j] = a[j] * b[j];
  }

 private:
  int64_t L_, d_;
  int q_ = -1, k_ = -1, v_ = -1, o_ = -1;
};

// ---------------------------------------------------------------------------------------------
// deep_linear and matrix_factorization: a chain of weight matrices.
template <class T>
class LinearChain final : public Model<T>, public LinearNetwork {
 public:
  LinearChain(const ModelConfig& c, const ModelShape& s, uint64_t seed)
      : factorization_(c.type == "matrix_factorization") {
    ParamStore<T>& ps = this->params_;
    const int64_t n = factorization_ ? static_cast<int64_t>(std::lround(std::sqrt(s.vocab))) : 0;
    const int64_t in = factorization_ ? n : s.features, out = factorization_ ? n : s.out_dim;
    const int64_t width = factorization_ ? n : (c.width > 0 ? c.width : s.features);
    n_ = n;
    for (int64_t l = 0; l < c.depth; ++l) {
      const int64_t r = l == 0 ? in : width, k = l == c.depth - 1 ? out : width;
      dims_.push_back(r);
      W_.push_back(
          ps.add(fmt::format("{}.{}.W", factorization_ ? "factors" : "layers", l), {r, k}));
    }
    dims_.push_back(out);
    ps.finalize();
    Rng rng(seed, "init");
    for (int i : W_) {
      Tensor<T> w = ps.value(i);
      if (c.init == InitScheme::identity) {
        for (int64_t j = 0; j < std::min(w.shape[0], w.shape[1]); ++j)
          w.data[j * w.shape[1] + j] = static_cast<T>(c.init_scale);
      } else {
        rng.fill_normal(w.data, w.numel(), 0.0, c.init_scale / std::sqrt(double(w.shape[0])));
      }
    }
    ps.save_initial();
  }
  int64_t outputs() const override { return factorization_ ? 1 : dims_.back(); }
  int64_t linear_depth() const override {
    return factorization_ ? 0 : static_cast<int64_t>(W_.size());
  }
  Var forward(Tape<T>& t, const Batch& b) override {
    ParamStore<T>& ps = this->params_;
    if (!factorization_) {
      Var y = b.x;  // [N, d_in]; named layers.{l}.hook_out, each layer's output
      for (size_t l = 0; l < W_.size(); ++l)
        y = this->named(linear(t, y, ps.on(t, W_[l])), "hook_out", static_cast<int64_t>(l),
                        "layers");
      return y;  // [N, d_out]
    }
    Var P = ps.on(t, W_[0]);
    for (size_t l = 1; l < W_.size(); ++l) P = matmul(t, P, ps.on(t, W_[l]));  // [n, n]
    return embedding(t, b.ids, Shape{b.n}, reshape(t, P, Shape{n_ * n_, 1}));  // [N, 1]
  }

 protected:
  std::vector<ProbedMatrix> products() const override {
    return {{"end_to_end", dims_.front(), dims_.back(), -1}};
  }
  void product(const ProbedMatrix&, std::span<const T> buf, double* out) const override {
    std::vector<double> P = param_copy(this->params_, W_[0], buf), next;
    for (size_t l = 1; l < W_.size(); ++l) {
      matmul_into(P, param_copy(this->params_, W_[l], buf), dims_.front(), dims_[l], dims_[l + 1],
                  next);
      P.swap(next);
    }
    std::copy(P.begin(), P.end(), out);
  }

 private:
  bool factorization_;
  int64_t n_ = 0;
  std::vector<int64_t> dims_;  // [in, width..., out]
  std::vector<int> W_;
};

void validate_linear_model(const ModelConfig& c) {
  auto bad = bad_model_option;
  if (c.depth < 1) bad("depth", std::to_string(c.depth), "an integer >= 1");
  if (c.type == "diagonal" && c.depth < 2)
    bad("depth", std::to_string(c.depth), "an integer >= 2 (factors of w = u (.) v ...)");
  if (c.width < 0) bad("width", std::to_string(c.width), "an integer >= 0 (0: input dimension)");
  const bool chain = c.type == "deep_linear" || c.type == "matrix_factorization";
  if (c.init != InitScheme::normal && !(chain && c.init == InitScheme::identity))
    bad("init", quoted("model.init", c.init),
        chain ? "normal, identity" : "normal (" + c.type + ")");
}

void reads_real_inputs(const ModelConfig& c, const ModelShape& s) {
  if (s.features == 0)
    throw std::invalid_argument("model.type = \"" + c.type +
                                "\" reads real inputs (task.name = \"diagonal_teacher\" or "
                                "\"lowrank_teacher\")");
}

void check_diagonal(const ModelConfig& c, const ModelShape& s) {
  reads_real_inputs(c, s);
  if (s.out_dim != 1)
    throw std::invalid_argument(
        "model.type = \"diagonal\" has one output (task.name = \"diagonal_teacher\")");
}

void check_diag_attention(const ModelConfig& c, const ModelShape& s) {
  reads_real_inputs(c, s);
  if (s.seq_len < 1)
    throw std::invalid_argument(
        "model.type = \"diag_attention\" reads sequences (task.teacher = \"attention\")");
}

void check_deep_linear(const ModelConfig& c, const ModelShape& s) {
  reads_real_inputs(c, s);
  if (s.seq_len > 0)
    throw std::invalid_argument("model.type = \"deep_linear\" reads vectors, not sequences");
  if (c.init == InitScheme::identity) {
    const int64_t w = c.width > 0 ? c.width : s.features;
    if (w != s.features || s.out_dim != s.features)
      throw std::invalid_argument(fmt::format(
          "model.init = \"identity\" needs square layers: model.width = {} and output {} must "
          "equal the input dimension {}",
          w, s.out_dim, s.features));
  }
}

void check_matrix_factorization(const ModelConfig&, const ModelShape& s) {
  if (s.features > 0 || s.length != 1)
    throw std::invalid_argument(
        "model.type = \"matrix_factorization\" reads matrix entries (task.name = "
        "\"matrix_completion\")");
}

}  // namespace

ModelFamily diagonal_model() {
  return model_entry<Diagonal>("diagonal", &validate_linear_model, &check_diagonal);
}
ModelFamily diag_attention_model() {
  return model_entry<DiagAttention>("diag_attention", &validate_linear_model,
                                    &check_diag_attention);
}
ModelFamily deep_linear_model() {
  return model_entry<LinearChain>("deep_linear", &validate_linear_model, &check_deep_linear);
}
ModelFamily matrix_factorization_model() {
  return model_entry<LinearChain>("matrix_factorization", &validate_linear_model,
                                  &check_matrix_factorization);
}

}  // namespace gradscope
