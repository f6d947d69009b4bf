// `gradscope show RUN_DIR`: a finished run's summary: status, task, model, phases (memorized and
// generalized steps, grokking delay, regime), the theory's comparison, phase changes, final
// metrics and speed.
#include <fmt/core.h>

#include <algorithm>

#include <memory>
#include <nlohmann/json.hpp>

#include "gradscope/cli/command.h"
#include "gradscope/config/config.h"
#include "gradscope/run/validate.h"
#include "gradscope/rundir/run_files.h"
#include "gradscope/rundir/summary_file.h"
#include "gradscope/tasks/task_family.h"

namespace gradscope::cli {
namespace {

// The task as its family names it ("modular a+b mod 113"), or its name.
std::string task_label(const Config& c) {
  const TaskFamily& family = find_task_family(c.string("task.name"));
  return family.label ? family.label(c) : family.name;
}

// The theory's prediction beside what the run showed (summary.json's "theory").
void print_theory(const nlohmann::json& th) {
  const auto& obs = th["observed"];
  if (th["prediction"]["kind"] == "stages") {
    fmt::print("  {:<18} {}\n", "predicted jumps", th["prediction"]["jump_times"].dump());
    fmt::print("  {:<18} {}\n", "loss jumps", obs["loss_jump_times"].dump());
    fmt::print("  {:<18} {}\n", "spectral jumps", obs["spectral_jump_times"].dump());
    return;
  }
  for (const auto& m : obs["modes"])
    fmt::print("  mode {} (s = {}): half step predicted {:.0f}, observed {}; max rel. dev. {}\n",
               m["mode"].dump(), m["s"].dump(), m["predicted_half_step"].get<double>(),
               m["observed_half_step"].dump(), m["max_relative_deviation"].dump());
}

// One line per metric whose phase change the run's summary records.
void print_phase_changes(const nlohmann::json& changes) {
  fmt::print("  phase changes      {:<30} {:>10} {:>10} {:>10} {:>8} {}\n", "metric", "from", "to",
             "onset", "step", "width (decades)");
  for (const auto& [k, v] : changes.items()) {
    if (!v.is_object()) continue;
    auto num = [&](const char* f) {
      if (!v.contains(f) || !v[f].is_number()) return std::string("-");
      return v[f].is_number_integer() ? v[f].dump() : fmt::format("{:.4g}", v[f].get<double>());
    };
    fmt::print("                     {:<30} {:>10} {:>10} {:>10} {:>8} {}{}\n", k, num("from"),
               num("to"), num("onset_step"), num("step"), num("width_decades"),
               v.value("abrupt", false) ? " abrupt" : "");
  }
}

int show(const std::string& dir) {
  const Config c = read_run_config(dir);  // a run directory, or one line saying what dir is
  const std::optional<Summary> summary = read_summary(dir);
  if (!summary) throw ConfigError(dir + ": no summary (is the run finished? see its metrics)");
  const auto s = summary_to_json(*summary);
  fmt::print("{}: {} | {} | model {} | {} steps\n", dir, s.value("status", "?"), task_label(c),
             c.string("model.type"), c.integer("train.steps"));
  for (const char* k : {"memorized_step", "generalized_step", "grokking_delay", "regime"})
    if (s.contains(k)) fmt::print("  {:<18} {}\n", k, s[k].dump());
  if (s.contains("theory")) print_theory(s["theory"]);
  if (s.contains("phase_changes") &&
      std::any_of(s["phase_changes"].begin(), s["phase_changes"].end(),
                  [](const auto& v) { return v.is_object(); }))  // null: too few rows to tell
    print_phase_changes(s["phase_changes"]);
  for (const char* k :
       {"train_loss", "train_acc", "test_loss", "test_acc", "test_rel_error", "weight_norm"})
    if (s["final"].contains(k)) fmt::print("  final {:<12} {}\n", k, s["final"][k].dump());
  fmt::print("  {:<18} {:.1f} s ({:.1f} steps/s)\n", "wall_time", s.value("wall_time_s", 0.0),
             s.value("steps_per_s", 0.0));
  if (s.contains("message")) fmt::print("  {}\n", s["message"].get<std::string>());
  return 0;
}

Action define(CLI::App& sub, const Globals&) {
  auto dir = std::make_shared<std::string>();
  sub.add_option("run_dir", *dir, "run directory")->required();
  return [dir] { return show(*dir); };
}

}  // namespace

Command show_command() {
  return {"show", "print a run's summary", &define};
}

}  // namespace gradscope::cli
