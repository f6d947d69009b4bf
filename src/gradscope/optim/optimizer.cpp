// SGD, Adam and AdamW: see optimizer.h. The arithmetic follows torch/optim/{sgd,adam,adamw}.py
// (1.13, foreach=False) operation by operation (the kernels in cuda/kernels.h), so float32
// results match PyTorch's to rounding.
#include "gradscope/optim/optimizer.h"

#include <cmath>
#include <stdexcept>
#include <type_traits>

#if defined(__AVX__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "gradscope/cuda/kernels.h"
#include "gradscope/cuda/reductions.h"
#include "gradscope/tensor/threads.h"

namespace gradscope {
namespace {

constexpr int64_t kGrain = 1 << 15;

// The cpu's fast form of kernels::AdamUpdate<float> over [b, e): eight lanes at a time with AVX
// intrinsics, the same IEEE operations on each element as the kernel (compilers keep its loop
// scalar: sqrt's errno branch), so the same bits; the kernel itself does the tail.
template <bool kDecoupled>
void adam_lanes(const kernels::AdamUpdate<float, kDecoupled>& f, int64_t b, int64_t e) {
  int64_t i = b;
#if defined(__AVX__) && defined(__FMA__)
  const __m256 decay = _mm256_set1_ps(static_cast<float>(f.k[2])), wd = _mm256_set1_ps(f.wd);
  const __m256 b1 = _mm256_set1_ps(f.b1), b2 = _mm256_set1_ps(f.b2);
  const __m256 one_b1 = _mm256_set1_ps(f.one_b1), one_b2 = _mm256_set1_ps(f.one_b2);
  const __m256 bc2_sqrt = _mm256_set1_ps(static_cast<float>(f.k[1]));
  const __m256 eps = _mm256_set1_ps(f.eps);
  const __m256 step_size = _mm256_set1_ps(static_cast<float>(f.k[0]));
  for (; i + 8 <= e; i += 8) {
    __m256 pi = _mm256_loadu_ps(f.p + i), gi = _mm256_loadu_ps(f.g + i);
    if (f.has_wd) {
      if constexpr (kDecoupled)
        pi = _mm256_mul_ps(pi, decay);
      else
        gi = _mm256_fmadd_ps(wd, pi, gi);
    }
    const __m256 mi = _mm256_fmadd_ps(_mm256_loadu_ps(f.m + i), b1, _mm256_mul_ps(one_b1, gi));
    const __m256 vi =
        _mm256_fmadd_ps(_mm256_loadu_ps(f.v + i), b2, _mm256_mul_ps(_mm256_mul_ps(one_b2, gi), gi));
    const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), bc2_sqrt), eps);
    pi = _mm256_fnmadd_ps(step_size, _mm256_div_ps(mi, denom), pi);
    _mm256_storeu_ps(f.m + i, mi);
    _mm256_storeu_ps(f.v + i, vi);
    _mm256_storeu_ps(f.p + i, pi);
  }
#endif
  for (; i < e; ++i) f(i);
}

// The Adam(W) kernel on `d`: the cpu's fast form for float, the kernel everywhere else.
template <class T, bool kDecoupled>
void launch_adam(DeviceContext& d, bool host, const kernels::AdamUpdate<T, kDecoupled>& f,
                 int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    if (host) return parallel_for(n, kGrain, [&](int64_t b, int64_t e) { adam_lanes(f, b, e); });
  }
  d.launch(f, n);
}

}  // namespace

template <class T>
Optimizer<T>::Optimizer(const OptimizerConfig& config, int64_t n, DeviceContext& device,
                        TensorSpans tensors)
    : c_(config), n_(n), tensors_(std::move(tensors)), dev_(device), host_(device.host_memory()) {
  c_.validate();
  if (c_.orthogonal && tensors_.empty())
    throw std::logic_error("optim.orthogonal: the optimizer was not told the parameter tensors");
  for (const auto& [offset, size] : tensors_)
    if (offset < 0 || size < 0 || offset + size > n)
      throw std::logic_error("optimizer: a parameter tensor outside the buffer");
  if (c_.name == OptimRule::sgd && c_.momentum != 0) momentum_ = add_buffer("momentum_buffer", n);
  if (c_.name != OptimRule::sgd) {
    m_ = add_buffer("exp_avg", n);
    v_ = add_buffer("exp_avg_sq", n);
  }
  if (c_.filter.kind == GradFilterKind::ema) ema_ = add_buffer("grad_ema", n);
  if (c_.filter.kind == GradFilterKind::ma) ring_ = add_buffer("grad_window", c_.filter.window * n);
  k_ = static_cast<double*>(dev_.allocate(4 * sizeof(double)));
  host_k_ = static_cast<double*>(dev_.allocate_pinned(4 * sizeof(double)));
  const auto sums = static_cast<int64_t>(4 * tensors_.size());
  scratch_ = static_cast<double*>(
      dev_.allocate((square_sum_scratch(dev_, n) + 2 + sums) * sizeof(double)));
  upload_state();
}

template <class T>
Optimizer<T>::~Optimizer() {
  dev_.sync();
  for (Buffer& b : buffers_)
    if (!host_) dev_.deallocate(b.data);
  dev_.deallocate(k_);
  dev_.deallocate(scratch_);
  dev_.deallocate_pinned(host_k_);
}

// A state buffer of `size` zeros: on the cpu the host vector itself, elsewhere a device copy.
template <class T>
T* Optimizer<T>::add_buffer(const std::string& name, int64_t size) {
  Buffer& b = buffers_.emplace_back();
  b.name = name;
  b.host.assign(static_cast<size_t>(size), T(0));
  b.data =
      host_ ? b.host.data() : static_cast<T*>(dev_.allocate(static_cast<size_t>(size) * sizeof(T)));
  return b.data;
}

template <class T>
void Optimizer<T>::upload_state() {
  if (host_) return;
  for (Buffer& b : buffers_) dev_.upload(b.data, b.host.data(), b.host.size() * sizeof(T));
  dev_.sync();
}

template <class T>
void Optimizer<T>::download_state() {
  if (host_) return;
  for (Buffer& b : buffers_) dev_.download(b.host.data(), b.data, b.host.size() * sizeof(T));
}

template <class T>
std::span<const T> Optimizer<T>::second_moments() {
  for (Buffer& b : buffers_) {
    if (b.name != "exp_avg_sq") continue;
    if (!host_) dev_.download(b.host.data(), b.data, b.host.size() * sizeof(T));
    return b.host;
  }
  return {};
}

template <class T>
std::vector<std::pair<std::string, std::span<T>>> Optimizer<T>::state() {
  std::vector<std::pair<std::string, std::span<T>>> all;
  for (Buffer& b : buffers_) all.emplace_back(b.name, std::span<T>(b.host));
  return all;
}

// k = [lr or lr / (1 - b1^t), first step or sqrt(1 - b2^t), 1 - lr * wd, gradients seen], each
// rounded to T as the update rounds them, then carried as doubles.
template <class T>
void Optimizer<T>::prepare(double lr) {
  const int64_t t = steps_ + 1;
  double* k = host_k_;
  k[3] = double(steps_);
  if (c_.name == OptimRule::sgd) {
    k[0] = lr;
    k[1] = t == 1 ? 1.0 : 0.0;
    k[2] = 0;
  } else {
    k[0] = lr / (1.0 - std::pow(c_.beta1, double(t)));
    k[1] = std::sqrt(1.0 - std::pow(c_.beta2, double(t)));
    k[2] = 1.0 - lr * c_.weight_decay;
  }
  for (int i = 0; i < 3; ++i) k[i] = double(static_cast<T>(k[i]));
  if (host_) dev_.upload(k_, host_k_, 4 * sizeof(double));  // off the cpu: read_numbers()
  steps_ = t;
}

// Off the cpu the update's first kernel reads the numbers from page-locked host memory (which a
// GPU reads directly), so that a step queues no copy of its own: a captured update reads them
// when it runs, and a replica group's K updates read theirs in one stacked launch.
template <class T>
void Optimizer<T>::read_numbers() {
  if (!host_) dev_.launch(kernels::Copy<double>{host_k_, k_, false}, 4);
}

template <class T>
void Optimizer<T>::apply(T* p, T* g) {
  read_numbers();
  if (c_.orthogonal) orthogonalize(p, g);
  filter(g);
  if (c_.clip_norm > 0) {
    double* total = scratch_ + square_sum_scratch(dev_, n_);
    queue_square_sum(dev_, static_cast<const T*>(g), n_, scratch_, total);
    dev_.launch(kernels::ClipScale<T>{g, total, c_.clip_norm}, n_);
  }
  rule(p, g);
  if (c_.weight_norm > 0) constrain_norm(p);
}

template <class T>
void Optimizer<T>::update(std::span<T> params, std::span<T> grads, double lr) {
  prepare(lr);
  apply(params.data(), grads.data());
}

template <class T>
void Optimizer<T>::step(std::span<T> params, std::span<const T> grads, double lr) {
  prepare(lr);
  read_numbers();
  rule(params.data(), grads.data());
}

// OrthoGrad, tensor by tensor: d = [g.w, w.w, g.g] (double sums in the backend's fixed order), g
// loses its component along w, then |g_orth|^2 into d[3] and g is rescaled to |g| (kernels.h).
template <class T>
void Optimizer<T>::orthogonalize(const T* p, T* g) {
  double* d = scratch_ + square_sum_scratch(dev_, n_) + 2;
  for (const auto& [offset, size] : tensors_) {
    const T* w = p + offset;
    T* gt = g + offset;
    queue_dot(dev_, static_cast<const T*>(gt), w, size, scratch_, d);
    queue_dot(dev_, w, w, size, scratch_, d + 1);
    queue_dot(dev_, static_cast<const T*>(gt), static_cast<const T*>(gt), size, scratch_, d + 2);
    dev_.launch(kernels::OrthoProject<T>{gt, w, d}, size);
    queue_dot(dev_, static_cast<const T*>(gt), static_cast<const T*>(gt), size, scratch_, d + 3);
    dev_.launch(kernels::OrthoScale<T>{gt, d}, size);
    d += 4;
  }
}

// Grokfast (grad_filter.h): the EMA in one pass; the MA stores the gradient in its ring, then
// adds the window's mean once the ring is full.
template <class T>
void Optimizer<T>::filter(T* g) {
  const GradFilterConfig& f = c_.filter;
  const T lambda = static_cast<T>(f.lambda);
  if (ema_)
    dev_.launch(kernels::GradEma<T>{g, ema_, k_, static_cast<T>(f.alpha),
                                    static_cast<T>(1.0 - f.alpha), lambda},
                n_);
  if (!ring_) return;
  dev_.launch(kernels::GradWindowStore<T>{g, ring_, k_, n_, f.window}, n_);
  dev_.launch(
      kernels::GradWindowMean<T>{g, ring_, k_, n_, f.window, static_cast<T>(f.window), lambda}, n_);
}

template <class T>
void Optimizer<T>::rule(T* p, const T* g) {
  const T wd = static_cast<T>(c_.weight_decay);
  const bool has_wd = c_.weight_decay != 0;
  if (c_.name == OptimRule::sgd)
    return dev_.launch(
        kernels::SgdUpdate<T>{p, g, momentum_, k_, wd, static_cast<T>(c_.momentum),
                              static_cast<T>(1.0 - c_.dampening), has_wd, c_.nesterov},
        n_);
  const T b1 = static_cast<T>(c_.beta1), b2 = static_cast<T>(c_.beta2);
  const T one_b1 = static_cast<T>(1.0 - c_.beta1), one_b2 = static_cast<T>(1.0 - c_.beta2);
  const T eps = static_cast<T>(c_.eps);
  if (c_.name == OptimRule::adamw)
    launch_adam(
        dev_, host_,
        kernels::AdamUpdate<T, true>{p, g, m_, v_, k_, wd, b1, b2, one_b1, one_b2, eps, has_wd},
        n_);
  else
    launch_adam(
        dev_, host_,
        kernels::AdamUpdate<T, false>{p, g, m_, v_, k_, wd, b1, b2, one_b1, one_b2, eps, has_wd},
        n_);
}

// Omnigrok: params *= weight_norm / ||params||.
template <class T>
void Optimizer<T>::constrain_norm(T* p) {
  double* total = scratch_ + square_sum_scratch(dev_, n_) + 1;
  queue_square_sum(dev_, static_cast<const T*>(p), n_, scratch_, total);
  dev_.launch(kernels::NormScale<T>{p, total, c_.weight_norm}, n_);
}

void OptimizerConfig::validate() const {  // each key's range is the schema's
  if (nesterov && (momentum <= 0 || dampening != 0))
    throw std::invalid_argument(
        "optim.nesterov = true needs optim.momentum > 0 and optim.dampening = 0");
}

template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const OptimizerConfig& c, int64_t n,
                                             DeviceContext& device, TensorSpans tensors) {
  c.validate();
  return std::make_unique<Optimizer<T>>(c, n, device, std::move(tensors));
}

template class Optimizer<float>;
template class Optimizer<double>;
template std::unique_ptr<Optimizer<float>> make_optimizer<float>(const OptimizerConfig&, int64_t,
                                                                 DeviceContext&, TensorSpans);
template std::unique_ptr<Optimizer<double>> make_optimizer<double>(const OptimizerConfig&, int64_t,
                                                                   DeviceContext&, TensorSpans);

}  // namespace gradscope
