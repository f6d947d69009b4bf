// `gradscope hessian RUN`: the curvature (run/hessian.h) at a run's checkpoints, written into
// hessian/ (run/checkpoint_measures.h): settings.json (the hessian.* settings), steps.npy (float32
// [S]), top.npy (float32 [S, top_k], the largest eigenvalues, descending), trace.npy (float32
// [S, 2]: Hutchinson's trace and its standard error) and, with hessian.per_tensor,
// tensor.<name>.npy (float32 [S, 3]: the block's largest eigenvalue, trace and its standard error).
// A rerun with the same settings skips the steps already there; other settings replace the folder,
// saying so.
#pragma once

#include <cstdio>

#include "gradscope/run/checkpoint_measures.h"

namespace gradscope {

// Measures and writes; one line per step to `out`. Throws ConfigError on bad input before
// anything is written. Returns 0.
int hessian_over_checkpoints(const CheckpointMeasureRequest& request, std::FILE* out = stdout);

}  // namespace gradscope
