// A replica group's stacked step (cuda/replica_device.h) against each member's work run alone on
// a device of its own: kernels with each member's own scalars, GEMMs, copies and zeroings,
// zipped into one launch per kernel and one batched GEMM per GEMM (strided over the stacked
// slabs, or through pointer arrays for buffers outside them); members whose steps differ fall
// into classes of their own; a member that goes drops out of the next stacked step; a
// member's download runs the deferred step first. Byte for byte on the emulated device; within
// 1e-12 on a GPU, whose batched GEMM may sum in another order than its single GEMM.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "device_skip.h"
#include "gradscope/cuda/device.h"
#include "gradscope/cuda/kernels.h"
#include "gradscope/cuda/replica_device.h"

namespace {

using namespace gradscope;

const Device kDevice = device_from_name(GS_TEST_DEVICE);

constexpr int64_t kM = 5, kK = 7, kN = 3;

// One replica's buffers and its step: x = v, y = c x, C = A B + y[0:3], D = C, E = 0.
struct Replica {
  DeviceContext& d;
  double v, c;
  int64_t n;  // the fill's range: a member with another n has another step
  DeviceBuffer<double> x, y, A, B, C, D, E;
  std::vector<double> a, b;  // [M, K], [K, N]

  Replica(DeviceContext& dev, int r, int64_t fill = 16)
      : d(dev),
        v(1.5 + r),
        c(0.25 * (r + 1)),
        n(fill),
        x(dev, 16),
        y(dev, 16),
        A(dev, kM * kK),
        B(dev, kK * kN),
        C(dev, kM * kN),
        D(dev, kM * kN),
        E(dev, 4) {
    for (int64_t i = 0; i < kM * kK; ++i) a.push_back(std::sin(1.0 + i + 10.0 * r));
    for (int64_t i = 0; i < kK * kN; ++i) b.push_back(std::cos(2.0 + i - 3.0 * r));
    A.upload(a.data(), kM * kK);
    B.upload(b.data(), kK * kN);
    clear();
    d.sync();
  }
  void step() {
    d.zero(C.data(), sizeof(double) * kM * kN);
    d.launch(kernels::Fill<double>{x.data(), v}, n);
    d.launch(kernels::Unary<double, kernels::ScaleOp>{x.data(), y.data(), c}, 16);
    d.copy(C.data(), y.data(), sizeof(double) * kM * kN / 5);
    d.gemm(false, false, kM, kN, kK, 1.0, A.data(), kK, B.data(), kN, 1.0, C.data(), kN);
    d.copy(D.data(), C.data(), sizeof(double) * kM * kN);
    d.zero(E.data(), sizeof(double) * 4);
  }
  // Everything the step wrote, read back.
  std::vector<double> outputs() {
    std::vector<double> out(16 + 16 + 2 * kM * kN + 4);
    d.download(out.data(), x.data(), 16 * sizeof(double));
    d.download(out.data() + 16, y.data(), 16 * sizeof(double));
    d.download(out.data() + 32, C.data(), kM * kN * sizeof(double));
    d.download(out.data() + 32 + kM * kN, D.data(), kM * kN * sizeof(double));
    d.download(out.data() + 32 + 2 * kM * kN, E.data(), 4 * sizeof(double));
    return out;
  }
  // Clears what the step writes (eagerly), so that only a replay can put it back.
  void clear() {
    for (DeviceBuffer<double>* b : {&x, &y, &C, &D})
      d.zero(b->data(), sizeof(double) * static_cast<size_t>(b->size()));
    d.launch(kernels::Fill<double>{E.data(), 9.0}, 4);
  }
};

// Replica r's outputs when its step runs alone, twice (an eager step, then again).
std::vector<double> alone(int r, int64_t fill = 16) {
  std::unique_ptr<DeviceContext> dev = DeviceContext::create(kDevice);
  Replica one(*dev, r, fill);
  one.step();
  one.step();
  return one.outputs();
}

void expect_same(const std::vector<double>& got, const std::vector<double>& want, int r) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (kDevice == Device::emulated)
      EXPECT_EQ(got[i], want[i]) << "replica " << r << " output " << i;
    else
      EXPECT_NEAR(got[i], want[i], 1e-12 * std::max(1.0, std::abs(want[i])))
          << "replica " << r << " output " << i;
  }
}

// Members 0..K-1 (fill[r] each) eager once, captured, cleared, replayed through the group.
// Member `skewed` first allocates a buffer the others do not: its buffers then miss their slabs'
// slices.
struct Group {
  ReplicaDevice device;
  std::vector<std::unique_ptr<DeviceContext>> members;
  std::vector<DeviceBuffer<double>> extra;
  std::vector<std::unique_ptr<Replica>> replicas;
  std::vector<int> graphs;

  explicit Group(const std::vector<int64_t>& fills, int skewed = -1)
      : device(kDevice, int(fills.size())) {
    for (size_t r = 0; r < fills.size(); ++r) {
      members.push_back(device.member());
      if (int(r) == skewed) extra.emplace_back(*members.back(), 1);
      replicas.push_back(std::make_unique<Replica>(*members.back(), int(r), fills[r]));
      replicas.back()->step();  // a run's first step runs at once
      members.back()->begin_capture();
      replicas.back()->step();
      graphs.push_back(members.back()->end_capture());
      replicas.back()->clear();
    }
  }
  void replay() {
    for (size_t r = 0; r < members.size(); ++r)
      if (members[r]) members[r]->replay(graphs[r]);
  }
};

TEST(ReplicaDevice, AStackedStepComputesEveryMembersStepAsItsOwn) {
  SKIP_WITHOUT_DEVICE();
  Group g({16, 16, 16});
  g.replay();
  g.device.flush();
  for (int r = 0; r < 3; ++r) expect_same(g.replicas[r]->outputs(), alone(r), r);
  EXPECT_EQ(g.device.describe(),
            std::string("3 replicas in one stacked step on ") + GS_TEST_DEVICE +
                ": 2 kernel launches and 1 batched GEMMs, each over the replica dimension (every "
                "replica's step zipped; every GEMM strided over the stacked buffers; 1 graphs "
                "captured)");
}

TEST(ReplicaDevice, MembersWhoseStepsDifferAreZippedApart) {
  SKIP_WITHOUT_DEVICE();
  Group g({16, 8, 16});
  g.replay();
  g.device.flush();
  expect_same(g.replicas[0]->outputs(), alone(0), 0);
  expect_same(g.replicas[1]->outputs(), alone(1, 8), 1);
  expect_same(g.replicas[2]->outputs(), alone(2), 2);
  EXPECT_NE(g.device.describe().find("the steps zipped in 2 classes"), std::string::npos)
      << g.device.describe();
}

TEST(ReplicaDevice, BuffersOutsideTheStackedSlabsGetGemmPointerArrays) {
  SKIP_WITHOUT_DEVICE();
  Group g({16, 16, 16}, 1);
  g.replay();
  g.device.flush();
  for (int r = 0; r < 3; ++r) expect_same(g.replicas[r]->outputs(), alone(r), r);
  EXPECT_NE(g.device.describe().find("every replica's step zipped; 0 of the GEMMs strided"),
            std::string::npos)
      << g.device.describe();
}

TEST(ReplicaDevice, AMembersDownloadRunsTheDeferredStepAndAGoneMemberDropsOut) {
  SKIP_WITHOUT_DEVICE();
  Group g({16, 16, 16});
  g.replay();
  expect_same(g.replicas[2]->outputs(), alone(2), 2);  // no flush: the download ran it
  expect_same(g.replicas[0]->outputs(), alone(0), 0);
  g.replicas[1].reset();
  g.members[1].reset();
  g.replicas[0]->clear();
  g.replicas[2]->clear();
  g.replay();
  g.device.flush();
  expect_same(g.replicas[0]->outputs(), alone(0), 0);
  expect_same(g.replicas[2]->outputs(), alone(2), 2);
  EXPECT_NE(g.device.describe().find("2 graphs captured"), std::string::npos)
      << g.device.describe();
}

}  // namespace
