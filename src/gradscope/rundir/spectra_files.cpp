// Spectra files: see spectra_files.h.
#include "gradscope/rundir/spectra_files.h"

#include <algorithm>

#include "gradscope/rundir/files.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/tensor/npy.h"

namespace gradscope {

namespace fs = std::filesystem;

void write_probe_files(const fs::path& folder,
                       const std::vector<std::pair<std::string, std::string>>& files) {
  fs::create_directories(folder);
  for (const auto& [name, bytes] : files) write_file_atomic(folder / name, bytes);
}

std::map<std::string, std::string> read_probe_files(const fs::path& folder) {
  std::map<std::string, std::string> files;
  if (!fs::is_directory(folder)) return files;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.path().extension() != ".npy") continue;
    files[entry.path().filename().string()] = read_file(entry.path());
  }
  return files;
}

Spectra read_spectra(const fs::path& run_dir, const std::vector<std::string>& order) {
  Spectra sp;
  const fs::path steps_file = rundir::spectra_steps_file(run_dir);
  if (!fs::exists(steps_file)) return sp;
  int64_t n = 0, one = 0;
  for (float v : decode_npy_f32(read_file(steps_file), n, one, "spectra/steps.npy"))
    sp.steps.push_back(v);
  std::vector<std::string> rest;
  for (const auto& e : fs::directory_iterator(rundir::spectra_dir(run_dir))) {
    const std::string stem = e.path().stem().string();
    if (e.path().extension() == ".npy" && e.path() != steps_file &&
        std::find(order.begin(), order.end(), stem) == order.end())
      rest.push_back(stem);
  }
  std::sort(rest.begin(), rest.end());
  sp.names = order;
  sp.names.insert(sp.names.end(), rest.begin(), rest.end());
  for (const std::string& name : sp.names) {
    int64_t r = 0, k = 0;
    const auto flat = decode_npy_f32(read_file(rundir::spectra_file(run_dir, name)), r, k,
                                     "spectra/" + name + ".npy");
    std::vector<std::vector<float>> rows;
    for (int64_t i = 0; i < std::min<int64_t>(r, n); ++i)
      rows.emplace_back(flat.begin() + i * k, flat.begin() + (i + 1) * k);
    sp.rows.push_back(std::move(rows));
  }
  return sp;
}

}  // namespace gradscope
