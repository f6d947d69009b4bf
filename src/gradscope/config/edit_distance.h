// Levenshtein distance between two sequences (insertions, deletions and substitutions of one
// element each cost 1): config keys for "did you mean" messages, token runs for the induction
// metrics.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace gradscope {

template <class T>
size_t edit_distance(const T* a, size_t na, const T* b, size_t nb) {
  std::vector<size_t> prev(nb + 1), cur(nb + 1);
  for (size_t j = 0; j <= nb; ++j) prev[j] = j;
  for (size_t i = 1; i <= na; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= nb; ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[nb];
}

}  // namespace gradscope
