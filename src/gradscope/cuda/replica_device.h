// A replica group's device (run/replicas.h): K runs that differ only in replica-safe keys take
// one step between them on one GPU (or the emulated device).
//
// Each replica gets a context of its own, a member of the group. The members' memory is stacked:
// member r's c-th allocation is slice r of the group's c-th slab, K slices of that size (rounded
// up to 256 bytes) back to back, so that every buffer of the K replicas (parameters, gradients,
// optimizer state, activations) is one [K, ...] block with the replica as its leading dimension.
// (A member whose c-th allocation has another size than the slab's, possible only where its
// config changes a shape, gets memory of its own.) A member's eager work (a run's first steps,
// evaluation, norms, downloads) runs on the group's device at once, in order on its one stream. Its
// captured training step is not captured on the device but recorded as a list of operations: kernel
// launches (the functor's type and bytes and its index range), GEMMs, copies. replay() of a
// member's step only defers it; flush() runs every deferred step as one stacked step:
//
//   - the members whose recorded steps match operation for operation (the same kernels over the
//     same ranges, GEMMs of one shape and scale) are zipped: each kernel is launched once over
//     the replica dimension (Stacked<F>, index i running replica i / n's functor at i % n, the K
//     functors in device memory) and each GEMM is one strided-batched GEMM over the stacked
//     buffers (a shared operand: stride 0), or a batched GEMM with pointer arrays where the
//     operands are not evenly strided;
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
  // Opens device `d` (emulated or cuda) for a group of `replicas`; throws std::runtime_error
  // saying why it cannot.
  ReplicaDevice(Device d, int replicas);
  ~ReplicaDevice();
  ReplicaDevice(const ReplicaDevice&) = delete;
  ReplicaDevice& operator=(const ReplicaDevice&) = delete;

  // A context for the next replica (at most `replicas`); it must not outlive the group.
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
    int replicas = 0, kernels = 0, gemms = 0, strided = 0, classes = 0;
  };
  // K slices of one allocation's size: the c-th allocation of every member.
  struct Slab {
    unsigned char* base = nullptr;  // null once every slice is freed
    size_t bytes = 0, stride = 0;
    std::vector<bool> taken;
    int live = 0;
  };
  void* allocate(int member, size_t index, size_t bytes);
  void deallocate(void* p);
  void defer(const ReplicaMember* m, int graph) { deferred_.emplace_back(m, graph); }
  void forget(const ReplicaMember* m);  // a member is gone: its steps and deferrals go too
  Step build(const Deferred& deferred);

  std::unique_ptr<DeviceContext> device_;
  int replicas_, members_ = 0;
  std::vector<Slab> slabs_;               // by allocation index
  std::map<const void*, size_t> slices_;  // a live slice -> its slab
  Deferred deferred_;
  std::map<Deferred, Step> steps_;
  Step widest_;  // its counts (no graph, no tables)
  int graphs_ = 0;
};

}  // namespace gradscope
