// Next-token prediction on real text: see text.h. Shape legend: N = windows, L = task.seq_len,
// W = L + 1 tokens per window, V = alphabet size, B = blocks.
#include "gradscope/tasks/text.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <stdexcept>

#include "gradscope/tasks/emergence.h"
#include "gradscope/tasks/task_family.h"
#include "gradscope/tasks/text_corpus.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

[[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& valid) {
  throw std::invalid_argument("task." + key + " = " + value + " (valid: " + valid + ")");
}

// The window starts of one split: its blocks [first, last) and the running count of starts.
struct Split {
  std::vector<int64_t> first, starts;  // [B_split] block start, cumulative window starts
  int64_t total() const { return starts.empty() ? 0 : starts.back(); }
  // The corpus offset of the u-th window start (u < total()).
  int64_t window(int64_t u) const {
    const size_t b = std::upper_bound(starts.begin(), starts.end(), u) - starts.begin();
    return first[b] + u - (b == 0 ? 0 : starts[b - 1]);
  }
};

struct Splits {
  Split train, test;
  int64_t blocks = 0, test_blocks = 0;
};

// Blocks of block_len tokens (at least two; the last takes the remainder), a held-out share of
// them drawn from Rng(split_seed, "blocks").
Splits make_splits(const TextTaskConfig& c, int64_t T) {
  const int64_t W = c.seq_len + 1;
  Splits s;
  s.blocks = std::max<int64_t>(2, T / c.block_len);
  s.test_blocks = std::clamp<int64_t>(std::llround(double(s.blocks) * c.held_out), 1, s.blocks - 1);
  std::vector<int64_t> order(static_cast<size_t>(s.blocks));
  std::iota(order.begin(), order.end(), 0);
  Rng(c.split_seed, "blocks").shuffle(order.data(), s.blocks);
  std::vector<char> held(static_cast<size_t>(s.blocks), 0);
  for (int64_t j = 0; j < s.test_blocks; ++j) held[order[j]] = 1;
  const int64_t len = T / s.blocks;
  for (int64_t b = 0; b < s.blocks; ++b) {
    const int64_t first = b * len, end = b + 1 == s.blocks ? T : first + len;
    Split& split = held[b] ? s.test : s.train;
    split.first.push_back(first);
    split.starts.push_back(split.total() + (end - first - W + 1));
  }
  return s;
}

using Corpus = std::shared_ptr<const TextCorpus>;

// n windows of `split` drawn from rng into out: inputs [N, L], targets [N, L] (the next tokens).
void draw_windows(const TextCorpus& corpus, const Split& split, int64_t L, Rng& rng, int64_t n,
                  Dataset& out) {
  out.length = L;
  out.targets_per_example = L;
  out.inputs.resize(static_cast<size_t>(n * L));
  out.targets.resize(static_cast<size_t>(n * L));
  for (int64_t e = 0; e < n; ++e) {
    const int64_t s = split.window(static_cast<int64_t>(rng.next_below(split.total())));
    for (int64_t j = 0; j < L; ++j) {
      out.inputs[e * L + j] = corpus.token(s + j);
      out.targets[e * L + j] = corpus.token(s + j + 1);
    }
  }
}

// The distinct tokens of the train split's blocks, ascending.
std::vector<int32_t> used_tokens(const TextCorpus& corpus, const Split& train, int64_t L) {
  std::vector<char> seen(static_cast<size_t>(corpus.vocab()), 0);
  for (size_t b = 0; b < train.first.size(); ++b) {
    const int64_t n = train.starts[b] - (b == 0 ? 0 : train.starts[b - 1]) + L;
    for (int64_t i = 0; i < n; ++i) seen[corpus.token(train.first[b] + i)] = 1;
  }
  std::vector<int32_t> used;
  for (size_t t = 0; t < seen.size(); ++t)
    if (seen[t]) used.push_back(static_cast<int32_t>(t));
  return used;
}

// n sequences (task.n_repeats) of L tokens: P random tokens from `used` (no token twice while there
// are enough), repeated to the end (P = min(25, L / 4), at least 1: several copies, at distances
// like those of natural text); prefix_target marks, from the second copy on (position P), the key
// just after the previous occurrence of the token.
Dataset repeated_tokens(const std::vector<int32_t>& used, int64_t n, int64_t L,
                        uint64_t split_seed) {
  const int64_t P = std::max<int64_t>(1, std::min<int64_t>(25, L / 4));
  const int64_t U = static_cast<int64_t>(used.size());
  Dataset d;
  d.length = L;
  d.targets_per_example = L;
  d.inputs.resize(static_cast<size_t>(n * L));
  d.targets.resize(static_cast<size_t>(n * L));
  std::vector<int32_t>& prefix_target = own_family_data<InductionTargets>(d.extra).prefix_target;
  prefix_target.assign(static_cast<size_t>(n * L), -1);  // [N, L]
  Rng rng(split_seed, "repeats");
  std::vector<int32_t> deck = used;
  for (int64_t e = 0; e < n; ++e) {
    int32_t* in = d.inputs.data() + e * L;
    for (int64_t j = 0; j < P; ++j) {
      const int64_t k = j % U;  // a fresh shuffle of the deck every U tokens
      std::swap(deck[k], deck[k + static_cast<int64_t>(rng.next_below(U - k))]);
      in[j] = deck[k];
    }
    for (int64_t j = P; j < L; ++j) in[j] = in[j - P];
    int32_t* target = d.targets.data() + e * L;
    for (int64_t j = 0; j < L; ++j) target[j] = in[(j + 1) % P];  // the repeat's next token
    for (int64_t j = P; j < L; ++j) prefix_target[e * L + j] = static_cast<int32_t>(j - P + 1);
  }
  return d;
}

// The corpus, checked against the config's recorded hash and table.
Corpus checked_corpus(const TextTaskConfig& c) {
  Corpus corpus = load_text_corpus(c.path, option_name("task.alphabet", c.alphabet));
  if (!c.data_hash.empty() && c.data_hash != corpus->hash)
    throw std::invalid_argument(fmt::format(
        "task.path {}: its text has content hash {}, not task.data_hash = \"{}\" (the corpus "
        "changed since the run was made; restore it, or clear task.data_hash for a new run)",
        c.path, corpus->hash, c.data_hash));
  if (c.alphabet == Alphabet::chars && !c.chars.empty() && c.chars != corpus->chars)
    throw std::invalid_argument("task.path " + c.path +
                                ": its characters are not task.chars (clear task.chars to take "
                                "the corpus's table)");
  const int64_t W = c.seq_len + 1;
  if (corpus->size() < 2 * W)
    throw std::invalid_argument(fmt::format(
        "task.path {}: {} tokens ({}), shorter than two contexts of task.seq_len + 1 = {} "
        "(valid: at least {} tokens, or a shorter task.seq_len)",
        c.path, corpus->size(), option_name("task.alphabet", c.alphabet), W, 2 * W));
  return corpus;
}

std::string description(const TextTaskConfig& c, const TextCorpus& corpus, const Splits& s) {
  return fmt::format(
      "text: {} ({} file{}, {} {}, vocabulary {}), windows of {}: {} train / {} test blocks, {} "
      "eval windows each, fresh training windows",
      c.path, corpus.files.size(), corpus.files.size() == 1 ? "" : "s", corpus.size(),
      c.alphabet == Alphabet::chars ? "characters" : "bytes", corpus.vocab(), c.seq_len,
      s.blocks - s.test_blocks, s.test_blocks, c.n_eval);
}

}  // namespace

void validate(const TextTaskConfig& c) {
  if (c.path.empty())
    bad("path", "\"\"", "a text file, or a directory of text files, for task.name = \"text\"");
  if (c.seq_len < 1)
    bad("seq_len", std::to_string(c.seq_len), "an integer >= 1: tokens of context");
  if (c.n_eval < 1) bad("n_eval", std::to_string(c.n_eval), "an integer >= 1");
  if (c.n_repeats < 1 || c.n_repeats > kPrefixMatchSequences)
    bad("n_repeats", std::to_string(c.n_repeats),
        fmt::format("an integer from 1 to {} (the sequences the prefix-matching probe reads)",
                    kPrefixMatchSequences));
  if (!(c.held_out > 0 && c.held_out < 1))
    bad("held_out", fmt::format("{}", c.held_out), "a share strictly between 0 and 1");
  if (c.block_len < c.seq_len + 1)
    bad("block_len", std::to_string(c.block_len),
        fmt::format("an integer >= task.seq_len + 1 = {}", c.seq_len + 1));
}

TaskData make_text_task(const TextTaskConfig& c) {
  validate(c);
  const Corpus corpus = checked_corpus(c);
  const auto splits = std::make_shared<const Splits>(make_splits(c, corpus->size()));
  TaskData data;
  data.vocab = data.num_classes = corpus->vocab();
  Rng train_rng(c.split_seed, "train_eval"), test_rng(c.split_seed, "test");
  draw_windows(*corpus, splits->train, c.seq_len, train_rng, c.n_eval, data.train);
  draw_windows(*corpus, splits->test, c.seq_len, test_rng, c.n_eval, data.test);
  own_family_data<RepeatedTokens>(data.extra).repeats = repeated_tokens(
      used_tokens(*corpus, splits->train, c.seq_len), c.n_repeats, c.seq_len, c.split_seed);
  data.sample = [corpus, splits, L = c.seq_len](uint64_t seed, uint64_t step, int64_t n,
                                                Dataset& out) {
    Rng rng = Rng(seed, "batch").substream(step);
    draw_windows(*corpus, splits->train, L, rng, n, out);
  };
  data.description = description(c, *corpus, *splits);
  return data;
}

std::vector<int32_t> encode_text(const std::string& text, const TextTaskConfig& c) {
  std::vector<int32_t> ids;
  if (c.alphabet == Alphabet::bytes) {
    for (unsigned char b : text) ids.push_back(b);
    return ids;
  }
  for (char32_t cp : from_utf8(text, "the prompt")) {
    const auto it = std::find(c.chars.begin(), c.chars.end(), cp);
    if (it == c.chars.end())
      throw std::invalid_argument(
          fmt::format("the prompt's character \"{}\" (U+{:04X}) is not in the run's alphabet of {} "
                      "characters (task.chars in its config.toml)",
                      to_utf8({cp}), static_cast<uint32_t>(cp), c.chars.size()));
    ids.push_back(static_cast<int32_t>(it - c.chars.begin()));
  }
  return ids;
}

std::string decode_tokens(const std::vector<int32_t>& ids, const TextTaskConfig& c) {
  if (c.alphabet == Alphabet::bytes) return std::string(ids.begin(), ids.end());
  std::vector<char32_t> out;
  for (int32_t id : ids) out.push_back(c.chars.at(static_cast<size_t>(id)));
  return to_utf8(out);
}

std::vector<char32_t> chars_from(const std::vector<double>& values) {
  std::vector<char32_t> out;
  for (double cp : values) {
    const bool ascending = out.empty() || cp > double(out.back());
    if (!(cp >= 0 && cp <= 0x10FFFF && cp == std::floor(cp) && ascending))
      bad("chars", fmt::format("[..., {}, ...]", cp),
          "ascending Unicode code points, the corpus's characters; [] to take them from it");
    out.push_back(static_cast<char32_t>(cp));
  }
  return out;
}

TextTaskConfig text_options(const Config& c) {
  return options_from<TextTaskConfig>(c);
}

namespace {

TaskData build_text(const Config& c) {
  try {
    return make_text_task(text_options(c));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
}

void validate_text(const Config& c) {
  if (c.integer("train.batch_size") == 0)
    throw ConfigError(
        "train.batch_size = 0 (full batch) with task.name = \"text\", which draws fresh windows "
        "every step: set train.batch_size >= 1");
  try {
    validate(text_options(c));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
}

// "test 2.3100 bits per token (train 2.2800), in-context score -0.4100" (a token: a character
// or a byte, as the alphabet).
std::string text_summary_line(const nlohmann::ordered_json& s) {
  return fmt::format("test {:.4f} bits per token (train {:.4f}), in-context score {:.4f}",
                     final_value(s, "test_bits"), final_value(s, "train_bits"),
                     final_value(s, "test_icl_score"));
}

}  // namespace

TaskFamily text_task() {
  TaskFamily f;
  f.name = "text";
  f.models = {"transformer"};
  f.validate = validate_text;
  f.resolve = [](Config& c) {
    const TextTaskConfig t = text_options(c);
    (void)build_text(c);  // the run's own errors, before anything starts
    const Corpus corpus = load_text_corpus(t.path, option_name("task.alphabet", t.alphabet));
    c.set("task.data_hash", corpus->hash);
    if (t.alphabet == Alphabet::chars)
      c.set("task.chars", std::vector<double>(corpus->chars.begin(), corpus->chars.end()));
  };
  f.build = build_text;
  f.measures = {"text", "dist_from_init", "prefix_matching"};
  f.monitored = {"test_loss", "test_bits", "test_icl_score", "train_icl_score", "prefix_match.*"};
  f.summary_line = text_summary_line;
  f.text = true;
  return f;
}

}  // namespace gradscope
