// The text measure (task family "text", tasks/text.h), a split measure:
//   <split>_bits       mean next-token loss in bits (nats / ln 2): bits per character or per byte,
//                      as task.alphabet
//   <split>_icl_score  Olsson et al.'s in-context score (probes/emergence.h): loss late in the
//                      window minus loss early in it, in nats; negative when the context helps
// Shape legend: N = windows, L = positions per window.
#include <cmath>
#include <numbers>

#include "gradscope/probes/emergence.h"
#include "gradscope/probes/measures.h"

namespace gradscope {
namespace {

void text_metrics(const Predictions& p, const Dataset& d, const std::string& split,
                  MetricValues& row) {
  const int64_t N = d.size(), L = d.targets_per_example;
  double loss = 0;
  for (double v : p.loss) loss += v;
  row.emplace_back(split + "_bits",
                   loss / std::max<double>(double(p.loss.size()), 1) / std::numbers::ln2);
  row.emplace_back(split + "_icl_score", icl_score(p, N, L));
}

}  // namespace

Measure text_measure() {
  return with_columns({"text", &text_metrics}, {"<split>_bits", "<split>_icl_score"});
}

}  // namespace gradscope
