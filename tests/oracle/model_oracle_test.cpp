// Model oracle: gradscope's transformer and MLP models against PyTorch implementations of the same
// definitions (tests/oracle/gen_model_fixture.py -> fixtures/models.json): logits, loss and every
// parameter gradient within 1e-4 relative in float32 (1e-10 in float64), with each exact shortcut
// (last position only, per-token tables; the fixture has fewer tokens than examples) on and off:
// every path must match.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fixture_config.h"
#include "gradscope/config/config.h"
#include "gradscope/nn/model_registry.h"
#include "gradscope/nn/models.h"

namespace gradscope {
namespace {

using nlohmann::json;

const json& fixture() {
  static const json fx = [] {
    std::ifstream in(std::string(GRADSCOPE_SOURCE_DIR) + "/tests/oracle/fixtures/models.json");
    EXPECT_TRUE(in.good()) << "missing fixture: run `make oracle-fixtures`";
    return json::parse(in);
  }();
  return fx;
}

// max |a - b| / max(max |b|, 1e-3) over a whole tensor: relative to the tensor's scale. The floor
// matters only for tensors that are zero in exact arithmetic (the gradient of b_K: softmax is
// shift-invariant), where both sides hold rounding noise.
double rel_error(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size()) << "as many values as PyTorch's";
  if (a.size() != b.size()) return INFINITY;
  double num = 0, den = 1e-3;
  for (size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, std::abs(a[i] - b[i]));
    den = std::max(den, std::abs(b[i]));
  }
  return num / den;
}

template <class T>
void check_case(const json& c, bool last_position_only, bool token_tables, double tol) {
  const Config cfg = fixture_config(c);
  ModelConfig mc = model_options(cfg);
  mc.last_position_only = last_position_only;
  mc.token_tables = token_tables;
  const ModelShape shape{c.at("vocab").get<int64_t>(), c.at("classes").get<int64_t>(),
                         c.at("length").get<int64_t>()};
  auto model = make_model<T>(mc, shape, 0);
  ParamStore<T>& ps = model->params();
  ASSERT_EQ(static_cast<size_t>(ps.count()), c.at("params").size()) << c.at("name");
  for (auto& [name, values] : c.at("params").items()) {
    Tensor<T> w = ps.value(ps.index(name));
    ASSERT_EQ(static_cast<size_t>(w.numel()), values.size()) << name;
    for (size_t i = 0; i < values.size(); ++i)
      w[i] = static_cast<T>(values[i].template get<double>());
  }
  const auto inputs = c.at("inputs").get<std::vector<int32_t>>();
  const auto targets = c.at("targets").get<std::vector<int32_t>>();
  const auto n = static_cast<int64_t>(targets.size());
  Arena arena;
  Tape<T> t(arena);
  Var logits = model->logits(t, inputs.data(), n);
  Var loss = cross_entropy(t, logits, targets.data());
  t.backward(loss);
  const std::string what =
      c.at("name").get<std::string>() + (last_position_only ? " (last only)" : "");
  const Tensor<T> l = t.value(logits);
  EXPECT_LE(
      rel_error(std::vector<double>(l.begin(), l.end()), c.at("logits").get<std::vector<double>>()),
      tol)
      << what << " logits";
  EXPECT_NEAR(double(t.value(loss)[0]), c.at("loss").get<double>(),
              tol * std::abs(c.at("loss").get<double>()))
      << what << " loss";
  for (auto& [name, g] : c.at("grads").items()) {
    const Tensor<T> mine = ps.grad(ps.index(name));
    EXPECT_LE(rel_error(std::vector<double>(mine.begin(), mine.end()),
                        g.template get<std::vector<double>>()),
              tol)
        << what << " gradient of " << name;
  }
}

TEST(ModelOracle, EveryCaseMatchesPyTorch) {
  ASSERT_EQ(fixture().at("cases").size(), 11u);
  for (const json& c : fixture().at("cases"))
    for (bool last_only : {true, false})
      for (bool tables : {true, false}) {
        check_case<double>(c, last_only, tables, 1e-10);
        // Pre-activations 1e-9 above a relu's kink (kink_offset) are below float32's rounding.
        if (!c.contains("kink_offset")) check_case<float>(c, last_only, tables, 1e-4);
      }
}

}  // namespace
}  // namespace gradscope
