// The curves of a sweep with its seeds aggregated (`gradscope plot SWEEP_DIR`): the sweep's runs
// whose configs differ only in seed form a group, drawn as the mean over the group's runs (solid)
// with their min and max (dashed, the same colour), the aggregation the web viewer's compare view
// draws as a band.
#pragma once

#include <filesystem>
#include <string>

namespace gradscope {

// Writes svg (test loss and test accuracy against step, log steps) for the runs of sweep_dir
// that have metrics, and returns a one-line description. Throws std::invalid_argument naming the
// directory when it is not a sweep or none of its runs has metrics.
std::string write_seed_curves(const std::filesystem::path& sweep_dir,
                              const std::filesystem::path& svg);

}  // namespace gradscope
