// What the web viewer shows, as JSON, read from run directories and the results index (never
// from a live process): the runs table, a run, its metric series (downsampled), its probe
// heatmaps (spectra, Fourier norms) and a sweep. The server (serve/http_server.h) answers its
// /api/ requests with these, and `gradscope report` inlines the same documents into one HTML file.
// Every path argument is already resolved under the served root (serve/safe_path.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gradscope::serve {

using Json = nlohmann::ordered_json;

// Upper bounds that keep every response small (a few MB at most) whatever the run's length.
inline constexpr int64_t kDefaultBuckets = 600;  // of a metric series: <= 2 points per bucket
inline constexpr int64_t kMaxBuckets = 4000;
inline constexpr int64_t kMaxSeries = 64;      // keys per metrics request
inline constexpr int64_t kHeatmapSteps = 240;  // probe steps of a heatmap
inline constexpr int64_t kHeatmapRows = 128;   // singular values / frequencies of a heatmap

// {runs: [{dir, id, name, sweep, status, regime, ..., config keys, progress?}]}: every run of
// root/index.sqlite, plus the runs under root (and one sweep level down) that a live heartbeat
// says are training now, with their progress {step, steps, steps_per_s, eta_s}.
Json runs_json(const std::filesystem::path& root);

// A run: {dir, title, state, config {key: value}, summary | null, progress | null,
// metrics {columns, rows}, probes ["spectra", "fourier"], sweep (its sweep's dir, or "")}.
Json run_json(const std::filesystem::path& root, const std::filesystem::path& run);

// {rows, columns, series {key: {x: [steps], y: [values]}}} for `keys` (empty: every column but
// step), each downsampled to at most 2 * buckets points (serve/downsample.h). Throws
// std::invalid_argument naming an unknown key.
Json metrics_json(const std::filesystem::path& run, const std::vector<std::string>& keys,
                  int64_t buckets);

// kind "spectra" (singular values of Delta W) or "fourier" (norms per frequency):
// {kind, steps [s], matrices [{name, rows, values [s][rows]}]}, at most kHeatmapSteps steps
// and kHeatmapRows rows; matrices empty when the run has none.
Json probe_json(const std::filesystem::path& run, const std::string& kind);

// The inside view's complete frames (probes/inside.h: inside/<step>/ with its frame.json), by
// step, ascending.
std::vector<int64_t> inside_steps(const std::filesystem::path& run);
// {steps [s], layout (inside/inside.json) | null, frames [frame.json of each step]}.
Json inside_json(const std::filesystem::path& run);
// One frame: {step, frame (frame.json), arrays {name: {shape, data}}}, data the base64 of the
// array's little-endian float32 elements (C order). Throws std::out_of_range naming the valid
// steps when `step` has no complete frame.
Json inside_frame_json(const std::filesystem::path& run, int64_t step);
// The same frame as bytes, for the page (no base64, no large JSON to parse): a little-endian
// uint32 n, n bytes of JSON {step, frame, arrays: {name: {shape, offset, length}}} (padded with
// spaces so that what follows starts 4-byte aligned), then every array's float32 elements, each at
// its byte offset from there.
std::string inside_frame_binary(const std::filesystem::path& run, int64_t step);

// A sweep: {dir, name, runs: [index rows of its runs], keys: [config keys that vary]}.
Json sweep_json(const std::filesystem::path& root, const std::filesystem::path& sweep);

// What changes while a run trains, cheaply: {metrics_bytes, state, progress | null}; the page
// polls it and fetches the series again only when it changed.
Json status_json(const std::filesystem::path& run);

// The JSON text of a document; bytes that are not UTF-8 (a request's, a file's) become U+FFFD
// instead of an exception.
std::string json_text(const Json& doc);

// Sizes, times and states of the run's files as one string: a cached answer about the run is
// reused while it is unchanged.
std::string run_stamp(const std::filesystem::path& run);

}  // namespace gradscope::serve
