// A replica group's device (run/replicas.h): K runs that differ only in replica-safe keys take
// one step between them on one GPU (or the emulated device).
//
// Each replica gets a context of its own, a member of the group. A member's memory is the group
// device's, and its eager work (a run's first steps, evaluation, norms, downloads) runs there at
// once, in order on the device's one stream. Its captured training step is not captured on the
// device but recorded as a list of operations: kernel launches (the functor's type and bytes and
// its index range), GEMMs, copies. replay() of a member's step only defers it; flush() runs every
// deferred step as one stacked step:
//
//   - the members whose recorded steps match operation for operation (the same kernels over the
//     same ranges, GEMMs of one shape and scale) are zipped: each kernel is launched once over
//     the replica dimension (Stacked<F>, index i running replica i / n's functor at i % n, the K
//     functors in device memory) and each GEMM is one batched GEMM (pointer arrays);
//   - the stacked step is captured once on the device as one graph and replayed from then on; a
//     new set of deferred steps (a replica ended, a member captured again) gets a graph of its own.
//
// Every replica computes exactly what its own step would: the same kernel code at the same
// indices of its own buffers, its own scalars (learning rate, weight decay, ...) in its own
// functor copies, the operations in its own order.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/cuda/device.h"

namespace gradscope {

class ReplicaMember;

class ReplicaDevice {
 public:
  // Opens device `d` (emulated or cuda); throws std::runtime_error saying why it cannot.
  explicit ReplicaDevice(Device d);
  ~ReplicaDevice();
  ReplicaDevice(const ReplicaDevice&) = delete;
  ReplicaDevice& operator=(const ReplicaDevice&) = delete;

  // A context for one replica; it must not outlive the group.
  std::unique_ptr<DeviceContext> member();
  // Runs every deferred step as one stacked step (a member's download or sync flushes too).
  void flush();
  // The widest stacked step built so far, for the sweep's output ("" before any): replicas,
  // kernels and batched GEMMs per replica step, and the graphs captured.
  std::string describe() const;

 private:
  friend class ReplicaMember;
  using Deferred = std::vector<std::pair<const ReplicaMember*, int>>;  // (member, its graph)
  struct Step {
    int graph = -1;                                   // on the device
    std::vector<DeviceBuffer<unsigned char>> tables;  // functor copies and pointer arrays
    int replicas = 0, kernels = 0, gemms = 0, classes = 0;
  };
  void defer(const ReplicaMember* m, int graph) { deferred_.emplace_back(m, graph); }
  void forget(const ReplicaMember* m);  // a member is gone: its steps and deferrals go too
  Step build(const Deferred& deferred);

  std::unique_ptr<DeviceContext> device_;
  Deferred deferred_;
  std::map<Deferred, Step> steps_;
  Step widest_;  // its counts (no graph, no tables)
  int graphs_ = 0;
};

}  // namespace gradscope
