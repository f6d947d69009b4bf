// The in-context regression measure: see incontext.h. Shape legend: N = sequences, K = queries.
#include "gradscope/probes/incontext.h"

#include <cmath>
#include <vector>

#include "gradscope/tasks/incontext.h"

namespace gradscope {
namespace {

// Mean squared difference of a and b [N, K], overall and per query k.
struct Errors {
  double mean = 0;
  std::vector<double> per_query;  // [K]
};
Errors squared_errors(const double* a, const double* b, int64_t N, int64_t K) {
  Errors e;
  e.per_query.assign(static_cast<size_t>(K), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      const double diff = a[n * K + k] - b[n * K + k];
      e.per_query[k] += diff * diff;
    }
  for (double& v : e.per_query) e.mean += v /= double(N);
  e.mean /= double(K);
  return e;
}

void append_per_query(const std::string& prefix, const Errors& e, MetricValues& row) {
  for (size_t k = 0; k < e.per_query.size(); ++k)
    row.emplace_back(prefix + std::to_string(k + 1), e.per_query[k]);
}

}  // namespace

void incontext_metrics(const Predictions& p, const Dataset& d, const std::string& split,
                       MetricValues& row) {
  const Baselines* baselines = family_data<Baselines>(d.extra);
  if (p.outputs.empty() || !baselines || baselines->baselines.empty()) return;
  const std::vector<Baselines::Baseline>& bs = baselines->baselines;
  const int64_t K = d.outputs, N = d.size();
  const double* f = p.outputs.data();  // [N, K]
  const Errors model = squared_errors(f, d.y.data(), N, K);
  std::vector<Errors> base;
  for (const Baselines::Baseline& b : bs)
    base.push_back(squared_errors(b.values.data(), d.y.data(), N, K));
  row.emplace_back(split + "_mse", model.mean);
  for (const Baselines::Baseline& b : bs)
    if (b.name != "zero")
      row.emplace_back(split + "_dist_" + b.name, squared_errors(f, b.values.data(), N, K).mean);
  const std::vector<double>& first = bs.front().values;
  int64_t matches = 0;
  for (int64_t i = 0; i < N * K; ++i)
    matches += std::abs(f[i] - first[i]) <= baselines->match_tolerance;
  row.emplace_back(split + "_" + bs.front().name + "_match", double(matches) / double(N * K));
  for (size_t j = 0; j < base.size(); ++j)
    row.emplace_back(split + "_" + bs[j].name + "_mse", base[j].mean);
  append_per_query(split + "_err.", model, row);
  for (size_t j = 0; j < base.size(); ++j)
    append_per_query(split + "_" + bs[j].name + "_err.", base[j], row);
}

Measure incontext_measure() {
  return with_columns({"incontext", &incontext_metrics},
                      {"<split>_mse", "<split>_dist_*", "<split>_*_match", "<split>_*_mse",
                       "<split>_err.*", "<split>_*_err.*"});
}

}  // namespace gradscope
