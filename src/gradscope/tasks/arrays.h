// The task family "arrays": the user's own data, from a .npz file (task.path) holding x_train,
// y_train, x_test, y_test, and optionally the scalars vocab and classes:
//
//   x integer [N, L]   token sequences (vocabulary: `vocab`, else the largest token + 1; for a
//                      transformer at least the largest label + 1, as it reads out over it)
//   x float   [N, D]   real features (the dense MLP, the regression models)
//   y integer [N]      one class per sequence, read at the last position (classes: `classes`,
//                      else the largest label + 1)
//   y integer [N, L]   a target at every position (with token sequences x [N, L])
//   y float   [N] or [N, Y]  a regression target (loss 1/2 mean ||y - f(x)||^2)
//
// Bool arrays count as integers. Every shape, dtype, label range and vocabulary is checked with
// a one-line error naming the array and what would be valid. The data's identity is
// task.data_hash, the content hash of the arrays (names, dtypes, shapes and elements, not the
// archive's bytes, which carry timestamps); a run keeps a copy of the file as data.npz.
#pragma once

#include <map>
#include <string>

#include "gradscope/tasks/dataset.h"
#include "gradscope/tensor/npy.h"

namespace gradscope {

// What the model reads from the arrays: token ids or real features (model_reads_tokens).
enum class ArraysReader { tokens, features };

// The task data of parsed arrays for a model that reads `reader`; `transformer`: the readout is
// over the vocabulary. Throws std::invalid_argument "<origin>: <array> ..." naming what is valid.
TaskData arrays_task_data(const std::map<std::string, NpyArray>& arrays, const std::string& origin,
                          ArraysReader reader, bool transformer);

// 16 hex digits: the FNV-1a hash of the arrays' names, dtypes, shapes and elements.
std::string arrays_hash(const std::map<std::string, NpyArray>& arrays);

}  // namespace gradscope
