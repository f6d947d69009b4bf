// The CUDA backend (see device.h): device memory, one stream, cuBLAS, CUDA graphs, and the one
// kernel template that runs every functor of cuda/kernels.h, alone or K copies as one Stacked.
// Built only where nvcc is found. cuBLAS is opened when the first CUDA context is made, not
// linked: loading it costs every process about 0.15 s (its relocations and static initializers),
// which the cpu's commands and the Python module's import should not pay.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "gradscope/cuda/device.h"
#include "gradscope/cuda/kernels.h"

namespace gradscope {
namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}

void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuBLAS: ") + what + ": status " +
                             std::to_string(static_cast<int>(s)));
}

// The cuBLAS functions the backend calls, each as X(field, exported symbol), from the library
// opened by cublas(): first by its versioned name (LD_LIBRARY_PATH, then the system's paths), then
// in the toolkit's folder found at build time (GRADSCOPE_CUBLAS_DIR).
#define GS_CUBLAS_FUNCTIONS(X)                        \
  X(create, cublasCreate_v2)                          \
  X(destroy, cublasDestroy_v2)                        \
  X(set_stream, cublasSetStream_v2)                   \
  X(set_workspace, cublasSetWorkspace_v2)             \
  X(set_math_mode, cublasSetMathMode)                 \
  X(set_atomics_mode, cublasSetAtomicsMode)           \
  X(sgemm, cublasSgemm_v2)                            \
  X(dgemm, cublasDgemm_v2)                            \
  X(sgemm_strided_batched, cublasSgemmStridedBatched) \
  X(dgemm_strided_batched, cublasDgemmStridedBatched) \
  X(sgemm_batched, cublasSgemmBatched)                \
  X(dgemm_batched, cublasDgemmBatched)

struct Cublas {
#define GS_CUBLAS_FIELD(field, symbol) decltype(&symbol) field;
  GS_CUBLAS_FUNCTIONS(GS_CUBLAS_FIELD)
#undef GS_CUBLAS_FIELD
};

Cublas load_cublas() {
  const std::string name = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
  void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const std::string first = dlerror();  // found but unloadable says more than not found
    lib = dlopen((std::string(GRADSCOPE_CUBLAS_DIR) + "/" + name).c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib)
      throw std::runtime_error("cuBLAS: cannot open " + name + " (" + first + "; " + dlerror() +
                               "): put the CUDA toolkit's library folder on LD_LIBRARY_PATH");
  }
  auto get = [&](auto& f, const char* symbol) {
    f = reinterpret_cast<std::remove_reference_t<decltype(f)>>(dlsym(lib, symbol));
    if (!f)
      throw std::runtime_error("cuBLAS: " + name + " has no " + symbol +
                               " (valid: the cuBLAS of CUDA " +
                               std::to_string(CUDART_VERSION / 1000) + " this was built with)");
  };
  Cublas c{};
#define GS_CUBLAS_GET(field, symbol) get(c.field, #symbol);
  GS_CUBLAS_FUNCTIONS(GS_CUBLAS_GET)
#undef GS_CUBLAS_GET
  return c;  // the library stays open for the process
}

const Cublas& cublas() {
  static const Cublas c = load_cublas();
  return c;
}

template <class F>
__global__ void run_kernel(F f, int64_t n) {
  const int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (i < n) f(i);
}

constexpr int kThreads = 256;
constexpr size_t kBlasWorkspace = size_t{32} << 20;

class CudaContext final : public DeviceContext {
 public:
  CudaContext() : DeviceContext(Device::cuda) {
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cublas().create(&blas_), "cublasCreate");
    check(cublas().set_stream(blas_, stream_), "cublasSetStream");
    check(cudaMalloc(&workspace_, kBlasWorkspace), "cudaMalloc (cuBLAS workspace)");
    check(cublas().set_workspace(blas_, workspace_, kBlasWorkspace), "cublasSetWorkspace");
    check(cublas().set_math_mode(blas_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    check(cublas().set_atomics_mode(blas_, CUBLAS_ATOMICS_NOT_ALLOWED), "cublasSetAtomicsMode");
  }
  ~CudaContext() override {
    cudaStreamSynchronize(stream_);
    release_constants();
    for (cudaGraphExec_t g : graphs_) cudaGraphExecDestroy(g);
    cublas().destroy(blas_);
    cudaFree(workspace_);
    cudaStreamDestroy(stream_);
  }

  void* allocate(size_t bytes) override {
    void* p = nullptr;
    if (capturing())
      throw std::runtime_error("CUDA: device memory requested while a graph is captured");
    check(cudaMalloc(&p, bytes), "cudaMalloc");
    return p;
  }
  void deallocate(void* p) override {
    check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    check(cudaFree(p), "cudaFree");
  }
  void zero(void* p, size_t bytes) override {
    check(cudaMemsetAsync(p, 0, bytes, stream_), "cudaMemsetAsync");
  }
  void upload(void* device, const void* host, size_t bytes) override {
    check(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream_), "upload");
  }
  void download(void* host, const void* device, size_t bytes) override {
    check(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream_), "download");
    sync();
  }
  void copy(void* dst, const void* src, size_t bytes) override {
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_), "copy");
  }
  void sync() override { check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }
  void* allocate_pinned(size_t bytes) override {
    void* p = nullptr;
    check(cudaMallocHost(&p, bytes), "cudaMallocHost");
    return p;
  }
  void deallocate_pinned(void* p) override { check(cudaFreeHost(p), "cudaFreeHost"); }

  // Row-major C = A B is column-major C^T = B^T A^T: cuBLAS gets the operands swapped.
  void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
            int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) override {
    check(cublas().sgemm(blas_, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                         int(N), int(M), int(K), &alpha, B, int(ldb), A, int(lda), &beta, C,
                         int(ldc)),
          "cublasSgemm");
  }
  void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
            int64_t lda, const double* B, int64_t ldb, double beta, double* C,
            int64_t ldc) override {
    check(cublas().dgemm(blas_, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                         int(N), int(M), int(K), &alpha, B, int(ldb), A, int(lda), &beta, C,
                         int(ldc)),
          "cublasDgemm");
  }
  void gemm_strided_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                            const float* A, int64_t lda, int64_t sA, const float* B, int64_t ldb,
                            int64_t sB, float beta, float* C, int64_t ldc, int64_t sC,
                            int count) override {
    check(cublas().sgemm_strided_batched(
              blas_, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, int(N), int(M),
              int(K), &alpha, B, int(ldb), sB, A, int(lda), sA, &beta, C, int(ldc), sC, count),
          "cublasSgemmStridedBatched");
  }
  void gemm_strided_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                            const double* A, int64_t lda, int64_t sA, const double* B, int64_t ldb,
                            int64_t sB, double beta, double* C, int64_t ldc, int64_t sC,
                            int count) override {
    check(cublas().dgemm_strided_batched(
              blas_, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, int(N), int(M),
              int(K), &alpha, B, int(ldb), sB, A, int(lda), sA, &beta, C, int(ldc), sC, count),
          "cublasDgemmStridedBatched");
  }
  void gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* const* A, int64_t lda, const float* const* B, int64_t ldb,
                    float beta, float* const* C, int64_t ldc, int count) override {
    check(cublas().sgemm_batched(blas_, tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                                 ta ? CUBLAS_OP_T : CUBLAS_OP_N, int(N), int(M), int(K), &alpha, B,
                                 int(ldb), A, int(lda), &beta, C, int(ldc), count),
          "cublasSgemmBatched");
  }
  void gemm_batched(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                    const double* const* A, int64_t lda, const double* const* B, int64_t ldb,
                    double beta, double* const* C, int64_t ldc, int count) override {
    check(cublas().dgemm_batched(blas_, tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                                 ta ? CUBLAS_OP_T : CUBLAS_OP_N, int(N), int(M), int(K), &alpha, B,
                                 int(ldb), A, int(lda), &beta, C, int(ldc), count),
          "cublasDgemmBatched");
  }
  void set_tf32(bool on) override {
    check(cublas().set_math_mode(blas_, on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
          "cublasSetMathMode");
  }

  void begin_capture() override {
    check(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal),
          "cudaStreamBeginCapture");
    capturing_ = true;
  }
  int end_capture() override {
    capturing_ = false;
    cudaGraph_t graph = nullptr;
    check(cudaStreamEndCapture(stream_, &graph), "cudaStreamEndCapture");
    cudaGraphExec_t exec = nullptr;
    check(cudaGraphInstantiate(&exec, graph, 0), "cudaGraphInstantiate");
    check(cudaGraphDestroy(graph), "cudaGraphDestroy");
    graphs_.push_back(exec);
    return static_cast<int>(graphs_.size()) - 1;
  }
  void replay(int graph) override {
    check(cudaGraphLaunch(graphs_.at(static_cast<size_t>(graph)), stream_), "cudaGraphLaunch");
  }
  bool capturing() const override { return capturing_; }

 protected:
  void host_launch(std::function<void()>) override {
    throw std::logic_error("CudaContext: host work");
  }
  void* stream_handle() override { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  void* workspace_ = nullptr;
  bool capturing_ = false;
  std::vector<cudaGraphExec_t> graphs_;
};

}  // namespace

template <class F>
void cuda_launch(const F& f, int64_t n, void* stream) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  run_kernel<F>
      <<<static_cast<unsigned>(blocks), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(f, n);
  check(cudaGetLastError(), "kernel launch");
}

std::unique_ptr<DeviceContext> make_cuda_context() {
  return std::make_unique<CudaContext>();
}

std::string cuda_missing() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) return std::string("no CUDA GPU here (") + cudaGetErrorString(e) + ")";
  if (count < 1) return "no CUDA GPU here";
  return "";
}

std::string cuda_unavailable() {
  if (std::string why = cuda_missing(); !why.empty()) return why;
  try {
    cublas();
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

using namespace kernels;  // the op structs named inside the list (ScaleOp, ...)
#define COMMA ,
#define GRADSCOPE_KERNEL(F)                                                 \
  template void cuda_launch<kernels::F>(const kernels::F&, int64_t, void*); \
  template void cuda_launch<Stacked<kernels::F>>(const Stacked<kernels::F>&, int64_t, void*);
#include "gradscope/cuda/kernel_list.def"
#undef GRADSCOPE_KERNEL
#undef COMMA

}  // namespace gradscope
