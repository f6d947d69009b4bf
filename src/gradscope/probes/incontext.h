// The in-context regression measure (the split measure "incontext", probes/measures.h): the
// model's squared error per query beside the exact baselines the task carries
// (Dataset::baselines: ridge, dmmse, least_squares, zero), and its distance to each. For split
// s ("train": pool tasks; "test": new tasks), with K queries per sequence and k = 1..K (query k
// sees k - 1 examples):
//
//   s_mse                 the model's mean squared error over every query (the noise floor is
//                         sigma^2; Raventós et al. plot it divided by d)
//   s_dist_<b>            mean over queries of (f - b)^2, the model's distance to baseline b
//                         (every baseline but zero; Raventós et al.'s Delta is this divided by d)
//   s_<b0>_match          share of queries where |f - b0| <= Dataset::match_tolerance, b0 the
//                         first baseline (ridge): an exact-match metric beside the distance
//   s_<b>_mse             each baseline's mean squared error (constant over training)
//   s_err.<k>             the model's mean squared error at query k
//   s_<b>_err.<k>         each baseline's
#pragma once

#include <string>

#include "gradscope/probes/measures.h"

namespace gradscope {

void incontext_metrics(const Predictions& p, const Dataset& d, const std::string& split,
                       MetricValues& row);

}  // namespace gradscope
