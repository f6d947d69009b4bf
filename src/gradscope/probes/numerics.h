// Where a classification run stands against the limits of floating point (Prieto et al. 2025,
// "Grokking at the edge of numerical stability"; REFERENCES.md section 7): the numerics.* columns
// of every classification run's metrics, measured at each log step on the whole train split.
//
//   numerics.sc_torch_float32   share of train predictions whose float32 sum of exp(x - max) is
//                               exactly 1: the paper's Softmax Collapse test (logger.py's
//                               torch.sum(exp) == 1 on float32 logits) with the sum taken in class
//                               order. Near the edge the share depends on the order of the sum,
//                               which PyTorch's own sum sets by device and vector width: on a
//                               nanda run where about 4% of rows collapse, PyTorch's CPU sum
//                               counted a quarter fewer rows, and summing the other classes before
//                               the largest term (the order-free bound) a quarter as many
//                               (docs/FORMATS.md)
//   numerics.absorbed_target    share whose target-class gradient is exactly 0 in the run's own
//                               loss arithmetic (train.loss, train.softmax_numerics, the model's
//                               precision), with the mean over the whole train split
//   numerics.absorbed_row       share whose whole gradient row (every class) is exactly 0
//   numerics.margin_q10, _q50, _q90
//                               quantiles of the logit margin x_target - max_{j != target} x_j
//   numerics.adam_eps_share     (adam, adamw) share of parameters whose sqrt(v_hat) is below
//                               optim.eps, v_hat = v / (1 - beta2^t): eps dominates their update
//   numerics.nlm_cosine         cos(-g, theta) over all parameters: how far the step's gradient
//                               points along the naive loss minimization direction, which for a
//                               homogeneous model (no biases, ReLU, no normalization) scales the
//                               logits without changing the predictions; exact only there
//
// The summary's "numerics" section gives, for each of these columns, the first logged step at
// which it reaches 0.5 (null: never).
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "gradscope/probes/measures.h"
#include "gradscope/probes/objective.h"
#include "gradscope/tensor/tensor.h"

namespace gradscope {

// The logit columns (sc_torch_float32 ... margin_q90) of logits [R, C] (C > 1) against the
// split's targets [R], the gradient as the loss computes it.
template <class T>
void logit_numerics(const Tensor<T>& logits, const Dataset& d, Loss loss, SoftmaxNumerics numerics,
                    MetricValues& out);

// numerics.adam_eps_share from Adam's second moments v after `steps` updates, over the
// parameter tensors' elements (`tensors`: first element and count of each; the padding between
// them is no parameter).
template <class T>
double adam_eps_share(std::span<const T> v, const std::vector<std::pair<int64_t, int64_t>>& tensors,
                      int64_t steps, double beta2, double eps);

// numerics.nlm_cosine: cos(-grads, params) (NaN when either is 0).
template <class T>
double nlm_cosine(std::span<const T> params, std::span<const T> grads);

// The summary's "numerics" section from the logged rows: each numerics.* column's first step at
// or above 0.5.
nlohmann::ordered_json numerics_summary(std::span<const MetricValues> rows);

}  // namespace gradscope
