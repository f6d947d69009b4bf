// Algorithmic binary-operation tasks of Power et al. (2022), the task families "modular" and
// "permutation": c = a o b over Z_p (every operation of
// the paper, any modulus) or over the permutation group S_n. All pairs (or unordered pairs a <= b)
// are enumerated, shuffled by the "split" stream of split_seed (independent of the init seed), and
// the first floor(train_fraction * count) go to training. Transformer inputs are [a, b, '='], or
// with op_token [a, op, b, '='] (Grokfast's layout: op = size, '=' = size + 1, and the readout
// covers the whole vocabulary of size + 2, as their model's head does).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/config/options.h"
#include "gradscope/tasks/dataset.h"

namespace gradscope {

// The task.* keys of the algorithmic tasks (config/options.h: defaults and help in
// config/schema.cpp).
struct AlgorithmicTaskConfig {
  std::string name = option<std::string>("task.name");  // modular | permutation
  std::string op = option<std::string>("task.op");      // see modular_ops() and permutation_ops()
  int64_t p = option<int64_t>("task.p");                // modulus (modular)
  int64_t n = option<int64_t>("task.n");                // S_n degree (permutation)
  double train_fraction = option<double>("task.train_fraction");
  uint64_t split_seed = option<uint64_t>("task.split_seed");
  bool unordered = option<bool>("task.unordered");  // only pairs a <= b
  // Not a key: inputs [a, b, '='] (true: a transformer reads them) or operand ids [a, b].
  bool tokens = true;
  bool op_token = option<bool>("task.op_token");    // inputs [a, op, b, '='] (tokens only)
  bool nonzero_b = option<bool>("task.nonzero_b");  // only pairs with b != 0 (modular)
  bool operator==(const AlgorithmicTaskConfig&) const = default;
};
// The task.* keys of the modular and permutation tasks; tokens when model.type = transformer.
AlgorithmicTaskConfig algorithmic_options(const Config& config);

const std::vector<std::string>& modular_ops();
const std::vector<std::string>& permutation_ops();

// Throws std::invalid_argument naming the key (task.op, task.p, ...) and what is valid.
void validate(const AlgorithmicTaskConfig& c);
TaskData make_algorithmic_task(const AlgorithmicTaskConfig& c);

// Every ordered pair (a, b) of residues of a modular task, row a * p + b, in the task's input
// layout (the Fourier progress measures read the model on all of them); targets a o b, -1 where
// undefined.
Dataset modular_grid(const AlgorithmicTaskConfig& c);
// The operands (a, b) of example i of a split built by make_algorithmic_task.
std::pair<int64_t, int64_t> operands(const AlgorithmicTaskConfig& c, const Dataset& d, int64_t i);

// c = a o b for a modular op (a, b in [0, p)); -1 when undefined (division by 0).
int64_t modular_apply(const std::string& op, int64_t a, int64_t b, int64_t p);

}  // namespace gradscope
