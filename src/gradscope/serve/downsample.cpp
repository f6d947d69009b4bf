// Min/max-per-bucket downsampling of metric series (serve/downsample.h).
#include "gradscope/serve/downsample.h"

#include <cmath>

namespace gradscope::serve {

std::vector<int64_t> minmax_rows(const double* values, int64_t stride, int64_t n, int64_t buckets) {
  std::vector<int64_t> rows;
  const auto at = [&](int64_t i) { return values[i * stride]; };
  if (buckets <= 0 || n <= 2 * buckets) {
    for (int64_t i = 0; i < n; ++i)
      if (std::isfinite(at(i))) rows.push_back(i);
    return rows;
  }
  for (int64_t b = 0; b < buckets; ++b) {
    const int64_t begin = n * b / buckets, end = n * (b + 1) / buckets;
    int64_t lo = -1, hi = -1;
    for (int64_t i = begin; i < end; ++i) {
      if (!std::isfinite(at(i))) continue;
      if (lo < 0 || at(i) < at(lo)) lo = i;
      if (hi < 0 || at(i) > at(hi)) hi = i;
    }
    if (lo < 0) continue;
    rows.push_back(std::min(lo, hi));
    if (hi != lo) rows.push_back(std::max(lo, hi));
  }
  return rows;
}

std::vector<int64_t> even_rows(int64_t n, int64_t count) {
  std::vector<int64_t> rows;
  if (n <= count) {
    for (int64_t i = 0; i < n; ++i) rows.push_back(i);
  } else if (count == 1) {
    rows.push_back(n - 1);
  } else {
    for (int64_t j = 0; j < count; ++j) rows.push_back(j * (n - 1) / (count - 1));
  }
  return rows;
}

}  // namespace gradscope::serve
