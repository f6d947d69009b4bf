// Arena: bump allocator for per-step activations, reset at the start of every step.
// The first steps grow it block by block; a reset that finds more than one block merges them
// into one block of the combined size, so from the second step on a training step makes no heap
// allocation at all (tests/unit/alloc_free_test.cpp proves it). Memory is 64-byte aligned. Blocks
// come from host memory, or from a MemoryResource (device memory of the CUDA backend); the
// arena only hands out addresses and never reads or writes its memory itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "gradscope/tensor/memory.h"

namespace gradscope {

class Arena {
 public:
  explicit Arena(size_t initial_bytes = size_t{1} << 20, MemoryResource* memory = nullptr);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Uninitialized storage for n elements of type U.
  template <class U>
  U* alloc(int64_t n) {
    return static_cast<U*>(alloc_bytes(static_cast<size_t>(n) * sizeof(U)));
  }
  // Zero-filled storage for n elements of type U.
  template <class U>
  U* zeros(int64_t n) {
    U* p = alloc<U>(n);
    if (memory_)
      memory_->zero(p, static_cast<size_t>(n) * sizeof(U));
    else
      std::memset(static_cast<void*>(p), 0, static_cast<size_t>(n) * sizeof(U));
    return p;
  }
  // The device memory the blocks come from; nullptr for host memory.
  MemoryResource* memory() const { return memory_; }

  // Frees everything handed out (pointers become invalid); keeps the capacity.
  void reset();

  size_t bytes_in_use() const { return used_before_ + offset_; }
  size_t capacity() const;
  int block_count() const { return static_cast<int>(blocks_.size()); }

 private:
  struct Block {
    std::byte* data;
    size_t size;
  };
  void* alloc_bytes(size_t bytes);
  std::byte* allocate(size_t bytes);
  void release(std::byte* p);

  MemoryResource* memory_ = nullptr;
  std::vector<Block> blocks_;  // blocks_.back() is the one being filled
  size_t offset_ = 0;          // bytes used in blocks_.back()
  size_t used_before_ = 0;     // bytes used in the blocks before it
};

}  // namespace gradscope
