// `gradscope demo`: the interim default experiment (until `gradscope run` lands): a small
// concatenating MLP learns (a + b) mod p from half of all pairs under AdamW with weight decay,
// printing train and test loss and accuracy as it goes.
#pragma once

#include <cstdint>
#include <string>

namespace gradscope {

struct DemoOptions {
  int64_t p = 31;  // modulus; vocabulary and classes
  double train_fraction = 0.5;
  int64_t d_embed = 32;    // embedding width per operand
  int64_t d_hidden = 128;  // MLP width
  int64_t steps = 5000;    // full-batch AdamW steps
  int64_t log_every = 500;
  double lr = 3e-3, weight_decay = 1.0;
  uint64_t seed = 0;
  std::string precision = "float32";
};

// Trains and prints progress to stdout. Returns the process exit code.
int run_demo(const DemoOptions& options);

}  // namespace gradscope
