// Spectra files: see spectra_files.h.
#include "gradscope/rundir/spectra_files.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "gradscope/rundir/files.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/tensor/npy.h"

namespace gradscope {

namespace fs = std::filesystem;

void write_probe_files(const fs::path& folder,
                       const std::vector<std::pair<std::string, std::string>>& files) {
  fs::create_directories(folder);
  for (const auto& [name, bytes] : files) {
    const fs::path file = folder / name;
    if (file.parent_path() != folder) fs::create_directories(file.parent_path());
    write_file_atomic(file, bytes);
  }
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

namespace {

struct FolderMeasure {
  std::string column, folder, file;
  bool first;  // the first column only (else the mean over the finite ones: chains that diverged
               // are NaN)
};

const std::vector<FolderMeasure>& folder_measures() {
  static const std::vector<FolderMeasure> all = {
      {"llc.mean", "llc", "llc.npy", false},
      {"hessian.top", "hessian", "top.npy", true},
      {"hessian.preconditioned", "hessian", "preconditioned.npy", true},
  };
  return all;
}

}  // namespace

const std::vector<std::string>& folder_measure_columns() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const FolderMeasure& m : folder_measures()) out.push_back(m.column);
    return out;
  }();
  return names;
}

std::vector<std::pair<double, double>> folder_measure_series(const fs::path& run_dir,
                                                             const std::string& column) {
  const auto m = std::find_if(folder_measures().begin(), folder_measures().end(),
                              [&](const FolderMeasure& f) { return f.column == column; });
  std::vector<std::pair<double, double>> out;
  if (m == folder_measures().end()) return out;
  const fs::path steps_file = run_dir / m->folder / "steps.npy",
                 file = run_dir / m->folder / m->file;
  std::error_code ec;
  if (!fs::exists(steps_file, ec) || !fs::exists(file, ec)) return out;
  try {
    int64_t n = 0, one = 0, r = 0, c = 0;
    const std::vector<float> steps = decode_npy_f32(read_file(steps_file), n, one, "steps.npy");
    const std::vector<float> v = decode_npy_f32(read_file(file), r, c, m->file);
    if (r != n) return out;
    c = std::max<int64_t>(c, 1);
    for (int64_t i = 0; i < n; ++i) {  // the mean over finite values, as the probe's column
      double sum = 0;
      int64_t finite = 0;
      for (int64_t j = 0; j < (m->first ? 1 : c); ++j)
        if (std::isfinite(v[i * c + j])) sum += v[i * c + j], ++finite;
      if (finite > 0) out.emplace_back(steps[i], sum / double(finite));
    }
  } catch (const std::runtime_error&) {
    out.clear();  // a file being replaced, or not one of ours: nothing to show
  }
  return out;
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
