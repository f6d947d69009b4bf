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

// Writes each (name under `folder`, .npy bytes) atomically into `folder` (<run_dir>/<folder>/).
void write_probe_files(const std::filesystem::path& folder,
                       const std::vector<std::pair<std::string, std::string>>& files);
// Every <folder>/*.npy file as bytes (name -> bytes); empty when there are none.
std::map<std::string, std::string> read_probe_files(const std::filesystem::path& folder);

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
