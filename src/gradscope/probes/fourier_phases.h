// Nanda et al.'s three phases of grokking (REFERENCES.md 1a), located from a run's logged curves
// and Fourier progress measures (probe.fourier; probes/fourier_probe.h), for summary.json:
//
//   memorization       from step 0 to the probe step (up to the cleanup's start) where the
//                      excluded loss on train (fourier.excluded_loss_train) is lowest, the point
//                      from which the model starts to fit the training data through the key
//                      frequencies; without the restricted loss: to memorized_step (train
//                      accuracy at its threshold)
//   circuit formation  from there to the cleanup's start: the first logged step after
//                      memorized_step at which the test loss falls below ln p, the loss of a
//                      uniform guess over the p residues (until then memorization keeps the
//                      test loss far above chance while the restricted loss falls)
//   cleanup            from there to the first probe step at which the Gini coefficient of the
//                      neuron-logit map W_L's Fourier norms (W_E's for a model without one) has
//                      covered 90% of its rise from the cleanup's start to its largest value
//                      after it: the logits are made of the key frequencies alone, the
//                      memorizing components gone (W_L's Gini levels off where W_E's still
//                      creeps up, so the boundary does not move with the run's length)
//
// A boundary the run did not reach is null (and so is every later one).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "gradscope/probes/measures.h"

namespace gradscope {

// {"memorization": {"start": 0, "end": s1}, "circuit_formation": {"start": s1, "end": s2},
//  "cleanup": {"start": s2, "end": s3}}; `memorized_step`: the run's (summary.json).
nlohmann::ordered_json fourier_phases(std::span<const MetricValues> rows, int64_t p,
                                      std::optional<int64_t> memorized_step);

}  // namespace gradscope
