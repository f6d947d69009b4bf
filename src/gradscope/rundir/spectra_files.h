// A probe measure's folder of .npy files in a run directory (written atomically, read whole), and
// the spectra of a run directory: spectra/<matrix>.npy, float32 [n_logged, k] singular values of
// Delta W per probe step, and spectra/steps.npy, the probe steps.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gradscope {

// Writes each (name under `folder`, bytes) atomically into `folder` (<run_dir>/<folder>/), in
// order; a name may hold a subfolder ("1000/frame.json"), created as needed.
void write_probe_files(const std::filesystem::path& folder,
                       const std::vector<std::pair<std::string, std::string>>& files);
// Every <folder>/*.npy file as bytes (name -> bytes); empty when there are none.
std::map<std::string, std::string> read_probe_files(const std::filesystem::path& folder);

// The per-step values that `gradscope llc` and `gradscope hessian` keep in their folders, named by
// the metric column their probes log: llc.mean (llc/llc.npy, the mean over the chains that did not
// diverge),
// hessian.top (hessian/top.npy, the first column) and hessian.preconditioned
// (hessian/preconditioned.npy), as (step, value) by the folder's steps.npy; empty where the files
// are absent or do not match, the non-finite values left out.
const std::vector<std::string>& folder_measure_columns();
std::vector<std::pair<double, double>> folder_measure_series(const std::filesystem::path& run_dir,
                                                             const std::string& column);

struct Spectra {
  std::vector<double> steps;                          // [n_logged]
  std::vector<std::string> names;                     // matrices
  std::vector<std::vector<std::vector<float>>> rows;  // [matrix][logged][k]
};
// The decoded spectra; matrices in the order of `order` first (e.g. the summary's), then the rest
// alphabetically. Empty when the run has none. Throws std::runtime_error naming a corrupt file.
Spectra read_spectra(const std::filesystem::path& run_dir,
                     const std::vector<std::string>& order = {});

}  // namespace gradscope
