// Devices: where a run's tensors live and its kernels run. Every device is a DeviceContext, the
// one seam between the math (the kernels of cuda/kernels.h) and where it runs:
//
//   cpu        the host: host memory, kernels run over fixed partitions of their index range on
//              the --threads workers (each index written by one thread, so results do not depend
//              on the thread count), OpenBLAS for GEMMs, work done at once (no graphs).
//              cpu_context() is the process's one cpu backend.
//   cuda       an NVIDIA GPU: device memory, one stream, cuBLAS, the kernels of cuda/kernels.h,
//              and CUDA graphs (a captured training step replayed every step); built where nvcc
//              is found (GRADSCOPE_CUDA)
//   emulated   the cuda backend's code path run on the host: the same kernels (each a functor
//              called for every index), the same buffers, uploads and graph capture (recorded
//              launches replayed in order), CPU BLAS for GEMMs. For tests on machines without a
//              GPU: it checks the backend's logic, not its speed.
//
// A DeviceContext is one device's state for a run: memory, the stream, the BLAS handle, the
// graphs, and a cache of host constants uploaded once. All work is queued in order on the one
// stream; download() and sync() wait for it. Every call checks its CUDA status and throws
// std::runtime_error naming the call. Kernels are functors F with `void operator()(int64_t i)
// const` marked GS_HD (cuda/kernels.h): launch(f, n) runs f(i) for every i in [0, n).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <typeindex>
#include <utility>
#include <vector>

#include "gradscope/cuda/hd.h"
#include "gradscope/tensor/memory.h"
#if !defined(__CUDACC__)  // nvcc's units launch on the GPU (a cpu launch there runs serially)
#include "gradscope/tensor/threads.h"
#endif

namespace gradscope {

enum class Device { cpu, cuda, emulated };

const char* device_name(Device d);  // "cpu", "cuda", "emulated"
// Throws std::invalid_argument "device = <name> (valid: cpu, cuda, emulated)".
Device device_from_name(const std::string& name);
// Whether `d` has TF32 tensor cores for float GEMMs (precision = "tf32"): cuda only.
bool has_tf32(Device d);
// Why `d` cannot be used on this machine ("" when it can): a build without CUDA, no GPU, or a GPU
// whose cuBLAS cannot be opened.
std::string device_unavailable(Device d);
// Whether `d` is absent here (a build without CUDA, no GPU), as against present but unusable (no
// cuBLAS): the device tests skip the first and fail on the second.
bool device_missing(Device d);

#if GRADSCOPE_CUDA
// The CUDA launch of functor F over [0, n) on `stream` (cuda/cuda_backend.cu instantiates it for
// every functor in cuda/kernel_list.def).
template <class F>
void cuda_launch(const F& f, int64_t n, void* stream);
#endif

class DeviceContext;

// K copies of kernel F launched as one over the replica dimension (a replica group's stacked
// step, cuda/replica_device.h): index i runs replica i / n's functor at i % n, so every replica
// computes exactly what its own launch of F would.
template <class F>
struct Stacked {
  const F* functors;  // [K] in device memory
  int64_t n;          // each replica's index range
  GS_HD void operator()(int64_t i) const { functors[i / n](i % n); }
};
template <class F>
struct IsStacked : std::false_type {};
template <class F>
struct IsStacked<Stacked<F>> : std::true_type {};

// A kernel launch recorded instead of run (a replica group's member capturing its step): the
// functor's type and bytes, its index range, and how to launch K recorded copies as one Stacked.
struct RecordedLaunch {
  std::type_index type;
  int64_t n;
  std::vector<unsigned char> functor;  // sizeof(F) bytes
  void (*launch_stacked)(DeviceContext& d, const void* functors, int count, int64_t n);
};
class LaunchRecorder {
 public:
  virtual void record(RecordedLaunch launch) = 0;

 protected:
  ~LaunchRecorder() = default;
};

// The host as a device (see the top of this file); lives as long as the process.
DeviceContext& cpu_context();

#if !defined(__CUDACC__)
// Indices below which a cpu kernel runs on one thread.
inline constexpr int64_t kCpuKernelGrain = 1 << 15;

// What a kernel may tell the cpu backend (each optional, detected below):
//   cpu_cost()          the elements of work one index does (a row kernel: the row's width), so
//                       that a launch splits into partitions of about kCpuKernelGrain elements
//   cpu_range(b, e)     its cpu fast form: exactly what f(i) does for each i of [b, e)
//   cpu_extent(n)       the fast form partitions an index space of its own, [0, cpu_extent(n))
//                       (e.g. the columns an embedding's gradient scans), not [0, n)
template <class F, class = void>
struct HasCpuRange : std::false_type {};
template <class F>
struct HasCpuRange<F,
                   std::void_t<decltype(std::declval<const F&>().cpu_range(int64_t{}, int64_t{}))>>
    : std::true_type {};
template <class F, class = void>
struct HasCpuExtent : std::false_type {};
template <class F>
struct HasCpuExtent<F, std::void_t<decltype(std::declval<const F&>().cpu_extent(int64_t{}))>>
    : std::true_type {};
template <class F, class = void>
struct HasCpuCost : std::false_type {};
template <class F>
struct HasCpuCost<F, std::void_t<decltype(std::declval<const F&>().cpu_cost())>> : std::true_type {
};

// The cpu backend's launch: f (or its fast form) over contiguous partitions of its index space,
// each partition run by one thread.
template <class F>
void cpu_launch(const F& f, int64_t n) {
  int64_t extent = n, cost = 1;
  if constexpr (HasCpuExtent<F>::value) extent = f.cpu_extent(n);
  if constexpr (HasCpuCost<F>::value) cost = std::max<int64_t>(1, f.cpu_cost());
  parallel_for(extent, std::max<int64_t>(1, kCpuKernelGrain / cost), [&f](int64_t b, int64_t e) {
    if constexpr (HasCpuRange<F>::value)
      f.cpu_range(b, e);
    else
      for (int64_t i = b; i < e; ++i) f(i);
  });
}
#endif

class DeviceContext : public MemoryResource {
 public:
  // Throws std::runtime_error saying why when the device is unavailable. Device::cpu gives a new
  // cpu backend (cpu_context() is the shared one).
  static std::unique_ptr<DeviceContext> create(Device d);
  ~DeviceContext() override = default;
  Device device() const { return device_; }
  // What the seam asks of a backend. host_memory(): its memory is the host's, so host code may
  // read it directly and nothing is copied up or down (the cpu). records_graphs(): a step is
  // captured once and replayed (the devices) rather than run eagerly (the cpu).
  bool host_memory() const { return device_ == Device::cpu; }
  bool records_graphs() const { return device_ != Device::cpu; }

  // --- memory (MemoryResource: allocate, deallocate, zero) ---
  // Host -> device, queued on the stream; `host` must stay unchanged until the next sync().
  virtual void upload(void* device, const void* host, size_t bytes) = 0;
  // Device -> host; waits for the stream.
  virtual void download(void* host, const void* device, size_t bytes) = 0;
  virtual void copy(void* dst, const void* src, size_t bytes) = 0;  // device -> device
  // Page-locked host memory: copies to and from it run without staging or an implicit wait.
  virtual void* allocate_pinned(size_t bytes) = 0;
  virtual void deallocate_pinned(void* p) = 0;
  virtual void sync() = 0;
  // A device copy of constant host data (a table), uploaded on first use and kept while the
  // context lives: capture-safe from the second call on.
  const void* constant(const void* host, size_t bytes);

  // --- kernels ---
  template <class F>
  void launch(const F& f, int64_t n);
  // Row-major C[M, N] = alpha op(A)[M, K] op(B)[K, N] + beta C (cuBLAS, or the CPU BLAS).
  virtual void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                    int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc) = 0;
  virtual void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                    const double* A, int64_t lda, const double* B, int64_t ldb, double beta,
                    double* C, int64_t ldc) = 0;
  // float GEMMs on TF32 tensor cores (precision = "tf32"); off by default.
  virtual void set_tf32(bool on) = 0;
  // `count` GEMMs of one shape as one call (cuBLAS's strided-batched GEMM): C + b sC = alpha
  // op(A + b sA) op(B + b sB) + beta (C + b sC), strides in elements (0: one shared operand).
  virtual void gemm_strided_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                                    const float* A, int64_t lda, int64_t sA, const float* B,
                                    int64_t ldb, int64_t sB, float beta, float* C, int64_t ldc,
                                    int64_t sC, int count) = 0;
  virtual void gemm_strided_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                                    const double* A, int64_t lda, int64_t sA, const double* B,
                                    int64_t ldb, int64_t sB, double beta, double* C, int64_t ldc,
                                    int64_t sC, int count) = 0;
  // The same with pointer arrays [count] in device memory (cuBLAS's batched GEMM): C[b] = alpha
  // op(A[b]) op(B[b]) + beta C[b].
  virtual void gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                            const float* const* A, int64_t lda, const float* const* B, int64_t ldb,
                            float beta, float* const* C, int64_t ldc, int count) = 0;
  virtual void gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                            const double* const* A, int64_t lda, const double* const* B,
                            int64_t ldb, double beta, double* const* C, int64_t ldc, int count) = 0;

  // --- graphs: everything queued between begin_capture() and end_capture() is recorded instead
  // of run; replay(g) runs it again (same kernels, same arguments, same addresses).
  virtual void begin_capture() = 0;
  virtual int end_capture() = 0;  // the graph's id
  virtual void replay(int graph) = 0;
  virtual bool capturing() const = 0;

 protected:
  explicit DeviceContext(Device d) : device_(d) {}
  // The emulated backend's launch: run now, or record while capturing.
  virtual void host_launch(std::function<void()> work) = 0;
  // The CUDA stream (cudaStream_t) kernels are queued on; nullptr for the emulated backend.
  virtual void* stream_handle() = 0;
  // Frees the constants' copies (backends call it in their destructors).
  void release_constants();
  // Where launches go instead of running while set (a replica group's member capturing).
  LaunchRecorder* recorder_ = nullptr;

 private:
  friend class ReplicaMember;  // forwards its eager work to the group's device
  Device device_;
  std::map<std::pair<const void*, size_t>, void*> constants_;
};

// The context of the device named `name` ("" or "cpu": none; a host tape runs on cpu_context()).
// A bad name or an unavailable device throws std::invalid_argument saying which and why.
std::unique_ptr<DeviceContext> open_device(const std::string& name);

// n elements of U in device memory, freed with the buffer (empty: no memory).
template <class U>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(DeviceContext& device, int64_t n)
      : device_(&device),
        data_(n > 0 ? static_cast<U*>(device.allocate(static_cast<size_t>(n) * sizeof(U)))
                    : nullptr),
        size_(n) {}
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept { *this = std::move(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      std::swap(device_, o.device_);
      std::swap(data_, o.data_);
      std::swap(size_, o.size_);
    }
    return *this;
  }
  U* data() const { return data_; }
  int64_t size() const { return size_; }
  // Copies n host elements in (queued; the host data must stay unchanged until a sync).
  void upload(const U* host, int64_t n) {
    if (n > 0) device_->upload(data_, host, static_cast<size_t>(n) * sizeof(U));
  }

 private:
  void reset() {
    if (data_) device_->deallocate(data_);
    data_ = nullptr;
    size_ = 0;
  }
  DeviceContext* device_ = nullptr;
  U* data_ = nullptr;
  int64_t size_ = 0;
};

// Launches `count` recorded copies of F (at `functors`, in device memory) as one Stacked<F>.
template <class F>
void launch_stacked(DeviceContext& d, const void* functors, int count, int64_t n) {
  d.launch(Stacked<F>{static_cast<const F*>(functors), n}, count * n);
}

template <class F>
void DeviceContext::launch(const F& f, int64_t n) {
  if (n <= 0) return;
  if constexpr (!IsStacked<F>::value) {
    static_assert(std::is_trivially_copyable_v<F>, "a kernel functor is copied as bytes");
    if (recorder_) {
      const auto* bytes = reinterpret_cast<const unsigned char*>(&f);
      recorder_->record({std::type_index(typeid(F)), n,
                         std::vector<unsigned char>(bytes, bytes + sizeof(F)), &launch_stacked<F>});
      return;
    }
  }
#if !defined(__CUDACC__)
  if (device_ == Device::cpu) return cpu_launch(f, n);
#endif
#if GRADSCOPE_CUDA
  if (device_ == Device::cuda) {
    cuda_launch(f, n, stream_handle());
    return;
  }
#endif
  host_launch([f, n] {
    for (int64_t i = 0; i < n; ++i) f(i);
  });
}

}  // namespace gradscope
