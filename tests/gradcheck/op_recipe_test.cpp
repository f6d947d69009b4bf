// README's "How to extend: adding an op", built as written: softsign, y = x / (1 + |x|), one
// kernel for its forward and one for its backward, launched on the tape's backend. The test
// checks its gradient by finite differences on the cpu and runs it on the emulated device (the
// cuda path's logic: device memory, kernels index by index), which must give the cpu's bits.
// A real op's kernels also go into cuda/kernel_list.def, so that a CUDA build instantiates them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "gradcheck.h"
#include "gradscope/autograd/ops.h"
#include "gradscope/autograd/ops_common.h"
#include "gradscope/cuda/device.h"
#include "gradscope/cuda/kernels.h"

namespace gradscope {
namespace {

// --- the recipe's kernels (cuda/kernels.h in a real op) ---
template <class T>
struct Softsign {  // y[i] = x[i] / (1 + |x[i]|)
  const T* x;
  T* y;
  GS_HD void operator()(int64_t i) const { y[i] = x[i] / (T(1) + (x[i] < 0 ? -x[i] : x[i])); }
};

template <class T>
struct SoftsignGrad {  // dx[i] += dy[i] / (1 + |x[i]|)^2
  const T* dy;
  const T* x;
  T* dx;
  GS_HD void operator()(int64_t i) const {
    const T d = T(1) + (x[i] < 0 ? -x[i] : x[i]);
    dx[i] += dy[i] / (d * d);
  }
};

}  // namespace

#if GRADSCOPE_CUDA
// A real op lists its kernels in cuda/kernel_list.def, which instantiates their CUDA launch in
// cuda_backend.cu (alone, and K copies as one Stacked for replica groups); this test's kernels
// are not compiled by nvcc, so on CUDA they refuse.
#define RECIPE_NO_CUDA(F)                                                          \
  template <>                                                                      \
  void cuda_launch<F>(const F&, int64_t, void*) {                                  \
    throw std::logic_error("the op recipe's test kernels are not built for CUDA"); \
  }                                                                                \
  template <>                                                                      \
  void cuda_launch<Stacked<F>>(const Stacked<F>&, int64_t, void*) {                \
    throw std::logic_error("the op recipe's test kernels are not built for CUDA"); \
  }
RECIPE_NO_CUDA(Softsign<float>)
RECIPE_NO_CUDA(Softsign<double>)
RECIPE_NO_CUDA(SoftsignGrad<float>)
RECIPE_NO_CUDA(SoftsignGrad<double>)
#undef RECIPE_NO_CUDA
#endif

namespace {

// --- the recipe's op (an ops_*.cpp file in a real op) ---
template <class T>
void softsign_backward(Tape<T>& t, const Node<T>& n) {
  const Var x{n.in[0]}, y{n.out};
  if (!t.requires_grad(x)) return;
  t.backend().launch(SoftsignGrad<T>{t.grad_if_any(y), t.value(x).data, t.grad(x)},
                     t.shape(x).numel());
}

template <class T>
Var softsign(Tape<T>& t, Var x) {
  Var y = t.make(t.shape(x), detail::any_grad(t, {x}));
  t.backend().launch(Softsign<T>{t.value(x).data, t.value(y).data}, t.shape(x).numel());
  if (t.requires_grad(y)) t.record(detail::make_node<T>(&softsign_backward<T>, y, {x}));
  return y;
}

TEST(OpRecipe, GradientMatchesFiniteDifferences) {
  testing::check_gradients({{3, 7}},
                           [](auto& t, const std::vector<Var>& in) { return softsign(t, in[0]); });
}

// Forward and backward of sum(softsign(x) * w) on the cpu and on the emulated device.
template <class T>
std::vector<T> value_and_gradient(DeviceContext* device, const std::vector<T>& x0,
                                  const std::vector<T>& w0) {
  const int64_t n = static_cast<int64_t>(x0.size());
  Arena arena(size_t{1} << 16, device);
  Tape<T> t(arena, device);
  DeviceContext& d = t.backend();
  T* x = static_cast<T*>(d.allocate(n * sizeof(T)));
  T* w = static_cast<T*>(d.allocate(n * sizeof(T)));
  T* gx = static_cast<T*>(d.allocate(n * sizeof(T)));
  d.upload(x, x0.data(), n * sizeof(T));
  d.upload(w, w0.data(), n * sizeof(T));
  d.zero(gx, n * sizeof(T));
  Var xv = t.param(Tensor<T>(x, Shape{n}), gx);
  Var y = sum(t, mul(t, softsign(t, xv), t.constant(Tensor<T>(w, Shape{n}))));
  t.backward(y);
  std::vector<T> out(static_cast<size_t>(n) + 1);
  d.download(out.data(), gx, n * sizeof(T));
  d.download(&out[n], t.value(y).data, sizeof(T));
  for (T* p : {x, w, gx}) d.deallocate(p);
  return out;
}

TEST(OpRecipe, RunsOnTheCpuAndTheEmulatedDevice) {
  const std::vector<double> x = {-2.5, -0.5, 0.0, 0.25, 1.0, 3.0, -7.0};
  const std::vector<double> w = {1.0, -2.0, 0.5, 3.0, -1.0, 0.25, 2.0};
  const auto cpu = value_and_gradient<double>(nullptr, x, w);
  auto emulated = DeviceContext::create(Device::emulated);
  const auto dev = value_and_gradient<double>(emulated.get(), x, w);
  for (size_t i = 0; i < x.size(); ++i) {
    const double d = 1.0 + std::abs(x[i]);
    EXPECT_NEAR(cpu[i], w[i] / (d * d), 1e-15) << i;
  }
  EXPECT_EQ(0, std::memcmp(cpu.data(), dev.data(), cpu.size() * sizeof(double)));
}

}  // namespace
}  // namespace gradscope
