// Elementwise ops: add and mul (with trailing-dimension broadcast), scale, and the activations.
#include <cmath>
#include <numbers>

#include "gradscope/autograd/ops_common.h"

#include <cstring>

namespace gradscope {
namespace {

using detail::kGrain;

// Checks the broadcast rule and returns the broadcast length S (= numel of b).
template <class T>
int64_t broadcast_size(const Tape<T>& t, Var a, Var b, const char* op) {
  const Shape& as = t.shape(a);
  const Shape& bs = t.shape(b);
  if (!as.ends_with(bs))
    detail::shape_error(
        op, "a " + as.str() + " and b " + bs.str() + " (b must equal a's trailing dimensions)");
  return bs.numel();
}

// ---- add: y = a + b[broadcast] ----
// dy flows unchanged into a, and into b when it is not broadcast (S == total). The first such
// input with no gradient yet takes y's gradient buffer itself (Tape::adopt_grad); the other is
// stored (fresh) or added. A broadcast b gets the deterministic column sums.
template <class T>
void add_backward(Tape<T>& t, const Node<T>& n) {
  const Var a{n.in[0]}, b{n.in[1]}, y{n.out};
  const int64_t total = t.shape(a).numel(), S = t.shape(b).numel();
  T* dy = t.grad_if_any(y);
  bool adopted = false;
  auto pass_through = [&](Var v) {
    if (!adopted && a.id != b.id && t.adopt_grad(v, dy)) {
      adopted = true;
      return;
    }
    bool fresh = false;
    T* dv = t.grad_fresh(v, fresh);
    if (DeviceContext* d = t.device()) return d->launch(kernels::Copy<T>{dy, dv, !fresh}, total);
    parallel_for(total, kGrain, [&](int64_t i0, int64_t i1) {
      if (fresh)
        std::memcpy(dv + i0, dy + i0, static_cast<size_t>(i1 - i0) * sizeof(T));
      else
        for (int64_t i = i0; i < i1; ++i) dv[i] += dy[i];
    });
  };
  if (t.requires_grad(a)) pass_through(a);
  if (!t.requires_grad(b)) return;
  if (S == total)
    pass_through(b);
  else
    detail::add_column_sums(t, static_cast<const T*>(dy), static_cast<const T*>(nullptr), total / S,
                            S, t.grad(b));
}

// ---- mul: y = a * b[broadcast] ----
template <class T>
void mul_backward(Tape<T>& t, const Node<T>& n) {
  const Var a{n.in[0]}, b{n.in[1]}, y{n.out};
  const int64_t total = t.shape(a).numel(), S = t.shape(b).numel();
  const T* dy = t.grad_if_any(y);
  const T* av = t.value(a).data;
  const T* bv = t.value(b).data;
  if (DeviceContext* d = t.device()) {  // db: the column sums of dy * a, formed in the sum
    if (t.requires_grad(a)) d->launch(kernels::MulGradA<T>{dy, bv, t.grad(a), S}, total);
    if (t.requires_grad(b)) detail::add_column_sums(t, dy, av, total / S, S, t.grad(b));
    return;
  }
  if (t.requires_grad(a)) {
    T* da = t.grad(a);
    parallel_for(total / S, std::max<int64_t>(1, kGrain / S), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t s = 0; s < S; ++s) da[r * S + s] += dy[r * S + s] * bv[s];
    });
  }
  if (t.requires_grad(b)) {
    // db[s] += sum_r dy[r, s] * a[r, s]: form the product, then the deterministic column sum.
    T* prod = t.arena().template alloc<T>(total);
    parallel_for(total, kGrain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) prod[i] = dy[i] * av[i];
    });
    detail::add_column_sums(t, static_cast<const T*>(prod), static_cast<const T*>(nullptr),
                            total / S, S, t.grad(b));
  }
}

template <class T, bool kMul>
Var binary(Tape<T>& t, Var a, Var b, const char* op) {
  const int64_t S = broadcast_size(t, a, b, op);
  const int64_t total = t.shape(a).numel();
  Var y = t.make(t.shape(a), detail::any_grad(t, {a, b}));
  const T* av = t.value(a).data;
  const T* bv = t.value(b).data;
  T* out = t.value(y).data;
  if (DeviceContext* d = t.device())
    d->launch(kernels::Binary<T, kMul>{av, bv, out, std::max<int64_t>(S, 1)}, total);
  else
    parallel_for(total / std::max<int64_t>(S, 1),
                 std::max<int64_t>(1, kGrain / std::max<int64_t>(S, 1)),
                 [&](int64_t r0, int64_t r1) {
                   for (int64_t r = r0; r < r1; ++r)
                     for (int64_t s = 0; s < S; ++s)
                       out[r * S + s] = kMul ? av[r * S + s] * bv[s] : av[r * S + s] + bv[s];
                 });
  if (t.requires_grad(y))
    t.record(detail::make_node<T>(kMul ? &mul_backward<T> : &add_backward<T>, y, {a, b}));
  return y;
}

// ---- unary ops: y = f(a); da += dy * f'(a) computed from a and y ----
struct Scale {  // f[0] holds the factor
  template <class T>
  static T fwd(T x, double s) {
    return static_cast<T>(s * x);
  }
  template <class T>
  static T bwd(T, T, double s) {
    return static_cast<T>(s);
  }
};
struct Relu {
  template <class T>
  static T fwd(T x, double) {
    return x > T(0) ? x : T(0);
  }
  template <class T>
  static T bwd(T x, T, double) {
    return x > T(0) ? T(1) : T(0);
  }
};
struct Gelu {
  template <class T>
  static T fwd(T x, double) {
    return static_cast<T>(0.5 * x * (1.0 + std::erf(x * std::numbers::sqrt2 / 2)));
  }
  template <class T>
  static T bwd(T x, T, double) {
    const double cdf = 0.5 * (1.0 + std::erf(x * std::numbers::sqrt2 / 2));
    const double pdf =
        std::exp(-0.5 * double(x) * x) * std::numbers::inv_sqrtpi / std::numbers::sqrt2;
    return static_cast<T>(cdf + x * pdf);
  }
};
struct Tanh {
  template <class T>
  static T fwd(T x, double) {
    return std::tanh(x);
  }
  template <class T>
  static T bwd(T, T y, double) {
    return T(1) - y * y;
  }
};
struct Square {
  template <class T>
  static T fwd(T x, double) {
    return x * x;
  }
  template <class T>
  static T bwd(T x, T, double) {
    return T(2) * x;
  }
};

template <class T, class F, class K>
void unary_backward(Tape<T>& t, const Node<T>& n) {
  const Var a{n.in[0]}, y{n.out};
  if (!t.requires_grad(a)) return;
  const int64_t total = t.shape(a).numel();
  const T* dy = t.grad_if_any(y);
  const T* av = t.value(a).data;
  const T* yv = t.value(y).data;
  bool fresh = false;
  T* da = t.grad_fresh(a, fresh);
  const double c = n.f[0];
  if (DeviceContext* d = t.device())
    return d->launch(kernels::UnaryGrad<T, K>{dy, av, yv, da, c, fresh}, total);
  parallel_for(total, kGrain, [&](int64_t i0, int64_t i1) {
    if (fresh)
      for (int64_t i = i0; i < i1; ++i) da[i] = dy[i] * F::bwd(av[i], yv[i], c);
    else
      for (int64_t i = i0; i < i1; ++i) da[i] += dy[i] * F::bwd(av[i], yv[i], c);
  });
}

// F: the host op; K: the same op as a device kernel (cuda/kernels.h).
template <class T, class F, class K>
Var unary(Tape<T>& t, Var a, double c = 0.0) {
  const int64_t total = t.shape(a).numel();
  Var y = t.make(t.shape(a), detail::any_grad(t, {a}));
  const T* av = t.value(a).data;
  T* out = t.value(y).data;
  if (DeviceContext* d = t.device())
    d->launch(kernels::Unary<T, K>{av, out, c}, total);
  else
    parallel_for(total, kGrain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) out[i] = F::fwd(av[i], c);
    });
  if (t.requires_grad(y)) {
    Node<T> n = detail::make_node<T>(&unary_backward<T, F, K>, y, {a});
    n.f[0] = c;
    t.record(n);
  }
  return y;
}

}  // namespace

template <class T>
Var add(Tape<T>& t, Var a, Var b) {
  return binary<T, false>(t, a, b, "add");
}
template <class T>
Var mul(Tape<T>& t, Var a, Var b) {
  return binary<T, true>(t, a, b, "mul");
}
template <class T>
Var scale(Tape<T>& t, Var a, double s) {
  return unary<T, Scale, kernels::ScaleOp>(t, a, s);
}
template <class T>
Var relu(Tape<T>& t, Var a) {
  return unary<T, Relu, kernels::ReluOp>(t, a);
}
template <class T>
Var gelu(Tape<T>& t, Var a) {
  return unary<T, Gelu, kernels::GeluOp>(t, a);
}
template <class T>
Var tanh(Tape<T>& t, Var a) {
  return unary<T, Tanh, kernels::TanhOp>(t, a);
}
template <class T>
Var square(Tape<T>& t, Var a) {
  return unary<T, Square, kernels::SquareOp>(t, a);
}

#define GRADSCOPE_INSTANTIATE(T)                \
  template Var add<T>(Tape<T>&, Var, Var);      \
  template Var mul<T>(Tape<T>&, Var, Var);      \
  template Var scale<T>(Tape<T>&, Var, double); \
  template Var relu<T>(Tape<T>&, Var);          \
  template Var gelu<T>(Tape<T>&, Var);          \
  template Var tanh<T>(Tape<T>&, Var);          \
  template Var square<T>(Tape<T>&, Var);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
