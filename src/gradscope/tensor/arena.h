// Arena: bump allocator for per-step activations, reset at the start of every step.
// The first steps grow it block by block; a reset that finds more than one block merges them
// into one block of the combined size, so from the second step on a training step makes no heap
// allocation at all (tests/unit/alloc_free_test.cpp proves it). Memory is 64-byte aligned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace gradscope {

class Arena {
 public:
  explicit Arena(size_t initial_bytes = size_t{1} << 20);
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
    std::memset(static_cast<void*>(p), 0, static_cast<size_t>(n) * sizeof(U));
    return p;
  }

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

  std::vector<Block> blocks_;  // blocks_.back() is the one being filled
  size_t offset_ = 0;          // bytes used in blocks_.back()
  size_t used_before_ = 0;     // bytes used in the blocks before it
};

}  // namespace gradscope
