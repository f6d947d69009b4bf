// The cpu's vectorized forms of the elementwise kernels (the libm-calling ones and ReLU)
// (cuda/cpu_vector_ops.cpp) against the kernels' own per-index bodies: the cpu backend picks the
// fast form, and it gives the same function: within 2 ulp of T where the value is well conditioned,
// and within a few double ulp of |x| in the tail where 1 + erf(x) cancels (both forms round there).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "gradscope/cuda/device.h"
#include "gradscope/cuda/kernels.h"

namespace gradscope {
namespace {

using kernels::GeluOp;
using kernels::GeluTanhOp;

static_assert(HasCpuRange<kernels::Unary<float, GeluOp>>::value, "GELU takes the vector form");
static_assert(HasCpuRange<kernels::UnaryGrad<double, GeluOp>>::value);
static_assert(HasCpuRange<kernels::Unary<float, GeluTanhOp>>::value);
static_assert(HasCpuRange<kernels::UnaryGrad<float, kernels::ReluOp>>::value);
static_assert(!HasCpuRange<kernels::Unary<float, kernels::SquareOp>>::value, "x^2 keeps the loop");

// x over [-12, 12] (every 1/512), the signs of zero, and normal draws of scale 3.
template <class T>
std::vector<T> inputs() {
  std::vector<T> x = {T(0), -T(0), T(1e-30), T(-1e-30)};
  for (int i = -12 * 512; i <= 12 * 512; ++i) x.push_back(T(i) / T(512));
  std::mt19937 rng(7);
  std::normal_distribution<double> normal(0.0, 3.0);
  for (int i = 0; i < 100003; ++i) x.push_back(T(normal(rng)));  // an odd length: a lane tail
  return x;
}

template <class T>
bool close(T fast, T body, T x) {
  const double ulp = std::numeric_limits<T>::epsilon() * std::fabs(double(body));
  return std::fabs(double(fast) - double(body)) <= 2 * ulp + 8 * 0x1p-52 * std::fabs(double(x));
}

template <class T, class Op>
void check_op() {
  const std::vector<T> x = inputs<T>();
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<T> fast(n), body(n), dy(n), da_fast(n), da_body(n);
  for (int64_t i = 0; i < n; ++i) dy[i] = T(1) + T(i % 7) / T(8);
  kernels::Unary<T, Op> fwd{x.data(), fast.data(), 0.0};
  fwd.cpu_range(0, n);
  kernels::Unary<T, Op>{x.data(), body.data(), 0.0}.cpu_range(0, 0);  // an empty range
  for (int64_t i = 0; i < n; ++i) kernels::Unary<T, Op>{x.data(), body.data(), 0.0}(i);
  int64_t far = 0;
  for (int64_t i = 0; i < n; ++i) far += !close(fast[i], body[i], x[i]);
  EXPECT_EQ(far, 0) << "forward";
  for (bool fresh : {true, false}) {
    for (int64_t i = 0; i < n; ++i) da_fast[i] = da_body[i] = fresh ? T(0) : T(0.25);
    kernels::UnaryGrad<T, Op>{dy.data(), x.data(), body.data(), da_fast.data(), 0.0, fresh}
        .cpu_range(0, n);
    for (int64_t i = 0; i < n; ++i)
      kernels::UnaryGrad<T, Op>{dy.data(), x.data(), body.data(), da_body.data(), 0.0, fresh}(i);
    far = 0;
    for (int64_t i = 0; i < n; ++i) far += !close(da_fast[i], da_body[i], x[i]);
    EXPECT_EQ(far, 0) << "backward, fresh = " << fresh;
  }
}

TEST(CpuVectorOps, GeluFastFormIsTheKernelsBodyInFloat) {
  check_op<float, GeluOp>();
}

TEST(CpuVectorOps, GeluFastFormIsTheKernelsBodyInDouble) {
  check_op<double, GeluOp>();
}

TEST(CpuVectorOps, GeluTanhFastFormIsTheKernelsBody) {
  check_op<float, GeluTanhOp>();
  check_op<double, GeluTanhOp>();
}

// ReLU's vector form is the same IEEE operations: every bit the same, NaN, infinities and the
// signs of zero included.
template <class T>
void check_relu_bits() {
  std::vector<T> x = inputs<T>();
  x.insert(x.end(), {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
                     -std::numeric_limits<T>::infinity(), std::numeric_limits<T>::denorm_min()});
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<T> fast(n), body(n), dy(n), da_fast(n), da_body(n);
  for (int64_t i = 0; i < n; ++i) dy[i] = i % 5 == 0 ? -T(0) : T(1) + T(i % 7) / T(8);
  kernels::Unary<T, kernels::ReluOp>{x.data(), fast.data(), 0.0}.cpu_range(0, n);
  for (int64_t i = 0; i < n; ++i) kernels::Unary<T, kernels::ReluOp>{x.data(), body.data(), 0.0}(i);
  EXPECT_EQ(std::memcmp(fast.data(), body.data(), n * sizeof(T)), 0) << "forward";
  for (bool fresh : {true, false}) {
    for (int64_t i = 0; i < n; ++i) da_fast[i] = da_body[i] = fresh ? T(0) : T(0.25);
    kernels::UnaryGrad<T, kernels::ReluOp>{dy.data(),      x.data(), body.data(),
                                           da_fast.data(), 0.0,      fresh}
        .cpu_range(0, n);
    for (int64_t i = 0; i < n; ++i)
      kernels::UnaryGrad<T, kernels::ReluOp>{dy.data(),      x.data(), body.data(),
                                             da_body.data(), 0.0,      fresh}(i);
    EXPECT_EQ(std::memcmp(da_fast.data(), da_body.data(), n * sizeof(T)), 0) << "fresh " << fresh;
  }
}

TEST(CpuVectorOps, ReluFastFormGivesTheKernelsBits) {
  check_relu_bits<float>();
  check_relu_bits<double>();
}

}  // namespace
}  // namespace gradscope
