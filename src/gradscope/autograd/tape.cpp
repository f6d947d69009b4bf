// Tape implementation: see tape.h.
#include "gradscope/autograd/tape.h"

#include "gradscope/tensor/threads.h"

#include <cstring>
#include <stdexcept>

namespace gradscope {

template <class T>
Tape<T>::Tape(Arena& arena) : arena_(arena) {
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
  } else {  // zero-filled on all threads: large activation gradients are megabytes
    const int64_t n = r.value.numel();
    T* g = arena_.alloc<T>(n);
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
  r.grad = arena_.alloc<T>(r.value.numel());
  return r.grad;
}

template <class T>
void Tape<T>::backward(Var loss) {
  if (shape(loss).numel() != 1)
    throw ShapeError("backward: loss must be a scalar, got " + shape(loss).str());
  const T one(1);
  backward(loss, &one);
}

template <class T>
void Tape<T>::backward(Var y, const T* dy) {
  if (!requires_grad(y)) return;
  Rec& r = recs_[y.id];
  const int64_t n = r.value.numel();
  if (!r.grad && r.base < 0) {  // fresh activation: copy the seed instead of zeroing and adding
    r.grad = arena_.alloc<T>(n);
    std::memcpy(r.grad, dy, static_cast<size_t>(n) * sizeof(T));
  } else {
    T* g = grad(y);
    for (int64_t i = 0; i < n; ++i) g[i] += dy[i];
  }
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
    // A node whose output received no gradient contributes nothing: skip it. (Op outputs are
    // never views, so their own grad pointer tells.)
    if (recs_[it->out].grad) it->backward(*this, *it);
  }
}

template <class T>
void Tape<T>::reset() {
  recs_.clear();
  nodes_.clear();
  arena_.reset();
}

template class Tape<float>;
template class Tape<double>;

}  // namespace gradscope
