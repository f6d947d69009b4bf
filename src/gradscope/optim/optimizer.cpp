// SGD, Adam and AdamW: see optimizer.h. The arithmetic follows torch/optim/{sgd,adam,adamw}.py
// (1.13, foreach=False) operation by operation, so float32 results match PyTorch's to rounding.
#include "gradscope/optim/optimizer.h"

#include <cmath>
#include <stdexcept>
#include <type_traits>

#if defined(__AVX__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "gradscope/optim/schedule.h"
#include "gradscope/tensor/threads.h"

namespace gradscope {
namespace {

constexpr int64_t kGrain = 1 << 15;

[[noreturn]] void bad(const std::string& key, double value, const std::string& valid) {
  throw std::invalid_argument("optim." + key + " = " + std::to_string(value) + " (valid: " + valid +
                              ")");
}

template <class T>
class Sgd final : public Optimizer<T> {
 public:
  Sgd(const OptimizerConfig& c, int64_t n)
      : Optimizer<T>(c, n), buf_(c.momentum != 0 ? n : 0, T(0)) {}

  void step(std::span<T> p, std::span<const T> g, double lr) override {
    const bool first = this->steps_ == 0;
    const T wd = static_cast<T>(c_.weight_decay), mom = static_cast<T>(c_.momentum);
    const T damp = static_cast<T>(1.0 - c_.dampening), rate = static_cast<T>(lr);
    parallel_for(static_cast<int64_t>(p.size()), kGrain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        T d = g[i];
        if (c_.weight_decay != 0) d = d + wd * p[i];
        if (c_.momentum != 0) {
          buf_[i] = first ? d : buf_[i] * mom + damp * d;
          d = c_.nesterov ? d + mom * buf_[i] : buf_[i];
        }
        p[i] = p[i] - rate * d;
      }
    });
    ++this->steps_;
  }

  std::vector<std::pair<std::string, std::span<T>>> rule_state() override {
    if (buf_.empty()) return {};
    return {{"momentum_buffer", buf_}};
  }

 private:
  using Optimizer<T>::c_;
  std::vector<T> buf_;  // [n] momentum buffer
};

template <class T>
struct Coefficients {
  T step_size, bc2_sqrt, decay, wd, b1, b2, one_b1, one_b2, eps;
  bool has_wd;
};

// One Adam(W) pass over n parameters, in the operation order of torch/optim/adamw.py, with the
// multiply-adds fused where GCC fuses them in the plain loop (m * b1 + r, v * b2 + r and
// p - s * q), written out with fma so every build rounds alike. Compilers keep the plain loop
// scalar (sqrt's errno branch), so for float it runs eight lanes at a time with AVX intrinsics:
// the same IEEE operations on each element, so the same bits; the scalar loop does the rest.
template <bool kDecoupled, class T>
void update(const Coefficients<T>& k, T* __restrict p, const T* __restrict g, T* __restrict m,
            T* __restrict v, int64_t n) {
  int64_t i = 0;
#if defined(__AVX__) && defined(__FMA__)
  if constexpr (std::is_same_v<T, float>) {
    const __m256 decay = _mm256_set1_ps(k.decay), wd = _mm256_set1_ps(k.wd);
    const __m256 b1 = _mm256_set1_ps(k.b1), b2 = _mm256_set1_ps(k.b2);
    const __m256 one_b1 = _mm256_set1_ps(k.one_b1), one_b2 = _mm256_set1_ps(k.one_b2);
    const __m256 bc2_sqrt = _mm256_set1_ps(k.bc2_sqrt), eps = _mm256_set1_ps(k.eps);
    const __m256 step_size = _mm256_set1_ps(k.step_size);
    for (; i + 8 <= n; i += 8) {
      __m256 pi = _mm256_loadu_ps(p + i), gi = _mm256_loadu_ps(g + i);
      if (k.has_wd) {
        if constexpr (kDecoupled)
          pi = _mm256_mul_ps(pi, decay);
        else
          gi = _mm256_fmadd_ps(wd, pi, gi);
      }
      const __m256 mi = _mm256_fmadd_ps(_mm256_loadu_ps(m + i), b1, _mm256_mul_ps(one_b1, gi));
      const __m256 vi =
          _mm256_fmadd_ps(_mm256_loadu_ps(v + i), b2, _mm256_mul_ps(_mm256_mul_ps(one_b2, gi), gi));
      const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), bc2_sqrt), eps);
      pi = _mm256_fnmadd_ps(step_size, _mm256_div_ps(mi, denom), pi);
      _mm256_storeu_ps(m + i, mi);
      _mm256_storeu_ps(v + i, vi);
      _mm256_storeu_ps(p + i, pi);
    }
  }
#endif
  for (; i < n; ++i) {
    T gi = g[i];
    if (k.has_wd) {
      if constexpr (kDecoupled) {
        p[i] = p[i] * k.decay;
      } else {
        gi = std::fma(k.wd, p[i], gi);
      }
    }
    m[i] = std::fma(m[i], k.b1, k.one_b1 * gi);
    v[i] = std::fma(v[i], k.b2, k.one_b2 * gi * gi);
    const T denom = std::sqrt(v[i]) / k.bc2_sqrt + k.eps;
    p[i] = std::fma(-k.step_size, m[i] / denom, p[i]);
  }
}

template <class T, bool kDecoupled>
class AdamFamily final : public Optimizer<T> {
 public:
  AdamFamily(const OptimizerConfig& c, int64_t n) : Optimizer<T>(c, n), m_(n, T(0)), v_(n, T(0)) {}

  void step(std::span<T> p, std::span<const T> g, double lr) override {
    const int64_t t = ++this->steps_;
    const double bc1 = 1.0 - std::pow(c_.beta1, static_cast<double>(t));
    const double bc2 = 1.0 - std::pow(c_.beta2, static_cast<double>(t));
    const T step_size = static_cast<T>(lr / bc1);
    const T bc2_sqrt = static_cast<T>(std::sqrt(bc2));
    const T decay = static_cast<T>(1.0 - lr * c_.weight_decay);  // AdamW
    const T wd = static_cast<T>(c_.weight_decay);                // Adam (L2)
    const T b1 = static_cast<T>(c_.beta1), b2 = static_cast<T>(c_.beta2);
    const T one_b1 = static_cast<T>(1.0 - c_.beta1), one_b2 = static_cast<T>(1.0 - c_.beta2);
    const T eps = static_cast<T>(c_.eps);
    const bool has_wd = c_.weight_decay != 0;
    const Coefficients<T> k{step_size, bc2_sqrt, decay, wd, b1, b2, one_b1, one_b2, eps, has_wd};
    parallel_for(static_cast<int64_t>(p.size()), kGrain, [&](int64_t i0, int64_t i1) {
      update<kDecoupled>(k, p.data() + i0, g.data() + i0, m_.data() + i0, v_.data() + i0, i1 - i0);
    });
  }

  std::vector<std::pair<std::string, std::span<T>>> rule_state() override {
    return {{"exp_avg", m_}, {"exp_avg_sq", v_}};
  }

 private:
  using Optimizer<T>::c_;
  std::vector<T> m_, v_;  // [n] first and second moments
};

}  // namespace

template <class T>
void Optimizer<T>::update(std::span<T> params, std::span<T> grads, double lr) {
  filter_.apply(grads, steps_);
  if (c_.clip_norm > 0) clip_grad_norm<T>(grads, c_.clip_norm);
  step(params, grads, lr);
  if (c_.weight_norm <= 0) return;
  const T scale = static_cast<T>(c_.weight_norm / l2_norm<T>(params));
  parallel_for(static_cast<int64_t>(params.size()), kGrain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) params[i] = params[i] * scale;
  });
}

template <class T>
std::vector<std::pair<std::string, std::span<T>>> Optimizer<T>::state() {
  auto all = rule_state();
  for (auto& s : filter_.state()) all.push_back(s);
  return all;
}

void OptimizerConfig::validate() const {
  if (name != "sgd" && name != "adam" && name != "adamw")
    throw std::invalid_argument("optim.name = \"" + name + "\" (valid: sgd, adam, adamw)");
  if (!(lr >= 0) || !std::isfinite(lr)) bad("lr", lr, "a finite number >= 0");
  if (!(weight_decay >= 0) || !std::isfinite(weight_decay))
    bad("weight_decay", weight_decay, "a finite number >= 0");
  if (!(beta1 >= 0 && beta1 < 1)) bad("beta1", beta1, "[0, 1)");
  if (!(beta2 >= 0 && beta2 < 1)) bad("beta2", beta2, "[0, 1)");
  if (!(eps > 0)) bad("eps", eps, "> 0");
  if (!(momentum >= 0)) bad("momentum", momentum, ">= 0");
  if (!(dampening >= 0 && dampening <= 1)) bad("dampening", dampening, "[0, 1]");
  if (nesterov && (momentum <= 0 || dampening != 0))
    throw std::invalid_argument(
        "optim.nesterov = true needs optim.momentum > 0 and optim.dampening = 0");
  if (!(clip_norm >= 0)) bad("clip_norm", clip_norm, ">= 0 (0: off)");
  if (!(weight_norm >= 0) || !std::isfinite(weight_norm))
    bad("weight_norm", weight_norm, "> 0 (the fixed total norm), or 0 (off)");
  filter.validate();
}

template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const OptimizerConfig& c, int64_t n) {
  c.validate();
  if (c.name == "sgd") return std::make_unique<Sgd<T>>(c, n);
  if (c.name == "adam") return std::make_unique<AdamFamily<T, false>>(c, n);
  return std::make_unique<AdamFamily<T, true>>(c, n);
}

template class Optimizer<float>;
template class Optimizer<double>;
template std::unique_ptr<Optimizer<float>> make_optimizer<float>(const OptimizerConfig&, int64_t);
template std::unique_ptr<Optimizer<double>> make_optimizer<double>(const OptimizerConfig&, int64_t);

}  // namespace gradscope
