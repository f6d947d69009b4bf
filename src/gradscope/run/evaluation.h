// The evaluation row of a log step: the loss and accuracy (or relative error) on the whole train
// and test splits, the task family's measures, the norms and the probe measures, in the column
// order of metrics.jsonl:
//
//   step, lr, train_loss, [train_acc, test_loss, test_acc] or [test_loss, test_rel_error]
//   (regression), split measures (train, then test), rescaled_time (init_scale < 1), weight_norm,
//   grad_norm, weight_norm.<param>..., numerics.* (classification: probes/numerics.h), model
//   measures, probe measures (spectra.<matrix>.<stat>..., fourier.<matrix>.<stat>...)
#pragma once

#include <cstdint>
#include <string>

#include "gradscope/run/experiment.h"
#include "gradscope/rundir/metrics.h"

namespace gradscope {

struct SplitEvaluation {
  double loss = 0, acc = NAN, rel_error = NAN;
  MetricValues measures;  // the split measures' columns
  MetricValues numerics;  // the train split of a classification run: probes/numerics.h
};

// The loss on a whole split (no gradients), with accuracy (classification: over every
// prediction) or the relative error ||f(x) - y|| / ||y|| (regression). Resets the tape; on a
// device tape reads the split's device copy.
template <class T>
SplitEvaluation evaluate_split(Experiment<T>& x, Tape<T>& t, const Dataset& d,
                               const std::string& split);

struct Evaluation {
  MetricsRow row;
  SplitEvaluation train, test;
};

// The row of step `step` (lr: the step's scheduled rate; grad_norm: of the step's gradient, which
// evaluation leaves alone). With probe_step the probe measures measure (and keep a row). The
// losses run on tape t (a device tape for runs off the cpu); model measures and the probe read
// the host copy of the parameters, on the host tape `host` (t itself on the cpu).
template <class T>
Evaluation evaluate(Experiment<T>& x, Tape<T>& t, Tape<T>& host, int64_t step, double lr,
                    double grad_norm, bool probe_step);

}  // namespace gradscope
