// Plots from run directories (never from live objects): SVG files a browser shows directly.
#pragma once

#include <filesystem>
#include <vector>

namespace gradscope {

// Train and test loss (log y) and accuracy against step (log x) from RUN_DIR/metrics.jsonl,
// two panels with axes, ticks, labels and a legend, titled with the run's name and seed. Step 0
// is left out (log axis).
void write_curves_svg(const std::filesystem::path& run_dir, const std::filesystem::path& svg);

}  // namespace gradscope

namespace gradscope {

// The rank-dynamics plots of a run directory, where it has the data (returns the files written):
//   spectra.svg             singular values of Delta W over steps (log x), one panel per matrix
//   normalized_spectra.svg  sigma_i / sigma_max against i at a few logged steps, per matrix
//   stable_rank.svg         stable rank of every probed matrix over steps
//   staircase.svg           (stage prediction) observed train loss over rescaled time beside the
//                           predicted staircase, with the observed spectral jumps marked
//   modes.svg               (Saxe prediction) observed mode strengths beside the closed form
std::vector<std::filesystem::path> write_rank_plots(const std::filesystem::path& run_dir);

}  // namespace gradscope
