// Next-token prediction on real text, the task family "text": a corpus (tasks/text_corpus.h) read
// from task.path as bytes or characters (task.alphabet), windows of task.seq_len + 1 tokens, the
// model predicting every next token.
//
//   splits    the corpus is cut into blocks of task.block_len tokens (at least two blocks; the
//             last one takes the remainder); a share task.held_out of them, drawn from
//             Rng(split_seed, "blocks"), is the test split, the rest the train split. A window
//             lies inside one block, so no test token is ever seen in training.
//   training  fresh windows at every step from the run's batch stream (TaskData::sample),
//             uniform over the train split's window starts.
//   metrics   train_* and test_* on task.n_eval fixed windows of each split, from
//             Rng(split_seed, "train_eval") and Rng(split_seed, "test").
//   repeats   task.n_repeats sequences of random tokens (of those the train split uses):
//             P = min(25, L / 4) tokens repeated to the end of the window, for the prefix-matching
//             probe of induction heads (RepeatedTokens, the TaskData::extra; probes/emergence.h).
//             With the splits' 2 * n_eval windows they are an evaluation's cost: a forward pass
//             over 2 * n_eval + n_repeats windows, each about a third of a training step's
//             cost per window.
//   resolved  task.data_hash, the corpus's content hash, and (chars) task.chars, the character
//             table (the code point of each token, in order), are written into the run's config
//             before its id is taken and checked against the corpus whenever the run is built
//             again; the table is how a checkpoint is decoded (gradscope sample) wherever the
//             corpus is.
// Shape legend: N = windows, L = task.seq_len, V = alphabet size.
#pragma once

#include <cstdint>
#include <string>

#include "gradscope/config/config.h"
#include "gradscope/config/options.h"
#include "gradscope/tasks/dataset.h"

namespace gradscope {

// Sequences of repeated random tokens with their induction targets (TaskData::extra), for the
// prefix-matching probe on a task whose own splits do not mark predictable positions.
struct RepeatedTokens final : FamilyData {
  Dataset repeats;
};

// task.alphabet's values, in the schema's order.
enum class Alphabet { chars, bytes };

// task.chars as code points. Throws std::invalid_argument naming the key unless ascending code
// points.
std::vector<char32_t> chars_from(const std::vector<double>& values);

// The task.* keys of text (config/options.h: defaults, valid values and help in
// config/schema.cpp).
struct TextTaskConfig {
  std::string path = option<std::string>("task.path");
  Alphabet alphabet = option<Alphabet>("task.alphabet");
  int64_t seq_len = option<int64_t>("task.seq_len");      // L
  int64_t n_eval = option<int64_t>("task.n_eval");        // windows per evaluation split
  int64_t n_repeats = option<int64_t>("task.n_repeats");  // prefix-matching sequences
  double held_out = option<double>("task.held_out");      // share of blocks in the test split
  int64_t block_len = option<int64_t>("task.block_len");  // tokens per block
  uint64_t split_seed = option<uint64_t>("task.split_seed");
  std::string data_hash = option<std::string>("task.data_hash");  // "": the corpus's; else checked
  // empty: the corpus's; else checked (chars)
  std::vector<char32_t> chars = chars_from(option<std::vector<double>>("task.chars"));
};
TextTaskConfig text_options(const Config& config);

// The keys alone (not the corpus). Throws std::invalid_argument naming the key.
void validate(const TextTaskConfig& c);
// Reads the corpus and builds the splits. Throws std::invalid_argument naming task.path, the
// file and the problem (missing, empty, not UTF-8, shorter than two windows, a changed hash).
TaskData make_text_task(const TextTaskConfig& c);

// The token ids of UTF-8 `text` under a run's alphabet ("bytes", or the character table
// `chars`) and back. Throws std::invalid_argument naming a character outside the table.
std::vector<int32_t> encode_text(const std::string& text, const TextTaskConfig& c);
std::string decode_tokens(const std::vector<int32_t>& ids, const TextTaskConfig& c);

}  // namespace gradscope
