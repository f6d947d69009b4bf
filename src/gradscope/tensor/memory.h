// MemoryResource: where an Arena's blocks live. The default is host memory; the CUDA backend
// (cuda/device.h) implements it for device memory, so a Tape on that arena computes on the GPU.
// Defined here, below the backend, so that tensor/ knows nothing of CUDA.
#pragma once

#include <cstddef>

namespace gradscope {

class MemoryResource {
 public:
  virtual ~MemoryResource() = default;
  // `bytes` of storage aligned to at least 64 bytes; throws std::bad_alloc (or the backend's
  // error) when there is none.
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* p) = 0;
  // Sets `bytes` bytes at p to zero (on the device's stream for device memory).
  virtual void zero(void* p, size_t bytes) = 0;
};

}  // namespace gradscope
