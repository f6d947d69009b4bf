// Phase diagrams of a sweep: one cell per (x, y) pair of config values, coloured by a summary
// field of the runs there (the mean over seeds for numbers; the most common value for regime),
// read from the results index of the sweep's runs root (index/results_index.h) and drawn with
// the SVG layer (report/svg.h).
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

// Writes the heatmap SVG of the runs of sweep_dir (those indexed with sweep = its name, in
// index.sqlite beside it); returns a one-line description. Runs without a summary are counted
// as unfinished and left out. Throws std::invalid_argument naming the key when x, y or z is
// unknown, naming the index when there is none, or when the sweep has no finished runs.
std::string write_phase_diagram(const std::filesystem::path& sweep_dir,
                                const PhaseDiagramOptions& options,
                                const std::filesystem::path& svg);

}  // namespace gradscope
