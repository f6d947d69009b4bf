// The optimizers on a device: see device_optimizer.h.
#include "gradscope/optim/device_optimizer.h"

#include <cmath>
#include <cstring>

#include "gradscope/cuda/kernels.h"
#include "gradscope/cuda/reductions.h"

namespace gradscope {
namespace {

// total[0] = ||x||^2 in double: the squares, then a tree of fixed chunks (cuda/reductions.h).
// scratch: n squares, then the tree's levels.
template <class T>
void queue_square_norm(DeviceContext& d, const T* x, int64_t n, double* scratch, double* total) {
  d.launch(kernels::SquareTerms<T>{x, scratch}, n);
  queue_tree_sum<T>(d, scratch, n, scratch + n, 1.0, nullptr, total);
}

}  // namespace

int64_t device_norm_scratch(int64_t n) {
  return n + tree_scratch(n) + 1;
}

template <class T>
double device_l2_norm(DeviceContext& device, const T* x, int64_t n, double* scratch) {
  double* total = scratch + n + tree_scratch(n);
  queue_square_norm(device, x, n, scratch, total);
  double out = 0;
  device.download(&out, total, sizeof(double));
  return std::sqrt(out);
}

template <class T>
DeviceOptimizer<T>::DeviceOptimizer(Optimizer<T>& host, const OptimizerConfig& config, int64_t n,
                                    DeviceContext* device)
    : host_(host), c_(config), n_(n), dev_(device) {
  for (auto& s : host_.state())
    state_.push_back(static_cast<T*>(dev_->allocate(s.second.size_bytes())));
  scalars_ = static_cast<double*>(dev_->allocate(4 * sizeof(double)));
  host_scalars_ = static_cast<double*>(dev_->allocate_pinned(4 * sizeof(double)));
  scratch_ = static_cast<double*>(dev_->allocate(device_norm_scratch(n) * sizeof(double)));
  upload_state();
}

template <class T>
DeviceOptimizer<T>::~DeviceOptimizer() {
  for (T* p : state_) dev_->deallocate(p);
  dev_->deallocate(scalars_);
  dev_->deallocate(scratch_);
  dev_->deallocate_pinned(host_scalars_);
}

template <class T>
void DeviceOptimizer<T>::upload_state() {
  auto host = host_.state();
  for (size_t i = 0; i < state_.size(); ++i)
    dev_->upload(state_[i], host[i].second.data(), host[i].second.size_bytes());
  dev_->sync();
}

template <class T>
void DeviceOptimizer<T>::download_state() {
  auto host = host_.state();
  for (size_t i = 0; i < state_.size(); ++i)
    dev_->download(host[i].second.data(), state_[i], host[i].second.size_bytes());
}

// The numbers the host optimizer computes for this step (optim/optimizer.cpp), as doubles.
template <class T>
void DeviceOptimizer<T>::prepare(double lr) {
  const int64_t t = host_.steps() + 1;
  for (int i = 0; i < 4; ++i) host_scalars_[i] = 0;
  if (c_.name == "sgd") {
    host_scalars_[0] = lr;
    host_scalars_[1] = t == 1 ? 1.0 : 0.0;
  } else {
    host_scalars_[0] = lr / (1.0 - std::pow(c_.beta1, double(t)));
    host_scalars_[1] = std::sqrt(1.0 - std::pow(c_.beta2, double(t)));
    host_scalars_[2] = 1.0 - lr * c_.weight_decay;
  }
  // Rounded to T as the host rounds them, then carried as doubles.
  for (int i = 0; i < 4; ++i) host_scalars_[i] = double(static_cast<T>(host_scalars_[i]));
  dev_->upload(scalars_, host_scalars_, 4 * sizeof(double));
  host_.set_steps(t);
}

template <class T>
void DeviceOptimizer<T>::update(T* p, T* g) {
  if (c_.clip_norm > 0) {
    double* total = scratch_ + n_ + tree_scratch(n_);
    queue_square_norm(*dev_, static_cast<const T*>(g), n_, scratch_, total);
    dev_->launch(kernels::ClipScale<T>{g, total, c_.clip_norm}, n_);
  }
  const T wd = static_cast<T>(c_.weight_decay);
  if (c_.name == "sgd") {
    dev_->launch(
        kernels::SgdUpdate<T>{p, g, state_.empty() ? nullptr : state_[0], scalars_, wd,
                              static_cast<T>(c_.momentum), static_cast<T>(1.0 - c_.dampening),
                              c_.weight_decay != 0, c_.nesterov},
        n_);
    return;
  }
  const T b1 = static_cast<T>(c_.beta1), b2 = static_cast<T>(c_.beta2);
  const T one_b1 = static_cast<T>(1.0 - c_.beta1), one_b2 = static_cast<T>(1.0 - c_.beta2);
  const T eps = static_cast<T>(c_.eps);
  if (c_.name == "adamw")
    dev_->launch(kernels::AdamUpdate<T, true>{p, g, state_[0], state_[1], scalars_, wd, b1, b2,
                                              one_b1, one_b2, eps, c_.weight_decay != 0},
                 n_);
  else
    dev_->launch(kernels::AdamUpdate<T, false>{p, g, state_[0], state_[1], scalars_, wd, b1, b2,
                                               one_b1, one_b2, eps, c_.weight_decay != 0},
                 n_);
}

template class DeviceOptimizer<float>;
template class DeviceOptimizer<double>;
template double device_l2_norm<float>(DeviceContext&, const float*, int64_t, double*);
template double device_l2_norm<double>(DeviceContext&, const double*, int64_t, double*);

}  // namespace gradscope
