// GS_HD marks what runs on both sides: __host__ __device__ under nvcc (the GPU and the host),
// nothing elsewhere (the host only: the cpu and emulated backends, tests).
#pragma once

#if defined(__CUDACC__)
#define GS_HD __host__ __device__
#else
#define GS_HD
#endif
