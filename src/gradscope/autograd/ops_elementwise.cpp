// Elementwise ops: add and mul (with trailing-dimension broadcast), scale, and the activations,
// each a kernel of cuda/kernels.h launched on the tape's backend (the cpu or a device).
#include "gradscope/autograd/ops_common.h"

namespace gradscope {
namespace {

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
    t.backend().launch(kernels::Copy<T>{dy, dv, !fresh}, total);
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
  if (t.requires_grad(a)) t.backend().launch(kernels::MulGradA<T>{dy, bv, t.grad(a), S}, total);
  if (!t.requires_grad(b)) return;
  // db: the column sums of dy * a, the products formed in the sum (in double)
  detail::add_column_sums(t, dy, av, total / S, S, t.grad(b));
}

template <class T, bool kMul>
Var binary(Tape<T>& t, Var a, Var b, const char* op) {
  const int64_t S = broadcast_size(t, a, b, op);
  const int64_t total = t.shape(a).numel();
  Var y = t.make(t.shape(a), detail::any_grad(t, {a, b}));
  const T* av = t.value(a).data;
  const T* bv = t.value(b).data;
  T* out = t.value(y).data;
  t.backend().launch(kernels::Binary<T, kMul>{av, bv, out, std::max<int64_t>(S, 1)}, total);
  if (t.requires_grad(y))
    t.record(detail::make_node<T>(kMul ? &mul_backward<T> : &add_backward<T>, y, {a, b}));
  return y;
}

// ---- unary ops: y = f(a); da += dy * f'(a) computed from a and y ----
// The arithmetic is the kernel's op K (cuda/kernels.h: ScaleOp, ReluOp, GeluOp, GeluTanhOp,
// TanhOp, SquareOp), the same on every device.
template <class T, class K>
void unary_backward(Tape<T>& t, const Node<T>& n) {
  const Var a{n.in[0]}, y{n.out};
  if (!t.requires_grad(a)) return;
  bool fresh = false;
  T* da = t.grad_fresh(a, fresh);
  t.backend().launch(kernels::UnaryGrad<T, K>{t.grad_if_any(y), t.value(a).data, t.value(y).data,
                                              da, n.f[0], fresh},
                     t.shape(a).numel());
}

// K: the op's kernel form (cuda/kernels.h); c its constant (scale's factor).
template <class T, class K>
Var unary(Tape<T>& t, Var a, double c = 0.0) {
  Var y = t.make(t.shape(a), detail::any_grad(t, {a}));
  t.backend().launch(kernels::Unary<T, K>{t.value(a).data, t.value(y).data, c}, t.shape(a).numel());
  if (t.requires_grad(y)) {
    Node<T> n = detail::make_node<T>(&unary_backward<T, K>, y, {a});
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
  return unary<T, kernels::ScaleOp>(t, a, s);
}
template <class T>
Var relu(Tape<T>& t, Var a) {
  if (KinkPatterns* k = t.kinks()) {  // a times the recorded point's sides: its linear piece
    const T* x = t.value(a).data;
    const std::vector<uint8_t>& above =
        detail::kink_sides(*k, t.shape(a).numel(), "relu", [x](int64_t i) { return x[i] > T(0); });
    return mul(t, a, detail::host_constant(t, t.shape(a), [&](int64_t i) { return above[i]; }));
  }
  return unary<T, kernels::ReluOp>(t, a);
}
template <class T>
Var gelu(Tape<T>& t, Var a) {
  return unary<T, kernels::GeluOp>(t, a);
}
template <class T>
Var gelu_tanh(Tape<T>& t, Var a) {
  return unary<T, kernels::GeluTanhOp>(t, a);
}
template <class T>
Var tanh(Tape<T>& t, Var a) {
  return unary<T, kernels::TanhOp>(t, a);
}
template <class T>
Var square(Tape<T>& t, Var a) {
  return unary<T, kernels::SquareOp>(t, a);
}

#define GRADSCOPE_INSTANTIATE(T)                \
  template Var add<T>(Tape<T>&, Var, Var);      \
  template Var mul<T>(Tape<T>&, Var, Var);      \
  template Var scale<T>(Tape<T>&, Var, double); \
  template Var relu<T>(Tape<T>&, Var);          \
  template Var gelu<T>(Tape<T>&, Var);          \
  template Var gelu_tanh<T>(Tape<T>&, Var);     \
  template Var tanh<T>(Tape<T>&, Var);          \
  template Var square<T>(Tape<T>&, Var);
GRADSCOPE_INSTANTIATE(float)
GRADSCOPE_INSTANTIATE(double)

}  // namespace gradscope
