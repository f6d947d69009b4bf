// Test support: a run directory written through the run-directory module without training (a
// default config, `rows` metrics rows with a spike, and spectra), for the viewer's unit tests and
// fuzz target.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "gradscope/config/config.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/spectra_files.h"
#include "gradscope/tensor/npy.h"

namespace gradscope_test {

// Metrics: step = 10 r, train_loss = 1 / (r + 1) but 50 at row rows / 2, test_acc = r / rows.
// Spectra: 4 probe steps of a 3-value matrix "W".
inline void write_fake_run(const std::filesystem::path& dir, int rows) {
  namespace gs = gradscope;
  std::filesystem::create_directories(dir);
  gs::write_file_atomic(gs::rundir::config_file(dir), gs::Config().to_toml());
  gs::MetricsLog log(dir, -1);
  for (int r = 0; r < rows; ++r) {
    gs::MetricsRow row;
    row.values = {{"step", 10.0 * r},
                  {"train_loss", r == rows / 2 ? 50.0 : 1.0 / (r + 1)},
                  {"test_acc", static_cast<double>(r) / rows}};
    log.append(row);
  }
  const std::vector<float> steps = {0, 10, 20, 30},
                           values = {1, 0.5f, 0.1f, 2, 1, 0.2f, 3, 1, 0.3f, 4, 2, 0.4f};
  gs::write_probe_files(gs::rundir::spectra_dir(dir),
                        {{"steps.npy", gs::encode_npy_f32(steps, 4, 0)},
                         {"W.npy", gs::encode_npy_f32(values, 4, 3)}});
}

}  // namespace gradscope_test
