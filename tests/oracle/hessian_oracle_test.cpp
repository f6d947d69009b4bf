// Curvature oracle: the Hessian operators of probes/curvature.h (central differences of float64
// gradients, Lanczos, Hutchinson) on gradscope's models against PyTorch's exact Hessian
// (torch.autograd.functional.hessian, tests/oracle/gen_model_fixture.py) at the same weights: the
// top 5 eigenvalues within 1e-6 relative, each parameter tensor's largest block eigenvalue too,
// and the traces within 3 of Hutchinson's standard errors, on the smooth cases of the fixture (a
// pair MLP with square activation, a concatenating MLP with tanh GELU, a 1-layer GELU transformer)
// and on two ReLU models with pre-activations 1e-9 above the kink, where the differences hold
// each kink on its side (run/hessian.h KinkHeldHessian) as autograd's Hessian does.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fixture_config.h"
#include "gradscope/autograd/ops.h"
#include "gradscope/nn/model_registry.h"
#include "gradscope/nn/models.h"
#include "gradscope/run/hessian.h"

namespace gradscope {
namespace {

using nlohmann::json;

json fixture() {
  std::ifstream in(std::string(GRADSCOPE_SOURCE_DIR) + "/tests/oracle/fixtures/models.json");
  return json::parse(in);
}

void check_case(const json& c) {
  const std::string name = c.at("name");
  const Config cfg = fixture_config(c);
  const ModelShape shape{c.at("vocab").get<int64_t>(), c.at("classes").get<int64_t>(),
                         c.at("length").get<int64_t>()};
  auto model = make_model<double>(model_options(cfg), shape, 0);
  ParamStore<double>& ps = model->params();
  for (auto& [param, values] : c.at("params").items()) {
    Tensor<double> w = ps.value(ps.index(param));
    for (size_t i = 0; i < values.size(); ++i) w[i] = values[i].get<double>();
  }
  const auto inputs = c.at("inputs").get<std::vector<int32_t>>();
  const auto targets = c.at("targets").get<std::vector<int32_t>>();
  const auto n = static_cast<int64_t>(targets.size());
  Arena arena;
  Tape<double> t(arena);
  const GradientFunction gradient = packed_gradient(ps, [&] {
    t.reset();
    ps.zero_grad();
    t.backward(cross_entropy(t, model->logits(t, inputs.data(), n), targets.data()));
  });
  const std::vector<double> w = packed_values(ps);
  const auto d = static_cast<int64_t>(w.size());
  const KinkHeldHessian held(t, gradient, w, 1e-5);
  const LinearOperator& H = held.op();
  const json& exact = c.at("hessian");

  const std::vector<double> top = top_eigenvalues(H, d, 5, 100, 0);
  const auto want = exact.at("top").get<std::vector<double>>();
  ASSERT_EQ(top.size(), 5u);
  double worst = 0;
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(top[i], want[i], 1e-6 * std::abs(want[i])) << name << " eigenvalue " << i;
    worst = std::max(worst, std::abs(top[i] - want[i]) / std::abs(want[i]));
  }
  const TraceEstimate trace = hutchinson_trace(H, d, 200, 0);
  EXPECT_GT(trace.error, 0) << name;
  EXPECT_NEAR(trace.trace, exact.at("trace").get<double>(), 3 * trace.error) << name;
  std::printf("%s: %lld parameters, top 5 within %.1e relative, trace %.6g +- %.2g (exact %.6g)\n",
              name.c_str(), static_cast<long long>(d), worst, trace.trace, trace.error,
              exact.at("trace").get<double>());

  int64_t offset = 0;
  for (const ParamInfo& p : ps.params()) {
    const json& block = exact.at("tensors").at(p.name);
    const int64_t size = p.shape.numel();
    const LinearOperator B = diagonal_block(H, d, offset, size);
    const double b = top_eigenvalues(B, size, 1, 100, 0).at(0);
    EXPECT_NEAR(b, block.at("top").get<double>(), 1e-6 * std::abs(want[0]))
        << name << " block " << p.name;
    const TraceEstimate t = hutchinson_trace(B, size, 200, 0);
    EXPECT_NEAR(t.trace, block.at("trace").get<double>(), 3 * t.error + 1e-9)
        << name << " block " << p.name;
    offset += size;
  }
}

TEST(HessianOracle, TopEigenvaluesAndTracesMatchPyTorchsExactHessian) {
  int checked = 0;
  const json fx = fixture();
  for (const json& c : fx.at("cases"))
    if (c.contains("hessian")) {
      check_case(c);
      ++checked;
    }
  EXPECT_EQ(checked, 5);
}

}  // namespace
}  // namespace gradscope
