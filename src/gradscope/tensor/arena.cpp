// Arena implementation: see arena.h.
#include "gradscope/tensor/arena.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace gradscope {
namespace {
constexpr size_t kAlign = 64;
size_t round_up(size_t n) {
  return (n + kAlign - 1) / kAlign * kAlign;
}
}  // namespace

std::byte* Arena::allocate(size_t bytes) {
  bytes = round_up(std::max<size_t>(bytes, kAlign));
  void* p = memory_ ? memory_->allocate(bytes) : std::aligned_alloc(kAlign, bytes);
  if (!p) throw std::bad_alloc();
  return static_cast<std::byte*>(p);
}

void Arena::release(std::byte* p) {
  if (memory_)
    memory_->deallocate(p);
  else
    std::free(p);
}

Arena::Arena(size_t initial_bytes, MemoryResource* memory) : memory_(memory) {
  blocks_.reserve(64);
  size_t size = round_up(std::max<size_t>(initial_bytes, kAlign));
  blocks_.push_back({allocate(size), size});
}

Arena::~Arena() {
  for (Block& b : blocks_) release(b.data);
}

void* Arena::alloc_bytes(size_t bytes) {
  bytes = round_up(std::max<size_t>(bytes, 1));
  if (offset_ + bytes > blocks_.back().size) {
    used_before_ += offset_;
    size_t size = std::max(bytes, blocks_.back().size * 2);
    blocks_.push_back({allocate(size), size});
    offset_ = 0;
  }
  void* p = blocks_.back().data + offset_;
  offset_ += bytes;
  return p;
}

void Arena::reset() {
  if (blocks_.size() > 1) {
    size_t total = capacity();
    for (Block& b : blocks_) release(b.data);
    blocks_.clear();
    blocks_.push_back({allocate(total), total});
  }
  offset_ = 0;
  used_before_ = 0;
}

size_t Arena::capacity() const {
  size_t total = 0;
  for (const Block& b : blocks_) total += b.size;
  return total;
}

}  // namespace gradscope
