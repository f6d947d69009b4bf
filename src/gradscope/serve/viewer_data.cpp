// The viewer's JSON documents, read from run directories and the results index
// (serve/viewer_data.h).
#include "gradscope/serve/viewer_data.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

#include "gradscope/config/config.h"
#include "gradscope/index/results_index.h"
#include "gradscope/report/plot.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/metrics.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"
#include "gradscope/rundir/run_state.h"
#include "gradscope/rundir/spectra_files.h"
#include "gradscope/serve/downsample.h"
#include "gradscope/serve/safe_path.h"
#include "gradscope/tensor/npy.h"

namespace gradscope::serve {

namespace fs = std::filesystem;

namespace {

Json config_value(const ConfigValue& v) {
  return std::visit([](const auto& x) { return Json(x); }, v);
}

// Every key of the run's config.toml (defaults included); {} when it cannot be read.
Json config_json(const fs::path& run) {
  Json out = Json::object();
  try {
    const Config cfg = read_run_config(run);
    for (const KeySpec& s : Config::schema()) out[s.key] = config_value(cfg.value(s.key));
  } catch (const std::exception&) {
  }
  return out;
}

Json progress_json(const Heartbeat& h) {
  const double left = static_cast<double>(std::max<int64_t>(0, h.steps - h.step));
  Json eta = h.steps_per_s > 0 ? Json(left / h.steps_per_s) : Json(nullptr);
  return {{"step", h.step},
          {"steps", h.steps},
          {"steps_per_s", h.steps_per_s},
          {"wall_time_s", h.wall_time_s},
          {"eta_s", eta},
          {"updated", h.updated}};
}

// An index cell as JSON: null when empty, a number when it reads as one, else the text.
Json cell_json(const std::string& text) {
  if (text.empty()) return nullptr;
  char* end = nullptr;
  const double d = std::strtod(text.c_str(), &end);
  if (end && *end == '\0' && std::isfinite(d)) return d;
  return text;
}

// A config value as the index holds it and index_rows reads it back (true: 1, a list: its TOML
// text), so that a live run's row compares equal to an indexed one.
Json index_cell(const ConfigValue& v) {
  if (const bool* b = std::get_if<bool>(&v)) return *b ? 1 : 0;
  if (const std::string* s = std::get_if<std::string>(&v)) return cell_json(*s);
  if (std::holds_alternative<std::vector<double>>(v)) return cell_json(value_to_string(v));
  return config_value(v);
}

// Rows of the index in `folder` (index.sqlite) as objects: every run's, or the sweep's named
// `sweep`; [] without an index.
Json index_rows(const fs::path& folder, const std::string& sweep = "") {
  Json rows = Json::array();
  const fs::path db = rundir::index_file(folder);
  std::error_code ec;
  if (!fs::exists(db, ec)) return rows;
  ResultsIndex index(db, IndexAccess::query_only);
  std::vector<std::string> columns;
  const auto found = sweep.empty() ? index.select({}, columns) : index.select_sweep(sweep, columns);
  for (const auto& row : found) {
    Json obj = Json::object();
    for (size_t c = 0; c < columns.size(); ++c) obj[columns[c]] = cell_json(row[c]);
    rows.push_back(std::move(obj));
  }
  return rows;
}

// The run directories directly under root and inside its sweeps; links are not followed (a run
// seen through a link is the same run, or one outside the root).
std::vector<fs::path> run_dirs_under(const fs::path& root) {
  std::vector<fs::path> runs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    if (e.is_symlink(ec) || !e.is_directory(ec)) continue;
    if (rundir::is_run_dir(e.path())) {
      runs.push_back(e.path());
    } else if (rundir::is_sweep_dir(e.path())) {
      for (const auto& r : fs::directory_iterator(e.path(), ec))
        if (!r.is_symlink(ec) && r.is_directory(ec) && rundir::is_run_dir(r.path()))
          runs.push_back(r.path());
    }
  }
  return runs;
}

// The run's sweep directory relative to root, or "" when it is not in a sweep.
std::string sweep_of(const fs::path& root, const fs::path& run) {
  const fs::path parent = run.parent_path();
  return parent != root && rundir::is_sweep_dir(parent) ? relative_name(root, parent) : "";
}

// A sweep's name, or null for a run in no sweep (as the index's rows have it).
Json sweep_or_null(const std::string& sweep) {
  return sweep.empty() ? Json(nullptr) : Json(sweep);
}

// The runs-table row of a run not yet indexed: its dir, sweep, name, id and config keys.
Json live_row(const fs::path& run, const std::string& dir, const std::string& sweep) {
  Json row = {{"dir", dir}, {"sweep", sweep_or_null(sweep)}};
  try {
    const Config cfg = read_run_config(run);
    row["id"] = config_hash(cfg);
    for (const KeySpec& s : Config::schema()) row[s.key] = index_cell(cfg.value(s.key));
  } catch (const std::exception&) {
  }
  return row;
}

void add_live_runs(const fs::path& root, Json& runs) {
  for (const fs::path& run : run_dirs_under(root)) {
    std::error_code ec;
    if (!fs::exists(rundir::heartbeat_file(run), ec)) continue;
    // Its heartbeat and config are read: not through a link out of the root.
    if (leads_out(root, rundir::heartbeat_file(run)) || leads_out(root, rundir::config_file(run)))
      continue;
    const auto hb = read_heartbeat(run);
    if (!hb || !heartbeat_alive(*hb)) continue;
    const std::string dir = relative_name(root, run);
    Json* row = nullptr;
    for (Json& r : runs)
      if (r.value("dir", "") == dir) row = &r;
    if (!row) {
      runs.push_back(live_row(run, dir, sweep_of(root, run)));
      row = &runs.back();
    }
    (*row)["status"] = "running";
    (*row)["progress"] = progress_json(*hb);
  }
}

// Probe files of `kind` as ({name: bytes}, folder name); throws std::invalid_argument otherwise.
std::map<std::string, std::string> probe_files(const fs::path& run, const std::string& kind) {
  if (kind == "spectra") return read_probe_files(rundir::spectra_dir(run));
  if (kind == "fourier") return read_probe_files(rundir::fourier_dir(run));
  throw std::invalid_argument("kind '" + kind + "' (valid: spectra, fourier)");
}

// One heatmap matrix [steps][rows], the chosen steps and at most kHeatmapRows rows.
Json heatmap_matrix(const std::string& name, const std::vector<float>& data, int64_t cols,
                    const std::vector<int64_t>& steps) {
  const int64_t rows = std::min(cols, kHeatmapRows);
  Json values = Json::array();
  for (int64_t s : steps) {
    Json column = Json::array();
    for (int64_t r = 0; r < rows; ++r) column.push_back(data[s * cols + r]);
    values.push_back(std::move(column));
  }
  return {{"name", name}, {"rows", rows}, {"values", std::move(values)}};
}

// The run's metric columns, and after them those that only `gradscope llc` or `gradscope hessian`
// measured (their folders, rundir/spectra_files.h): the viewer charts them as probe columns.
std::vector<std::string> with_folder_measures(const fs::path& run,
                                              std::vector<std::string> columns) {
  for (const std::string& c : folder_measure_columns())
    if (std::find(columns.begin(), columns.end(), c) == columns.end() &&
        !folder_measure_series(run, c).empty())
      columns.push_back(c);
  return columns;
}

}  // namespace

Json runs_json(const fs::path& root) {
  Json runs = index_rows(root);
  add_live_runs(root, runs);
  return {{"runs", std::move(runs)}};
}

Json run_json(const fs::path& root, const fs::path& run) {
  if (!rundir::is_run_dir(run)) throw std::invalid_argument("not a run directory");
  const RunInspection in = inspect_run(run);
  Json metrics = {{"columns", Json::array()}, {"rows", 0}};
  std::error_code ec;
  if (fs::exists(rundir::metrics_jsonl(run), ec)) {
    const MetricsTable t = read_metrics_table(run);
    metrics = {{"columns", with_folder_measures(run, t.columns)}, {"rows", t.rows}};
  }
  Json probes = Json::array();
  if (fs::exists(rundir::spectra_steps_file(run), ec)) probes.push_back("spectra");
  if (fs::exists(rundir::fourier_steps_file(run), ec)) probes.push_back("fourier");
  if (fs::exists(run / "inside" / "inside.json", ec)) probes.push_back("inside");
  const bool live = in.state == RunState::running && in.heartbeat;
  return {{"dir", relative_name(root, run)},
          {"title", run_title(run)},
          {"state", run_state_name(in.state)},
          {"sweep", sweep_or_null(sweep_of(root, run))},
          {"config", config_json(run)},
          {"summary", in.summary ? Json(summary_to_json(*in.summary)) : Json(nullptr)},
          {"progress", live ? progress_json(*in.heartbeat) : Json(nullptr)},
          {"metrics", std::move(metrics)},
          {"probes", std::move(probes)}};
}

Json metrics_json(const fs::path& run, const std::vector<std::string>& keys, int64_t buckets) {
  std::error_code ec;
  MetricsTable t;
  if (fs::exists(rundir::metrics_jsonl(run), ec)) t = read_metrics_table(run);
  const int64_t ncol = static_cast<int64_t>(t.columns.size());
  const std::vector<std::string> columns = with_folder_measures(run, t.columns);
  std::vector<std::string> wanted = keys;
  if (wanted.empty())
    for (const std::string& c : columns)
      if (c != "step") wanted.push_back(c);
  Json series = Json::object();
  for (const std::string& key : wanted) {
    const auto it = std::find(t.columns.begin(), t.columns.end(), key);
    if (it == t.columns.end()) {
      if (std::find(columns.begin(), columns.end(), key) == columns.end())
        throw std::invalid_argument("no metric '" + key + "' in this run");
      Json x = Json::array(), y = Json::array();  // a command's folder: a point per checkpoint
      for (const auto& [step, value] : folder_measure_series(run, key)) {
        x.push_back(step);
        y.push_back(value);
      }
      series[key] = {{"x", std::move(x)}, {"y", std::move(y)}};
      continue;
    }
    const int64_t c = it - t.columns.begin();
    Json x = Json::array(), y = Json::array();
    for (int64_t r : minmax_rows(t.values.data() + c, ncol, t.rows, buckets)) {
      x.push_back(t.values[r * ncol]);
      y.push_back(t.values[r * ncol + c]);
    }
    series[key] = {{"x", std::move(x)}, {"y", std::move(y)}};
  }
  return {{"rows", t.rows}, {"columns", columns}, {"series", std::move(series)}};
}

Json probe_json(const fs::path& run, const std::string& kind) {
  const auto files = probe_files(run, kind);
  Json out = {{"kind", kind}, {"steps", Json::array()}, {"matrices", Json::array()}};
  const std::string steps_name = rundir::spectra_steps_file(run).filename().string();
  const auto steps_file = files.find(steps_name);
  if (steps_file == files.end()) return out;
  int64_t n = 0, one = 0;
  const std::vector<float> all_steps =
      decode_npy_f32(steps_file->second, n, one, kind + "/" + steps_name);
  const std::vector<int64_t> chosen = even_rows(n, kHeatmapSteps);
  for (int64_t s : chosen) out["steps"].push_back(all_steps[s]);
  for (const auto& [file, bytes] : files) {
    if (file == steps_name) continue;
    int64_t rows = 0, cols = 0;
    const std::vector<float> data = decode_npy_f32(bytes, rows, cols, kind + "/" + file);
    if (rows != n) continue;  // written between our reads: the next poll sees it whole
    out["matrices"].push_back(heatmap_matrix(file.substr(0, file.size() - 4), data, cols, chosen));
  }
  return out;
}

Json sweep_json(const fs::path& root, const fs::path& sweep) {
  if (!rundir::is_sweep_dir(sweep)) throw std::invalid_argument("not a sweep directory");
  const std::string name = sweep.filename().string();
  Json runs = index_rows(sweep.parent_path(), name);
  Json keys = Json::array();
  for (const KeySpec& s : Config::schema()) {
    if (s.key == "name" || runs.empty()) continue;
    for (const Json& r : runs)
      if (r.value(s.key, Json()) != runs.front().value(s.key, Json())) {
        keys.push_back(s.key);
        break;
      }
  }
  return {{"dir", relative_name(root, sweep)},
          {"name", name},
          {"runs", std::move(runs)},
          {"keys", std::move(keys)}};
}

Json status_json(const fs::path& run) {
  std::error_code ec;
  const auto bytes = fs::file_size(rundir::metrics_jsonl(run), ec);
  const RunInspection in = inspect_run(run);
  const bool live = in.state == RunState::running && in.heartbeat;
  return {{"metrics_bytes", ec ? 0 : static_cast<int64_t>(bytes)},
          {"state", run_state_name(in.state)},
          {"progress", live ? progress_json(*in.heartbeat) : Json(nullptr)}};
}

std::string json_text(const Json& doc) {
  return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::vector<int64_t> inside_steps(const fs::path& run) {
  std::vector<int64_t> steps;
  std::error_code ec;
  for (fs::directory_iterator it(run / "inside", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    int64_t step = -1;
    const auto [at, err] = std::from_chars(name.data(), name.data() + name.size(), step);
    if (err == std::errc() && at == name.data() + name.size() && step >= 0 &&
        fs::exists(it->path() / "frame.json", ec))
      steps.push_back(step);
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

Json inside_json(const fs::path& run) {
  const std::vector<int64_t> steps = inside_steps(run);
  const fs::path folder = run / "inside";
  std::error_code ec;
  Json frames = Json::array();
  for (int64_t s : steps)
    frames.push_back(Json::parse(read_file(folder / std::to_string(s) / "frame.json")));
  return {{"steps", steps},
          {"layout", fs::exists(folder / "inside.json", ec)
                         ? Json::parse(read_file(folder / "inside.json"))
                         : Json(nullptr)},
          {"frames", std::move(frames)}};
}

namespace {

std::string base64(const std::string& bytes) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const auto b = [&](size_t k) { return k < bytes.size() ? uint32_t(uint8_t(bytes[k])) : 0u; };
    const uint32_t v = b(i) << 16 | b(i + 1) << 8 | b(i + 2);
    out += abc[v >> 18 & 63];
    out += abc[v >> 12 & 63];
    out += i + 1 < bytes.size() ? abc[v >> 6 & 63] : '=';
    out += i + 2 < bytes.size() ? abc[v & 63] : '=';
  }
  return out;
}

}  // namespace

namespace {

// A frame's frame.json and its arrays (name, float32 .npy), by name. Throws std::out_of_range
// naming the valid steps when `step` has no complete frame.
std::pair<Json, std::vector<std::pair<std::string, NpyArray>>> read_frame(const fs::path& run,
                                                                          int64_t step) {
  const std::vector<int64_t> steps = inside_steps(run);
  if (!std::binary_search(steps.begin(), steps.end(), step)) {
    std::string valid;  // the steps, the middle ones elided past 12
    for (size_t i = 0; i < steps.size(); ++i) {
      if (steps.size() > 12 && i >= 5 && i + 5 < steps.size()) {
        if (i == 5) valid += ", ...";
        continue;
      }
      valid += (valid.empty() ? "" : ", ") + std::to_string(steps[i]);
    }
    if (steps.size() > 12) valid += " (" + std::to_string(steps.size()) + " frames)";
    throw std::out_of_range("step=" + std::to_string(step) + ": no inside frame there (valid: " +
                            (valid.empty() ? "none: the run has no frames" : valid) + ")");
  }
  const fs::path folder = run / "inside" / std::to_string(step);
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.path().extension() == ".npy") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<std::pair<std::string, NpyArray>> arrays;
  for (const fs::path& f : files) {
    const std::string name = f.stem().string();
    NpyArray a = parse_npy(read_file(f), "inside/" + std::to_string(step) + "/" + name);
    if (a.kind != 'f' || a.itemsize != 4)
      throw std::runtime_error("inside/" + std::to_string(step) + "/" + name + ".npy is " +
                               a.dtype() + " (valid: float32, as gradscope writes)");
    arrays.emplace_back(name, std::move(a));
  }
  return {Json::parse(read_file(folder / "frame.json")), std::move(arrays)};
}

}  // namespace

Json inside_frame_json(const fs::path& run, int64_t step) {
  auto [frame, read] = read_frame(run, step);
  Json arrays = Json::object();
  for (const auto& [name, a] : read) arrays[name] = {{"shape", a.shape}, {"data", base64(a.data)}};
  return {{"step", step}, {"frame", std::move(frame)}, {"arrays", std::move(arrays)}};
}

std::string inside_frame_binary(const fs::path& run, int64_t step) {
  auto [frame, read] = read_frame(run, step);
  Json arrays = Json::object();
  std::string data;
  for (const auto& [name, a] : read) {
    arrays[name] = {{"shape", a.shape}, {"offset", data.size()}, {"length", a.size()}};
    data += a.data;
  }
  std::string head = json_text({{"step", step}, {"frame", std::move(frame)}, {"arrays", arrays}});
  head.append((4 - (4 + head.size()) % 4) % 4, ' ');  // the data starts 4-byte aligned
  const auto n = static_cast<uint32_t>(head.size());
  std::string out;
  out.reserve(4 + head.size() + data.size());
  for (int b = 0; b < 4; ++b) out += static_cast<char>(n >> (8 * b) & 0xff);
  return out + head + data;
}

std::string run_stamp(const fs::path& run) {
  std::string stamp;
  for (const fs::path& f :
       {rundir::metrics_jsonl(run), rundir::summary_file(run), rundir::heartbeat_file(run),
        rundir::spectra_steps_file(run), rundir::fourier_steps_file(run),
        rundir::llc_dir(run) / "steps.npy", rundir::hessian_dir(run) / "steps.npy"}) {
    std::error_code ec;
    const auto size = fs::file_size(f, ec);
    const auto time = fs::last_write_time(f, ec);
    stamp +=
        ec ? "-;"
           : std::to_string(size) + "@" + std::to_string(time.time_since_epoch().count()) + ";";
  }
  return stamp;
}

}  // namespace gradscope::serve
