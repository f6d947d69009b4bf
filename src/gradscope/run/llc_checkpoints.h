// `gradscope llc RUN`: the local learning coefficient (run/llc.h) at a run's checkpoints, written
// into its directory: llc/settings.json (the llc.* settings, n beta and how it was set),
// llc/steps.npy (float32 [S], the checkpoint steps estimated), llc/llc.npy (float32 [S, chains],
// each chain's lambda-hat; NaN where a chain diverged), llc/init_loss.npy (float32 [S], L_n(w*))
// and llc/trace_<step>.npy (float32 [chains, draws], every draw's loss). A rerun with the same
// settings skips the steps already there; other settings replace the folder, saying so.
// With request.calibrate (gradscope llc --calibrate) it maps lambda-hat at one checkpoint over a
// grid of step sizes (llc.step_size times 0.1, 0.32, 1, 3.2, 10) and n betas (the run's times 1/3,
// 1, 3), printing a table that marks each setting stable or not (a chain diverged, did not
// settle or gave < 0) and writing llc/calibration_<step>.json; llc.npy's rows are not touched.
#pragma once

#include <cstdio>

#include "gradscope/run/checkpoint_measures.h"

namespace gradscope {

// Estimates and writes; prints one line per step to `out` and each warning as one line
// "gradscope: warning: ..." to `err`. Throws ConfigError on bad input (a key other than llc.*, a
// step without a checkpoint, another device) before anything is written. Returns 0.
int llc_over_checkpoints(const CheckpointMeasureRequest& request, std::FILE* out = stdout,
                         std::FILE* err = stderr);

}  // namespace gradscope
