// Plots from run directories (never from live objects): SVG files a browser shows directly.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace gradscope {

// A plot's title for a run: "<name> (seed <seed>)" from its config, else the directory's name.
std::string run_title(const std::filesystem::path& run_dir);

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

// The emergence plots of a run directory, where it has the data (returns the files written):
//   hidden_progress.svg  (sparse parity) test loss with the relevant-weight share on a second
//                        axis; exact-match accuracy with ||W_t - W_0||; the share's rise over
//                        its step-0 value on a log axis beside the test loss
//   subtasks.svg         (multitask parity) every subtask's test loss and accuracy beside the
//                        smooth mean over examples (log steps)
//   induction.svg        (induction) the in-context score with the largest prefix-matching score
//                        on a second axis; every head's prefix-matching score (layer 0 dashed)
//   metric_choice.svg    (induction) exact match of whole repeated segments beside per-token
//                        accuracy; token edit distance and per-token loss
//   incontext.svg        (in-context regression) the squared error per query on new and on pool
//                        tasks, the model's (last logged step, and a quarter of the way) beside
//                        ridge, dmmse, least squares and zero; the model's distance to ridge and
//                        dmmse over training
std::vector<std::filesystem::path> write_emergence_plots(const std::filesystem::path& run_dir);

// The Fourier progress-measure plots of a run with probe.fourier (returns the files written):
//   fourier.svg   Nanda's heatmap: the norm of each frequency k of W_E (and W_L) over the probe
//                 steps, key frequencies labelled
//   progress.svg  train, test, restricted and excluded (train) loss on a log axis, the summary's
//                 phases (memorization, circuit formation, cleanup) shaded
std::vector<std::filesystem::path> write_fourier_plots(const std::filesystem::path& run_dir);

// The geometry plot of a run with probe.hessian or probe.llc (returns the files written):
//   geometry.svg  train and test loss (log y); the sharpness (hessian.top) with gradient
//                 descent's stability threshold 2 / lr dashed (the edge of stability, Cohen et al.
//                 2021); the LLC's mean over chains (llc.mean), each panel where measured
std::vector<std::filesystem::path> write_geometry_plots(const std::filesystem::path& run_dir);

}  // namespace gradscope
