// Plots from run directories (never from live objects): SVG files a browser shows directly.
#pragma once

#include <filesystem>

namespace gradscope {

// Train and test loss (log y) and accuracy against step (log x) from RUN_DIR/metrics.jsonl,
// two panels with axes, ticks, labels and a legend, titled with the run's name and seed. Step 0
// is left out (log axis).
void write_curves_svg(const std::filesystem::path& run_dir, const std::filesystem::path& svg);

}  // namespace gradscope
