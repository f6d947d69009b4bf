// Measures at a run's checkpoints: see checkpoint_measures.h.
#include "gradscope/run/checkpoint_measures.h"

#include <fmt/core.h>

#include <algorithm>
#include <sstream>

#include "gradscope/rundir/files.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"
#include "gradscope/rundir/run_state.h"
#include "gradscope/rundir/spectra_files.h"
#include "gradscope/tensor/npy.h"

namespace gradscope {

namespace fs = std::filesystem;

Config checkpoint_measure_config(const fs::path& run, const std::string& command,
                                 const std::string& prefix,
                                 const std::vector<std::string>& overrides,
                                 const std::string& device) {
  if (!device.empty() && device != "cpu")
    throw ConfigError("--device " + device + ": gradscope " + command +
                      " runs on the cpu only for now (valid: cpu)");
  if (inspect_run(run).state == RunState::running)
    throw ConfigError(run.string() + " is training now (a live lock); run gradscope " + command +
                      " on it once it has stopped");
  Config c = read_run_config(run);
  for (const std::string& kv : overrides) {
    const std::string key = kv.substr(0, kv.find('='));
    if (key.rfind(prefix, 0) != 0)
      throw ConfigError(fmt::format(
          "gradscope {}: {} is the run's own setting (valid here: the {}* keys, gradscope keys {})",
          command, key, prefix, prefix.substr(0, prefix.size() - 1)));
    c.apply_override(kv);
  }
  c.set("device", std::string("cpu"));
  if (c.string("precision") == "tf32") c.set("precision", std::string("float32"));  // its weights
  return c;
}

std::vector<int64_t> chosen_checkpoint_steps(const fs::path& run, const std::string& which) {
  const std::vector<int64_t> have = rundir::list_checkpoints(run);
  if (have.empty()) throw ConfigError(run.string() + ": no checkpoints to measure at");
  if (which == "all") return have;
  if (which == "last") return {have.back()};
  std::string valid;
  for (int64_t h : have) valid += (valid.empty() ? "" : ",") + std::to_string(h);
  if (which.empty())
    throw ConfigError("--steps '': no steps given (valid: all, last, or steps among " + valid +
                      ")");
  std::vector<int64_t> out;
  std::istringstream in(which);
  for (std::string item; std::getline(in, item, ',');) {
    size_t used = 0;
    int64_t s = -1;
    try {
      s = std::stoll(item, &used);
    } catch (const std::exception&) {
    }
    if (used != item.size() || std::find(have.begin(), have.end(), s) == have.end())
      throw ConfigError(
          fmt::format("--steps {}: no checkpoint at step {} (valid: all, last, or steps among {})",
                      which, item, valid));
    out.push_back(s);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> StepRows::files() const {
  const int64_t n = static_cast<int64_t>(rows_.size());
  std::vector<float> steps;
  std::vector<std::vector<float>> arrays(columns_.size());
  for (const auto& [s, r] : rows_) {
    steps.push_back(static_cast<float>(s));
    for (size_t c = 0; c < columns_.size(); ++c)
      arrays[c].insert(arrays[c].end(), r[c].begin(), r[c].end());
  }
  std::vector<std::pair<std::string, std::string>> files = {
      {"steps.npy", encode_npy_f32(steps, n, 0)}};
  for (size_t c = 0; c < columns_.size(); ++c)
    files.emplace_back(
        columns_[c].first,
        encode_npy_f32(arrays[c], n, columns_[c].second == 1 ? 0 : columns_[c].second));
  return files;
}

bool StepRows::load(const std::map<std::string, std::string>& files, const fs::path& where) {
  rows_.clear();
  if (!files.count("steps.npy")) return false;
  int64_t n = 0, one = 0;
  const auto steps = decode_npy_f32(files.at("steps.npy"), n, one, (where / "steps.npy").string());
  std::vector<std::vector<float>> arrays;
  for (const auto& [name, width] : columns_) {
    int64_t r = 0, k = 0;
    if (!files.count(name)) return false;
    arrays.push_back(decode_npy_f32(files.at(name), r, k, (where / name).string()));
    if (r != n || std::max<int64_t>(k, 1) != width)
      throw std::runtime_error((where / name).string() + ": not [steps, " + std::to_string(width) +
                               "]");
  }
  for (int64_t i = 0; i < n; ++i) {
    Row row;
    for (size_t c = 0; c < columns_.size(); ++c) {
      const int64_t w = columns_[c].second;
      row.emplace_back(arrays[c].begin() + i * w, arrays[c].begin() + (i + 1) * w);
    }
    rows_[static_cast<int64_t>(steps[i])] = std::move(row);
  }
  return true;
}

StepTable::StepTable(fs::path folder, const nlohmann::ordered_json& settings,
                     std::vector<std::pair<std::string, int64_t>> columns, std::FILE* out)
    : folder_(std::move(folder)), rows_(std::move(columns)) {
  const fs::path file = folder_ / "settings.json";
  if (fs::exists(file)) {
    if (nlohmann::ordered_json::parse(read_file(file)) == settings) {
      rows_.load(read_probe_files(folder_), folder_);  // an interrupted first write: afresh
    } else {
      fmt::print(out, "{}/ held results with other settings: replaced\n",
                 folder_.filename().string());
      fs::remove_all(folder_);
    }
  }
  fs::create_directories(folder_);
  write_file_atomic(file, settings.dump(2) + "\n");
}

void StepTable::set(int64_t step, StepRows::Row row) {
  rows_.set(step, std::move(row));
  write_probe_files(folder_, rows_.files());
}

}  // namespace gradscope
