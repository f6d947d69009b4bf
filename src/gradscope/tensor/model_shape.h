// ModelShape: the shape of a task's data as a model reads and writes it. A task family states it
// (tasks/task_family.h) and the model registry builds a model for it (nn/model_registry.h); it
// lives here, below both, because it is plain shape vocabulary.
#pragma once

#include <cstdint>

namespace gradscope {

struct ModelShape {
  int64_t vocab = 0;        // distinct input ids
  int64_t num_classes = 0;  // targets; transformers output `vocab` logits (targets < vocab); 1
                            // for one score per example (the hinge loss)
  int64_t length = 0;       // ids per example
  int64_t features = 0;     // real inputs per example (regression models, dense MLP)
  int64_t out_dim = 0;      // real outputs per example (regression models)
  int64_t seq_len = 0;      // diag_attention: positions per example (features = seq_len * d)
  int64_t predictions = 1;  // transformer: positions the loss reads (1: the last; length: every)
};

}  // namespace gradscope
