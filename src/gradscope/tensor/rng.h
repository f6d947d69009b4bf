// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011) in named streams.
// A stream is (run seed, name) -> Philox key, e.g. Rng(seed, "init"), Rng(split_seed, "split"),
// Rng(seed, "batch").substream(step). Draw i of a stream is a pure function of (key, substream, i):
// no state is shared, so results are identical whatever the thread count or evaluation order, and
// a resumed run redraws exactly what it would have drawn.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace gradscope {

// One Philox4x32 block with 10 rounds. Exposed for the known-answer test.
std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

class Rng {
 public:
  Rng(uint64_t seed, std::string_view stream);

  // An independent stream under the same name, e.g. one per training step.
  Rng substream(uint64_t id) const;

  // Indexed draws: pure functions of the index.
  std::array<uint32_t, 4> bits(uint64_t i) const;
  double uniform(uint64_t i) const;              // in [0, 1), 53 random bits
  double normal(uint64_t i) const;               // standard normal (Box-Muller)
  uint64_t below(uint64_t i, uint64_t n) const;  // integer in [0, n)

  // Sequential draws: the same functions at an internal cursor, which then advances.
  double next_uniform() { return uniform(cursor_++); }
  double next_normal() { return normal(cursor_++); }
  uint64_t next_below(uint64_t n) { return below(cursor_++, n); }
  uint64_t cursor() const { return cursor_; }

  // out[j] = mean + stddev * normal(cursor + j) for j < n, then cursor += n.
  template <class T>
  void fill_normal(T* out, int64_t n, double mean, double stddev);
  // out[j] = stddev * z_j for j < n: standard normals two per counter from the cursor (Box-Muller's
  // cosine and sine, at vector speed: tensor/vector_normal.h), then cursor += ceil(n / 2).
  void fill_normal_pairs(double* out, int64_t n, double stddev);
  // The float form: four normals per counter in float (vector_normal.h), cursor += ceil(n / 4).
  void fill_normal_pairs(float* out, int64_t n, float stddev);
  // out[j] = lo + (hi - lo) * uniform(cursor + j) for j < n, then cursor += n.
  template <class T>
  void fill_uniform(T* out, int64_t n, double lo, double hi);
  // out[j] = stddev * z with z standard normal truncated to [-bound, bound] by rejection
  // (Haiku's TruncatedNormal), drawn sequentially from the cursor.
  template <class T>
  void fill_truncated_normal(T* out, int64_t n, double stddev, double bound = 2.0);
  // Fisher-Yates shuffle of out[0, n) drawn from this stream (advances the cursor by n).
  template <class I>
  void shuffle(I* out, int64_t n);

 private:
  std::array<uint32_t, 2> key_{};
  uint64_t sub_ = 0;
  uint64_t cursor_ = 0;
};

}  // namespace gradscope
