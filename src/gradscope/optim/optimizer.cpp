// SGD, Adam and AdamW: see optimizer.h. The arithmetic follows torch/optim/{sgd,adam,adamw}.py
// (1.13, foreach=False) operation by operation, so float32 results match PyTorch's to rounding.
#include "gradscope/optim/optimizer.h"

#include <cmath>
#include <stdexcept>

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
  Sgd(const OptimizerConfig& c, int64_t n) : c_(c), buf_(c.momentum != 0 ? n : 0, T(0)) {}

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

  std::vector<std::pair<std::string, std::span<T>>> state() override {
    if (buf_.empty()) return {};
    return {{"momentum_buffer", buf_}};
  }

 private:
  OptimizerConfig c_;
  std::vector<T> buf_;  // [n] momentum buffer
};

template <class T, bool kDecoupled>
class AdamFamily final : public Optimizer<T> {
 public:
  AdamFamily(const OptimizerConfig& c, int64_t n) : c_(c), m_(n, T(0)), v_(n, T(0)) {}

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
    parallel_for(static_cast<int64_t>(p.size()), kGrain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        T gi = g[i];
        if (has_wd) {
          if constexpr (kDecoupled) {
            p[i] = p[i] * decay;
          } else {
            gi = gi + wd * p[i];
          }
        }
        m_[i] = m_[i] * b1 + one_b1 * gi;
        v_[i] = v_[i] * b2 + one_b2 * gi * gi;
        const T denom = std::sqrt(v_[i]) / bc2_sqrt + eps;
        p[i] = p[i] - step_size * (m_[i] / denom);
      }
    });
  }

  std::vector<std::pair<std::string, std::span<T>>> state() override {
    return {{"exp_avg", m_}, {"exp_avg_sq", v_}};
  }

 private:
  OptimizerConfig c_;
  std::vector<T> m_, v_;  // [n] first and second moments
};

}  // namespace

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
}

template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const OptimizerConfig& c, int64_t n) {
  c.validate();
  if (c.name == "sgd") return std::make_unique<Sgd<T>>(c, n);
  if (c.name == "adam") return std::make_unique<AdamFamily<T, false>>(c, n);
  return std::make_unique<AdamFamily<T, true>>(c, n);
}

template std::unique_ptr<Optimizer<float>> make_optimizer<float>(const OptimizerConfig&, int64_t);
template std::unique_ptr<Optimizer<double>> make_optimizer<double>(const OptimizerConfig&, int64_t);

}  // namespace gradscope
