// The summary file: see summary_file.h.
#include "gradscope/rundir/summary_file.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "gradscope/rundir/files.h"
#include "gradscope/rundir/json_fields.h"
#include "gradscope/rundir/paths.h"

namespace gradscope {
namespace {

using json = nlohmann::ordered_json;

json optional_step(const std::optional<int64_t>& v) {
  return v ? json(*v) : json(nullptr);
}

int64_t whole_or(const json& j, const char* key, int64_t fallback) {
  return j.contains(key) ? json_int(j[key], key) : fallback;
}

std::optional<int64_t> step_of(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return json_int(j[key], key);
}

const std::string kKnown[] = {
    "status",      "message",     "memorized_step", "generalized_step",    "grokking_delay",
    "regime",      "thresholds",  "final",          "steps_done",          "n_params",
    "wall_time_s", "steps_per_s", "phase_changes",  "spectral_jump_steps", "theory",
    "fourier"};

}  // namespace

double Summary::final_value(const std::string& key) const {
  for (const auto& [k, v] : final)
    if (k == key) return v;
  return NAN;
}

json& Summary::section(const std::string& name) {
  if (name == "phase_changes") return phase_changes;
  if (name == "spectral_jump_steps") return spectral_jump_steps;
  if (name == "theory") return theory;
  if (name == "fourier") return fourier;
  return extra[name];
}

json summary_to_json(const Summary& s) {
  json j;
  j["status"] = s.status;
  if (!s.message.empty()) j["message"] = s.message;
  if (s.classification) {
    j["memorized_step"] = optional_step(s.memorized_step);
    j["generalized_step"] = optional_step(s.generalized_step);
    j["grokking_delay"] = optional_step(s.grokking_delay);
    j["regime"] = s.regime;
    j["thresholds"] = {{"memorize", s.memorize_threshold},
                       {"generalize", s.generalize_threshold},
                       {"regime", s.regime_threshold},
                       {"regime_gap", s.regime_gap}};
  }
  json fin = json::object();
  for (const auto& [k, v] : s.final) fin[k] = std::isfinite(v) ? json(v) : json(nullptr);
  j["final"] = fin;
  j["steps_done"] = s.steps_done;
  if (s.n_params) j["n_params"] = *s.n_params;
  j["wall_time_s"] = s.wall_time_s;
  j["steps_per_s"] = s.steps_per_s;
  if (!s.phase_changes.is_null()) j["phase_changes"] = s.phase_changes;
  if (!s.spectral_jump_steps.is_null()) j["spectral_jump_steps"] = s.spectral_jump_steps;
  if (!s.theory.is_null()) j["theory"] = s.theory;
  if (!s.fourier.is_null()) j["fourier"] = s.fourier;
  for (const auto& [k, v] : s.extra.items()) j[k] = v;
  return j;
}

Summary summary_from_json(const json& j, const std::string& origin) {
  Summary s;
  try {
    s.status = j.at("status").get<std::string>();
    s.message = j.value("message", std::string());
    s.classification = j.contains("regime");
    s.memorized_step = step_of(j, "memorized_step");
    s.generalized_step = step_of(j, "generalized_step");
    s.grokking_delay = step_of(j, "grokking_delay");
    s.regime = j.value("regime", std::string());
    if (j.contains("thresholds")) {
      const json& t = j["thresholds"];
      s.memorize_threshold = t.value("memorize", 0.0);
      s.generalize_threshold = t.value("generalize", 0.0);
      s.regime_threshold = t.value("regime", 0.0);
      s.regime_gap = whole_or(t, "regime_gap", 0);
    }
    const json fin = j.value("final", json::object());
    for (const auto& [k, v] : fin.items())
      s.final.emplace_back(k, v.is_number() ? v.get<double>() : NAN);
    s.steps_done = whole_or(j, "steps_done", 0);
    s.n_params = step_of(j, "n_params");
    s.wall_time_s = j.value("wall_time_s", 0.0);
    s.steps_per_s = j.value("steps_per_s", 0.0);
    if (j.contains("phase_changes")) s.phase_changes = j["phase_changes"];
    if (j.contains("spectral_jump_steps")) s.spectral_jump_steps = j["spectral_jump_steps"];
    if (j.contains("theory")) s.theory = j["theory"];
    if (j.contains("fourier")) s.fourier = j["fourier"];
    for (const auto& [k, v] : j.items())
      if (std::find(std::begin(kKnown), std::end(kKnown), k) == std::end(kKnown)) s.extra[k] = v;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(origin + ": not a gradscope summary (" + e.what() + ")");
  }
  return s;
}

void write_summary(const std::filesystem::path& run_dir, const Summary& s) {
  write_file_atomic(rundir::summary_file(run_dir), summary_to_json(s).dump(2) + "\n");
}

void remove_summary(const std::filesystem::path& run_dir) {
  std::filesystem::remove(rundir::summary_file(run_dir));
}

std::optional<Summary> read_summary(const std::filesystem::path& run_dir) {
  const std::filesystem::path path = rundir::summary_file(run_dir);
  if (!std::filesystem::exists(path)) return std::nullopt;
  json j;
  try {
    j = json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path.string() + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw std::runtime_error(path.string() + ": not a JSON object");
  return summary_from_json(j, path.string());
}

}  // namespace gradscope
