// Tape implementation: see tape.h.
#include "gradscope/autograd/tape.h"

#include "gradscope/cuda/kernels.h"
#include "gradscope/tensor/threads.h"

#include <cstring>
#include <stdexcept>

namespace gradscope {

template <class T>
Tape<T>::Tape(Arena& arena, DeviceContext* device) : arena_(arena), device_(device) {
  if (static_cast<MemoryResource*>(device) != arena.memory())
    throw std::logic_error("Tape: the arena's memory is not the tape's device");
  recs_.reserve(1024);
  nodes_.reserve(1024);
}

template <class T>
Var Tape<T>::push(Rec rec) {
  recs_.push_back(rec);
  return Var{static_cast<int32_t>(recs_.size() - 1)};
}

template <class T>
Var Tape<T>::param(Tensor<T> value, T* grad) {
  Rec r;
  r.value = value;
  r.grad = grad_enabled_ ? grad : nullptr;
  r.requires_grad = grad_enabled_ && grad != nullptr;
  return push(r);
}

template <class T>
Var Tape<T>::constant(Tensor<T> value) {
  Rec r;
  r.value = value;
  return push(r);
}

template <class T>
Var Tape<T>::constant_table(const T* host, Shape shape) {
  if (!device_) return constant(Tensor<T>(const_cast<T*>(host), shape));
  const void* copy = device_->constant(host, static_cast<size_t>(shape.numel()) * sizeof(T));
  return constant(Tensor<T>(static_cast<T*>(const_cast<void*>(copy)), shape));
}

template <class T>
Var Tape<T>::make(Shape shape, bool requires_grad) {
  Rec r;
  r.value = Tensor<T>(arena_.alloc<T>(shape.numel()), shape);
  r.requires_grad = requires_grad && grad_enabled_;
  return push(r);
}

template <class T>
Var Tape<T>::view(Var base, int64_t offset, Shape shape) {
  const Rec& b = recs_[base.id];
  Rec r;
  r.value = Tensor<T>(b.value.data + offset, shape);
  r.base = b.base >= 0 ? b.base : base.id;  // always point at the storage owner
  r.offset = b.base >= 0 ? b.offset + offset : offset;
  r.requires_grad = b.requires_grad;
  return push(r);
}

template <class T>
T* Tape<T>::grad(Var v) {
  Rec& r = recs_[v.id];
  if (r.grad) return r.grad;
  if (!r.requires_grad) throw std::logic_error("Tape::grad: Var does not require grad");
  if (r.base >= 0) {
    r.grad = grad(Var{r.base}) + r.offset;
  } else if (device_) {
    const int64_t n = r.value.numel();
    r.grad = take_grad(n);
    device_->zero(r.grad, static_cast<size_t>(n) * sizeof(T));
  } else {  // zero-filled on all threads: large activation gradients are megabytes
    const int64_t n = r.value.numel();
    T* g = take_grad(n);
    parallel_for(n, int64_t{1} << 16, [g](int64_t i0, int64_t i1) {
      std::memset(g + i0, 0, static_cast<size_t>(i1 - i0) * sizeof(T));
    });
    r.grad = g;
  }
  return r.grad;
}

template <class T>
bool Tape<T>::adopt_grad(Var v, T* g) {
  Rec& r = recs_[v.id];
  if (r.grad || r.base >= 0 || !r.requires_grad) return false;
  r.grad = g;
  return true;
}

template <class T>
T* Tape<T>::grad_fresh(Var v, bool& fresh) {
  Rec& r = recs_[v.id];
  fresh = false;
  if (r.grad || r.base >= 0) return grad(v);
  if (!r.requires_grad) throw std::logic_error("Tape::grad_fresh: Var does not require grad");
  fresh = true;
  r.grad = take_grad(r.value.numel());
  return r.grad;
}

template <class T>
T* Tape<T>::take_grad(int64_t n) {
  auto it = free_grads_.find(n);
  if (it == free_grads_.end() || it->second.empty()) return arena_.alloc<T>(n);
  T* g = it->second.back();
  it->second.pop_back();
  return g;
}

template <class T>
void Tape<T>::release_output_grad(const Node<T>& node) {
  Rec& r = recs_[node.out];
  if (!r.grad || r.base >= 0) return;
  for (int32_t in : node.in)
    if (in >= 0 && recs_[in].grad == r.grad) return;  // adopted: the input's gradient now
  free_grads_[r.value.numel()].push_back(r.grad);
  r.grad = nullptr;
}

template <class T>
void Tape<T>::backward(Var loss) {
  if (shape(loss).numel() != 1)
    throw ShapeError("backward: loss must be a scalar, got " + shape(loss).str());
  if (device_ && requires_grad(loss)) {  // the seed written on the device: capture-safe
    Rec& r = recs_[loss.id];
    if (!r.grad) r.grad = arena_.alloc<T>(1);
    device_->launch(kernels::Fill<T>{r.grad, T(1)}, 1);
    run_backward();
    return;
  }
  const T one(1);
  backward(loss, &one);
}

template <class T>
void Tape<T>::backward(Var y, const T* dy) {
  if (!requires_grad(y)) return;
  Rec& r = recs_[y.id];
  const int64_t n = r.value.numel();
  if (device_) {  // the seed uploaded, then added
    T* seed = arena_.alloc<T>(n);
    device_->upload(seed, dy, static_cast<size_t>(n) * sizeof(T));
    device_->launch(kernels::Copy<T>{seed, grad(y), true}, n);
  } else if (!r.grad && r.base < 0) {  // a fresh activation: copy the seed, no zeroing and adding
    r.grad = arena_.alloc<T>(n);
    std::memcpy(r.grad, dy, static_cast<size_t>(n) * sizeof(T));
  } else {
    T* g = grad(y);
    for (int64_t i = 0; i < n; ++i) g[i] += dy[i];
  }
  run_backward();
}

template <class T>
void Tape<T>::run_backward() {
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
    // A node whose output received no gradient contributes nothing: skip it. (Op outputs are
    // never views, so their own grad pointer tells.)
    if (!recs_[it->out].grad) continue;
    it->backward(*this, *it);
    release_output_grad(*it);
  }
}

template <class T>
void Tape<T>::set_kinks(KinkPatterns* kinks) {
  if (kinks && device_) throw std::logic_error("kink patterns are read on the host");
  kinks_ = kinks;
  if (kinks_) kinks_->restart();
}

template <class T>
void Tape<T>::reset() {
  if (kinks_) kinks_->restart();
  recs_.clear();
  nodes_.clear();
  for (auto& [n, buffers] : free_grads_) buffers.clear();  // capacity kept: no allocation next step
  arena_.reset();
}

template class Tape<float>;
template class Tape<double>;

}  // namespace gradscope
