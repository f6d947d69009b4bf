// The geometry of the loss during training, as probe measures (probes/measures.h): at the probe
// steps (probe.every or probe.per_decade, and the last step),
//   probe.llc = true      the local learning coefficient (run/llc.h, the llc.* keys) into llc/,
//                         columns llc.mean and llc.std (over chains);
//   probe.hessian = true  the Hessian's top eigenvalues and trace (run/hessian.h, the hessian.*
//                         keys) into hessian/, columns hessian.top (the sharpness) and
//                         hessian.trace.
// Their folders hold what `gradscope llc` and `gradscope hessian` write, with the same
// settings.json, so either command skips the steps a probe measured. Each probe reads the host
// copy of the parameters (on any device) into a model of its own on the cpu (the llc in the run's
// precision, tf32 read as float32; the Hessian in float64) and draws only from its own random
// streams, so the run trains exactly as it would without it. Their summary.json sections name the
// first, peak and last values (and for the Hessian the sharpness against 2 / lr, the edge of
// stability of gradient descent, Cohen et al. 2021).
#pragma once

#include <vector>

#include "gradscope/probes/measures.h"

namespace gradscope {

// Every measure: the registry's (probes/measure_registry.def) after the run layer's two above,
// which are registered on the first call.
const std::vector<Measure>& run_measures();

}  // namespace gradscope
