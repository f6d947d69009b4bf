// The spectral probe: LAPACK singular values, the rank definitions of REFERENCES 2, the .npy
// encoding, the probe schedule, the products it reads (a head's W_Q W_K^T), and resume.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "gradscope/nn/model_registry.h"
#include "gradscope/nn/models.h"
#include "gradscope/probes/spectra.h"
#include "gradscope/tensor/lapack.h"
#include "gradscope/tensor/npy.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

TEST(Lapack, SingularValuesOfAKnownMatrix) {
  // A = U diag(5, 2) V^T with a rotation U (3x2 columns) and V: rows [3, 2] row-major.
  const double c = std::cos(0.3), s = std::sin(0.3);
  // [3, 2]: columns u1 = (c, s, 0), u2 = (-s, c, 0); A = 5 u1 e1^T + 2 u2 e2^T.
  const double A[] = {5 * c, -2 * s, 5 * s, 2 * c, 0, 0};
  const auto sv = singular_values(A, 3, 2);
  ASSERT_EQ(sv.size(), 2u);
  EXPECT_NEAR(sv[0], 5, 1e-12);
  EXPECT_NEAR(sv[1], 2, 1e-12);
  // Wide matrices: the transpose has the same values.
  const double At[] = {5 * c, 5 * s, 0, -2 * s, 2 * c, 0};
  const auto st = singular_values(At, 2, 3);
  EXPECT_NEAR(st[0], 5, 1e-12);
  EXPECT_NEAR(st[1], 2, 1e-12);
}

TEST(Lapack, OrthonormalColumns) {
  std::vector<double> g(7 * 3);
  Rng(1, "g").fill_normal(g.data(), 21, 0.0, 1.0);
  const auto q = orthonormal_columns(g.data(), 7, 3);
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) {
      double dot = 0;
      for (int i = 0; i < 7; ++i) dot += q[i * 3 + a] * q[i * 3 + b];
      EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-12);
    }
}

TEST(SpectrumStats, Definitions) {
  const std::vector<double> sigma = {4, 2, 1, 0.001};
  const SpectrumStats s = spectrum_stats(sigma, 0.01);
  EXPECT_DOUBLE_EQ(s.top, 4);
  EXPECT_NEAR(s.frobenius, std::sqrt(16 + 4 + 1 + 1e-6), 1e-12);
  EXPECT_NEAR(s.stable_rank, (21 + 1e-6) / 16, 1e-12);
  EXPECT_EQ(s.numerical_rank, 3);  // 0.001 < 0.01 * 4
  const double total = 7.001;
  double h = 0;
  for (double v : sigma) h -= v / total * std::log(v / total);
  EXPECT_NEAR(s.effective_rank, std::exp(h), 1e-12);
  // A rank-one matrix: every rank is 1; equal values: effective rank = count.
  EXPECT_NEAR(spectrum_stats({3, 0, 0}, 0.01).effective_rank, 1, 1e-12);
  EXPECT_NEAR(spectrum_stats({2, 2, 2}, 0.01).effective_rank, 3, 1e-12);
  EXPECT_EQ(spectrum_stats({0, 0}, 0.01).stable_rank, 0);  // Delta W = 0 at step 0
}

TEST(Npy, RoundTripAndHeader) {
  const std::vector<float> v = {1, 2, 3, 4, 5, 6};
  const std::string bytes = encode_npy_f32(v, 2, 3);
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ((bytes.size() - v.size() * 4) % 64, 0u);  // data aligned to 64 bytes
  EXPECT_NE(bytes.find("'shape': (2, 3)"), std::string::npos);
  int64_t r = 0, c = 0;
  EXPECT_EQ(decode_npy_f32(bytes, r, c, "x"), v);
  EXPECT_EQ(r, 2);
  EXPECT_EQ(c, 3);
  const std::string one = encode_npy_f32({7, 8}, 2, 0);
  EXPECT_NE(one.find("'shape': (2,)"), std::string::npos);
  EXPECT_THROW(decode_npy_f32(bytes.substr(0, bytes.size() - 1), r, c, "x"), std::runtime_error);
}

TEST(ProbeSchedule, LogSpacedAndEvery) {
  ProbeConfig p;
  p.per_decade = 4;  // 1, 2 (1.78), 3, 6, 10, 18, 32, 56, 100, ...
  std::vector<int64_t> got;
  for (int64_t s = 0; s <= 100; ++s)
    if (p.is_probe_step(s, 1000)) got.push_back(s);
  EXPECT_EQ(got, (std::vector<int64_t>{0, 1, 2, 3, 6, 10, 18, 32, 56, 100}));
  EXPECT_TRUE(p.is_probe_step(1000, 1000));  // the last step
  EXPECT_TRUE(p.is_probe_step(777, 777));
  p.every = 25;
  EXPECT_TRUE(p.is_probe_step(50, 1000));
  EXPECT_FALSE(p.is_probe_step(51, 1000));
}

TEST(SpectralJumps, HalfOfTheFinalValue) {
  const std::vector<int64_t> steps = {0, 10, 20, 30};
  const std::vector<std::vector<float>> rows = {{0, 0}, {1, 0}, {3, 0.1f}, {4, 1}};
  EXPECT_EQ(spectral_jump_steps(steps, rows, 0.01), (std::vector<int64_t>{20, 30}));
  // Values below eps * sigma_max at the end are not counted.
  EXPECT_EQ(spectral_jump_steps(steps, {{0, 0}, {4, 0.001f}}, 0.01), (std::vector<int64_t>{10}));
}

ModelConfig small_transformer() {
  ModelConfig c;
  c.d_model = 8;
  c.n_heads = 2;
  c.d_mlp = 16;
  return c;
}

TEST(SpectralProbe, HeadProductsAreTheProductsOfTheHeadsColumns) {
  auto m = make_model<double>(small_transformer(), {11, 11, 3}, 1);
  ParamStore<double>& ps = m->params();
  const auto all = m->probed_matrices();
  auto find = [&](const std::string& n) {
    for (const auto& p : all)
      if (p.name == n) return p;
    ADD_FAILURE() << n;
    return all.front();
  };
  const ProbedMatrix qk = find("blocks.0.attn.head1.QK"), vo = find("blocks.0.attn.head1.VO");
  std::vector<double> got(64);
  m->probed_matrix(qk, ps.values(), got.data());
  const Tensor<double> Q = ps.value(ps.index("blocks.0.attn.W_Q")),
                       K = ps.value(ps.index("blocks.0.attn.W_K")),
                       V = ps.value(ps.index("blocks.0.attn.W_V")),
                       O = ps.value(ps.index("blocks.0.attn.W_O"));
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) {
      double want = 0;
      for (int e = 4; e < 8; ++e) want += Q.data[i * 8 + e] * K.data[j * 8 + e];
      EXPECT_NEAR(got[i * 8 + j], want, 1e-12);
    }
  m->probed_matrix(vo, ps.values(), got.data());
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 8; ++j) {
      double want = 0;
      for (int e = 4; e < 8; ++e) want += V.data[i * 8 + e] * O.data[e * 8 + j];
      EXPECT_NEAR(got[i * 8 + j], want, 1e-12);
    }
}

TEST(SpectralProbe, MeasuresTheUpdateNotTheWeights) {
  auto m = make_model<double>(small_transformer(), {11, 11, 3}, 1);
  ParamStore<double>& ps = m->params();
  ProbeConfig pc;
  pc.params = "blocks.0.mlp.W_in";
  SpectralProbe<double> probe(*m, pc);
  // W_in += 3 a b^T: Delta W has rank one and top singular value 3 |a| |b|.
  Tensor<double> W = ps.value(ps.index("blocks.0.mlp.W_in"));  // [8, 16]
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 16; ++j) W.data[i * 16 + j] += 3.0 * (i + 1) * (j % 3 - 1);
  const auto v = probe.measure(5, ps.values(), ps.initial_values());
  double na = 0, nb = 0;
  for (int i = 0; i < 8; ++i) na += (i + 1) * (i + 1);
  for (int j = 0; j < 16; ++j) nb += (j % 3 - 1) * (j % 3 - 1);
  ASSERT_EQ(v.size(), 5u);
  EXPECT_NEAR(v[0], 1, 1e-9);                                  // stable rank
  EXPECT_NEAR(v[2], 1, 0);                                     // numerical rank
  EXPECT_NEAR(v[4], 3 * std::sqrt(na) * std::sqrt(nb), 1e-9);  // top
  EXPECT_EQ(probe.metric_names()[4], "spectra.blocks.0.mlp.W_in.top");

  // Files round trip through restore, keeping only steps before the resume point.
  probe.measure(9, ps.values(), ps.initial_values());
  std::map<std::string, std::string> files;
  for (auto& [name, bytes] : probe.files()) files[name] = bytes;
  SpectralProbe<double> again(*m, pc);
  again.restore(files, 9);
  EXPECT_EQ(again.steps(), (std::vector<int64_t>{5}));
  EXPECT_EQ(again.rows(0).size(), 1u);
  EXPECT_EQ(again.rows(0)[0], probe.rows(0)[0]);
}

TEST(SpectralProbe, UnknownNameListsTheValidOnes) {
  auto m = make_model<double>(small_transformer(), {11, 11, 3}, 1);
  ProbeConfig pc;
  pc.params = "blocks.0.attn.W_X";
  try {
    SpectralProbe<double> probe(*m, pc);
    FAIL();
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("blocks.0.attn.W_X"), std::string::npos) << msg;
    EXPECT_NE(msg.find("blocks.0.attn.head1.VO"), std::string::npos) << msg;
    EXPECT_NE(msg.find("embed.W_E"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace gradscope
