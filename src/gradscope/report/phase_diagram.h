// Phase diagrams of a sweep: one cell per (x, y) pair of config values, coloured by a summary
// field of the runs there (the mean over seeds for numbers; the most common value for regime),
// read from the sweep's run directories (config.toml, summary.json).
#pragma once

#include <filesystem>
#include <string>

namespace gradscope {

struct PhaseDiagramOptions {
  std::string x, y;          // config keys, e.g. optim.weight_decay, task.train_fraction
  std::string z = "regime";  // regime, or a summary field (generalized_step, grokking_delay,
                             // memorized_step) or final.<metric> (final.test_acc)
  bool log_x = false, log_y = false;  // cells placed on log axes (values must be > 0)
};

// Writes the heatmap SVG; returns a one-line description. Throws std::invalid_argument naming
// the key when x, y or z is unknown or the sweep has no runs.
std::string write_phase_diagram(const std::filesystem::path& sweep_dir,
                                const PhaseDiagramOptions& options,
                                const std::filesystem::path& svg);

}  // namespace gradscope
