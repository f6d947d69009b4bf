// `gradscope inside RUN`: the inside view's frames (probes/inside.h) at a run's kept checkpoints,
// written into RUN/inside/<step>/ as probe.inside writes them during training. The neurons are
// those inside/neurons.npy names when the folder has them (a run trained with probe.inside), else
// the inside.neurons of largest activation norm over the (a, b) grid at the last checkpoint. A
// rerun skips the steps whose frame is complete (frame.json exists).
#pragma once

#include <cstdio>

#include "gradscope/run/checkpoint_measures.h"

namespace gradscope {

// Takes and writes the frames; one line per step to `out`. Throws ConfigError on bad input (a key
// other than inside.*, a step without a checkpoint, another device, inside.* settings that would
// give another layout than the frames already in RUN/inside) before anything is written.
// Returns 0.
int inside_over_checkpoints(const CheckpointMeasureRequest& request, std::FILE* out = stdout);

}  // namespace gradscope
