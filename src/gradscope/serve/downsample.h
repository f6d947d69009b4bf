// Server-side downsampling of long metric series for the viewer: the series is cut into buckets
// of consecutive rows and each bucket keeps only its smallest and largest value (in step order),
// so a spike or a sudden drop survives while the points sent stay at most 2 per bucket.
#pragma once

#include <cstdint>
#include <vector>

namespace gradscope::serve {

// Indices of the rows to keep of values[0], values[stride], ..., values[(n-1)*stride]
// (ascending): all finite rows when n <= 2*buckets, else each bucket's argmin and argmax.
// Non-finite values (a diverged run's inf, a column absent from a row) are never kept.
std::vector<int64_t> minmax_rows(const double* values, int64_t stride, int64_t n, int64_t buckets);

// `count` indices spread evenly over [0, n) (all of them when n <= count), ascending, the last
// row always among them: the probe steps a heatmap shows.
std::vector<int64_t> even_rows(int64_t n, int64_t count);

}  // namespace gradscope::serve
