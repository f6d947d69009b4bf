// The training loop of `gradscope run`: task -> model -> steps of forward, backward, clipping and
// the optimizer; every log step it evaluates the whole train and test splits and appends a
// metrics row; it checkpoints at log-spaced steps (0, 100, 200, 500, 1000, 2000, ...), every
// train.checkpoint_every steps and at the end; at the end it writes summary.json.
//
// Step s means "after s optimizer updates". Iteration s computes the gradient at step s, logs row
// s (if a log step), checkpoints step s (if due), then applies update s+1. A run resumed from
// checkpoint s drops rows >= s and repeats from there: the metrics are bit-identical to an
// uninterrupted run, because every random draw is a pure function of (seed, stream, step) and
// every kernel is deterministic whatever the thread count.
#pragma once

#include <filesystem>
#include <string>

#include "gradscope/run/config.h"

namespace gradscope {

struct RunOptions {
  std::filesystem::path dir;   // the run directory
  bool resume = false;         // continue from the latest checkpoint in dir
  bool force = false;          // replace an existing run directory
  bool live = false;           // a live progress line (terminal) instead of plain lines
  std::string version_header;  // first comment lines of config.toml
};

// Exit status: 0 completed, 1 diverged or failed, 130 interrupted (checkpoint written).
int run_experiment(const Config& config, const RunOptions& options);

// Checkpoint steps that are kept for good: 0 and {1, 2, 5} x 10^k for k >= 2.
bool is_log_spaced_step(int64_t step);

}  // namespace gradscope
