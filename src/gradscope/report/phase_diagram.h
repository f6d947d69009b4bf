// Plots of a sweep, read from the results index of the sweep's runs root (index/results_index.h)
// and drawn with the SVG layer (report/svg.h):
//   phase diagrams  one cell per (x, y) pair of config values, coloured by a summary field of the
//                   runs there (the mean over seeds for numbers; the most common regime)
//   lines           summary fields against one config key or the parameter count, the mean over
//                   the runs at each x (their seeds) with the min and max as dashed lines
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "gradscope/report/svg.h"

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

struct SweepLinesOptions {
  std::string x;               // a numeric config key, or a summary count: n_params
  std::vector<std::string> y;  // one line each: summary fields or final.<metric>, as z above
  bool log_x = false, log_y = false;
  std::string by;  // a numeric config key: one line per y and per value of it ("": none)
};

// Values of several runs (their seeds) at each x, ascending.
using Spread = std::map<double, std::vector<double>>;

// A spread as curves of one colour: the mean (solid, labelled) and, where they differ from it,
// the min and max (dashed, unlabelled); an x a log axis cannot show is left out (log_y: where the
// min is not positive). The sweep lines and the seed curves (report/seed_curves.h) draw with it.
std::vector<Series> spread_series(const Spread& at, const std::string& label,
                                  const std::string& color, bool log_x, bool log_y);

// Writes the line plot SVG of the finished runs of sweep_dir; returns a one-line description.
// Throws std::invalid_argument naming the key or field when x or a y is unknown, as
// write_phase_diagram does otherwise.
std::string write_sweep_lines(const std::filesystem::path& sweep_dir,
                              const SweepLinesOptions& options, const std::filesystem::path& svg);

}  // namespace gradscope
