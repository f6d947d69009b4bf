// The summary of a run (its summary file): status, phases, final metrics and timing, written when
// a run ends (completed, diverged or interrupted). Summary is the typed form; the JSON layout is
// docs/FORMATS.md's, and writing then reading a summary gives it back unchanged.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace gradscope {

struct Summary {
  std::string status;   // completed | diverged | interrupted
  std::string message;  // why it stopped, how to resume (empty: none)
  // The accuracy phases (classification tasks only; regression summaries leave them out).
  bool classification = true;
  std::optional<int64_t> memorized_step, generalized_step, grokking_delay;
  std::string regime;  // comprehension | grokking | memorization | confusion
  double memorize_threshold = 0, generalize_threshold = 0, regime_threshold = 0;
  int64_t regime_gap = 0;
  std::vector<std::pair<std::string, double>> final;  // the last metrics row (NaN: null)
  int64_t steps_done = 0;
  std::optional<int64_t> n_params;  // the model's parameter count (absent in older summaries)
  double wall_time_s = 0, steps_per_s = 0;
  // Optional sections (null: absent): per-metric phase changes, per-matrix spectral jump steps,
  // the theory's prediction beside what was observed.
  nlohmann::ordered_json phase_changes, spectral_jump_steps, theory;
  nlohmann::ordered_json fourier;  // probe.fourier: key frequencies (last probe step), phases
  // Fields of a newer gradscope, kept so that reading and writing loses nothing.
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();

  double final_value(const std::string& key) const;  // NaN when absent
  // The optional section `name` (a probe measure's: spectral_jump_steps, fourier, or a new one,
  // kept in `extra`), to assign.
  nlohmann::ordered_json& section(const std::string& name);
  // Whether the run ended for good (not interrupted): a sweep does not run it again.
  bool finished() const { return status != "interrupted"; }
};

nlohmann::ordered_json summary_to_json(const Summary& s);
// Throws std::runtime_error naming `origin` when a field has the wrong type.
Summary summary_from_json(const nlohmann::ordered_json& j, const std::string& origin);

// Writes the run's summary file atomically.
void write_summary(const std::filesystem::path& run_dir, const Summary& s);
// The run's summary; nullopt when it has none. Throws std::runtime_error naming the file when it
// is not valid JSON of this layout.
std::optional<Summary> read_summary(const std::filesystem::path& run_dir);
// Removes the run's summary (a resumed run writes a new one when it ends).
void remove_summary(const std::filesystem::path& run_dir);

}  // namespace gradscope
