// Bad input to ops: each mismatch throws a ShapeError naming the op and the shapes involved.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "gradscope/autograd/ops.h"

namespace gradscope {
namespace {

class ShapeErrors : public ::testing::Test {
 protected:
  Var make(Shape s) {
    buffers_.emplace_back(s.numel(), 0.0f);
    return t_.constant(Tensor<float>(buffers_.back().data(), s));
  }
  template <class F>
  void expect_error(F f, std::vector<std::string> parts) {
    try {
      f();
      ADD_FAILURE() << "no ShapeError";
    } catch (const ShapeError& e) {
      for (const std::string& p : parts)
        EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << " lacks " << p;
    }
  }
  Arena arena_;
  Tape<float> t_{arena_};
  std::vector<std::vector<float>> buffers_;
};

TEST_F(ShapeErrors, EveryOpNamesItselfAndTheShapes) {
  const std::array<int32_t, 4> ids{0, 1, 9, 2};
  expect_error([&] { linear(t_, make({2, 3}), make({4, 5})); }, {"linear", "[2, 3]", "[4, 5]"});
  expect_error([&] { linear(t_, make({2, 4}), make({4, 5}), make({4})); }, {"linear", "[4]"});
  expect_error(
      [&] {
        matmul(t_, make({2, 4}), make({4, 5}), true);
      },
      {"matmul", "[2, 4]", "[4, 5]"});
  expect_error([&] { add(t_, make({2, 3}), make({2})); }, {"add", "[2, 3]", "[2]"});
  expect_error([&] { mul(t_, make({2, 3}), make({3, 3})); }, {"mul", "[2, 3]", "[3, 3]"});
  expect_error(
      [&] {
        layer_norm(t_, make({2, 3}), make({4}), Var{});
      },
      {"layer_norm", "[2, 3]", "[4]"});
  expect_error(
      [&] {
        attention(t_, make({1, 3, 4}), make({1, 2, 4}), make({1, 3, 4}), 2, true);
      },
      {"attention", "[1, 3, 4]", "[1, 2, 4]"});
  expect_error(
      [&] {
        attention(t_, make({1, 3, 6}), make({1, 3, 6}), make({1, 3, 6}), 4, true);
      },
      {"attention", "6", "4"});
  expect_error(
      [&] {
        embedding(t_, ids.data(), Shape{4}, make({5, 3}));
      },
      {"embedding", "id 9", "[0, 5)"});
  expect_error([&] { reshape(t_, make({2, 3}), Shape{4}); }, {"reshape", "[2, 3]", "[4]"});
  expect_error([&] { rows(t_, make({2, 3}), 1, 2); }, {"rows", "[2, 3]"});
  expect_error(
      [&] {
        add_positional(t_, make({2, 5, 3}), make({4, 3}));
      },
      {"add_positional", "[4, 3]"});
  expect_error([&] { slice(t_, make({2, 3}), 1, 2, 2); }, {"slice", "[2, 3]"});
  expect_error([&] { select_last(t_, make({2, 3})); }, {"select_last", "[2, 3]"});
  expect_error([&] { transpose(t_, make({3})); }, {"transpose", "[3]"});
  expect_error(
      [&] {
        cross_entropy(t_, make({4, 3}), ids.data());
      },
      {"cross_entropy", "target 9", "[0, 3)"});
  expect_error([&] { mse(t_, make({2, 3}), make({3, 2})); }, {"mse", "[2, 3]", "[3, 2]"});
}

}  // namespace
}  // namespace gradscope
