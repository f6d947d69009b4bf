// Devices: names, the constants cache, and the emulated backend (see device.h). The CUDA
// backend is cuda_backend.cu, built where nvcc is found.
#include "gradscope/cuda/device.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "gradscope/tensor/blas.h"

namespace gradscope {

#if GRADSCOPE_CUDA
std::unique_ptr<DeviceContext> make_cuda_context();  // cuda_backend.cu
std::string cuda_unavailable();                      // cuda_backend.cu
std::string cuda_missing();                          // cuda_backend.cu
#endif

namespace {

// What the backends in host memory share: 64-byte aligned blocks, reads that need no wait.
class HostMemoryContext : public DeviceContext {
 public:
  explicit HostMemoryContext(Device d) : DeviceContext(d) {}
  void* allocate(size_t bytes) override {
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void deallocate(void* p) override { std::free(p); }
  void download(void* host, const void* device, size_t bytes) override {
    std::memcpy(host, device, bytes);
  }
  void sync() override {}
  void* allocate_pinned(size_t bytes) override { return allocate(bytes); }
  void deallocate_pinned(void* p) override { deallocate(p); }
  void set_tf32(bool) override {}
  // The pointer arrays are host memory here; they are read when the work runs.
  void gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* const* A, int64_t lda, const float* const* B, int64_t ldb,
                    float beta, float* const* C, int64_t ldc, int count) override {
    batched<float>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, count);
  }
  void gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                    const double* const* A, int64_t lda, const double* const* B, int64_t ldb,
                    double beta, double* const* C, int64_t ldc, int count) override {
    batched<double>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, count);
  }
  void gemm_strided_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                            const float* A, int64_t lda, int64_t sA, const float* B, int64_t ldb,
                            int64_t sB, float beta, float* C, int64_t ldc, int64_t sC,
                            int count) override {
    strided<float>(ta, tb, M, N, K, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC, count);
  }
  void gemm_strided_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                            const double* A, int64_t lda, int64_t sA, const double* B, int64_t ldb,
                            int64_t sB, double beta, double* C, int64_t ldc, int64_t sC,
                            int count) override {
    strided<double>(ta, tb, M, N, K, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC, count);
  }

 protected:
  void* stream_handle() override { return nullptr; }

 private:
  template <class T>
  void strided(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
               int64_t sA, const T* B, int64_t ldb, int64_t sB, T beta, T* C, int64_t ldc,
               int64_t sC, int count) {
    host_launch([=] {
      for (int64_t b = 0; b < count; ++b)
        gradscope::gemm<T>(ta, tb, M, N, K, alpha, A + b * sA, lda, B + b * sB, ldb, beta,
                           C + b * sC, ldc);
    });
  }
  template <class T>
  void batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* const* A,
               int64_t lda, const T* const* B, int64_t ldb, T beta, T* const* C, int64_t ldc,
               int count) {
    host_launch([=] {
      for (int b = 0; b < count; ++b)
        gradscope::gemm<T>(ta, tb, M, N, K, alpha, A[b], lda, B[b], ldb, beta, C[b], ldc);
    });
  }
};

// The cpu backend: host memory, work run at once (no graphs), OpenBLAS for GEMMs. Kernels go
// through DeviceContext::launch's cpu branch (parallel_for over fixed partitions), not here.
class CpuContext final : public HostMemoryContext {
 public:
  CpuContext() : HostMemoryContext(Device::cpu) {}
  ~CpuContext() override { release_constants(); }

  void zero(void* p, size_t bytes) override { std::memset(p, 0, bytes); }
  void upload(void* device, const void* host, size_t bytes) override {
    std::memcpy(device, host, bytes);
  }
  void copy(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }

  void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
            int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) override {
    gradscope::gemm<float>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
  void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
            int64_t lda, const double* B, int64_t ldb, double beta, double* C,
            int64_t ldc) override {
    gradscope::gemm<double>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }

  // The host runs every step eagerly: there is nothing to gain from replaying a recording.
  void begin_capture() override {
    throw std::logic_error("begin_capture: the cpu backend runs eagerly (no graphs)");
  }
  int end_capture() override {
    throw std::logic_error("end_capture: the cpu backend has no graphs");
  }
  void replay(int) override { throw std::logic_error("replay: the cpu backend has no graphs"); }
  bool capturing() const override { return false; }

 protected:
  void host_launch(std::function<void()> work) override { work(); }
};

// The emulated device: host memory, work run at once or recorded into graphs.
class EmulatedContext final : public HostMemoryContext {
 public:
  EmulatedContext() : HostMemoryContext(Device::emulated) {}
  ~EmulatedContext() override { release_constants(); }

  void zero(void* p, size_t bytes) override {
    host_launch([p, bytes] { std::memset(p, 0, bytes); });
  }
  void upload(void* device, const void* host, size_t bytes) override {
    host_launch([device, host, bytes] { std::memcpy(device, host, bytes); });
  }
  void copy(void* dst, const void* src, size_t bytes) override {
    host_launch([dst, src, bytes] { std::memcpy(dst, src, bytes); });
  }

  void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
            int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) override {
    host_launch(
        [=] { gradscope::gemm<float>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc); });
  }
  void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
            int64_t lda, const double* B, int64_t ldb, double beta, double* C,
            int64_t ldc) override {
    host_launch(
        [=] { gradscope::gemm<double>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc); });
  }

  void begin_capture() override {
    if (recording_) throw std::logic_error("begin_capture: already capturing");
    recording_ = true;
    graphs_.emplace_back();
  }
  int end_capture() override {
    recording_ = false;
    return static_cast<int>(graphs_.size()) - 1;
  }
  void replay(int graph) override {
    for (const auto& work : graphs_.at(static_cast<size_t>(graph))) work();
  }
  bool capturing() const override { return recording_; }

 protected:
  void host_launch(std::function<void()> work) override {
    if (recording_)
      graphs_.back().push_back(std::move(work));
    else
      work();
  }

 private:
  bool recording_ = false;
  std::vector<std::vector<std::function<void()>>> graphs_;
};

}  // namespace

const char* device_name(Device d) {
  switch (d) {
    case Device::cuda:
      return "cuda";
    case Device::emulated:
      return "emulated";
    default:
      return "cpu";
  }
}

Device device_from_name(const std::string& name) {
  for (Device d : {Device::cpu, Device::cuda, Device::emulated})
    if (name == device_name(d)) return d;
  throw std::invalid_argument("device = \"" + name + "\" (valid: cpu, cuda, emulated)");
}

std::unique_ptr<DeviceContext> open_device(const std::string& name) {
  const Device d = name.empty() ? Device::cpu : device_from_name(name);
  if (d == Device::cpu) return nullptr;
  try {
    return DeviceContext::create(d);
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(e.what());
  }
}

bool has_tf32(Device d) {
  return d == Device::cuda;
}

std::string device_unavailable(Device d) {
  if (d != Device::cuda) return "";
#if GRADSCOPE_CUDA
  return cuda_unavailable();
#else
  return "this gradscope was built without CUDA (no nvcc was found when it was built)";
#endif
}

bool device_missing(Device d) {
  if (d != Device::cuda) return false;
#if GRADSCOPE_CUDA
  return !cuda_missing().empty();
#else
  return true;
#endif
}

DeviceContext& cpu_context() {
  static CpuContext cpu;
  return cpu;
}

std::unique_ptr<DeviceContext> DeviceContext::create(Device d) {
  if (d == Device::emulated) return std::make_unique<EmulatedContext>();
  if (d == Device::cpu) return std::make_unique<CpuContext>();
  const std::string why = device_unavailable(d);
  if (!why.empty()) throw std::runtime_error("device = cuda: " + why);
#if GRADSCOPE_CUDA
  return make_cuda_context();
#else
  return nullptr;
#endif
}

const void* DeviceContext::constant(const void* host, size_t bytes) {
  auto it = constants_.find({host, bytes});
  if (it != constants_.end()) return it->second;
  void* p = allocate(bytes);
  upload(p, host, bytes);
  constants_[{host, bytes}] = p;
  return p;
}

void DeviceContext::release_constants() {
  for (auto& [key, p] : constants_) deallocate(p);
  constants_.clear();
}

}  // namespace gradscope
