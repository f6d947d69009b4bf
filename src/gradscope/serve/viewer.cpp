// Request handling of the web viewer (serve/viewer.h).
#include "gradscope/serve/viewer.h"

#include <charconv>
#include <chrono>
#include <stdexcept>

#include "gradscope/rundir/paths.h"
#include "gradscope/serve/report_html.h"
#include "gradscope/serve/safe_path.h"
#include "gradscope/serve/viewer_data.h"
#include "gradscope/serve/web_assets.h"

namespace gradscope::serve {

namespace fs = std::filesystem;

namespace {

// The answer cache is emptied when it would hold more than this (many distinct requests of a
// long run's series must not grow the server without bound).
constexpr size_t kCacheBytes = size_t{64} << 20;

// A request the user got wrong (400) or a thing that is not there (404).
struct HttpError : std::runtime_error {
  int status;
  HttpError(int s, const std::string& what) : std::runtime_error(what), status(s) {}
};

Response json_error(int status, const std::string& message) {
  return {status, "application/json", json_text({{"error", message}}) + "\n"};
}

const std::string& param(const Request& r, const std::string& key) {
  static const std::string empty;
  const auto it = r.params.find(key);
  return it == r.params.end() ? empty : it->second;
}

std::vector<std::string> split_keys(const std::string& text) {
  std::vector<std::string> keys;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find(',', start), text.size());
    if (end > start) keys.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (static_cast<int64_t>(keys.size()) > kMaxSeries)
    throw HttpError(400, "keys: at most " + std::to_string(kMaxSeries) + " metrics per request");
  return keys;
}

int64_t buckets_param(const std::string& text) {
  if (text.empty()) return kDefaultBuckets;
  int64_t b = 0;
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), b);
  if (err != std::errc() || end != text.data() + text.size() || b < 1 || b > kMaxBuckets)
    throw HttpError(400, "buckets=" + text.substr(0, 32) + " (valid: 1 to " +
                             std::to_string(kMaxBuckets) + ")");
  return b;
}

// The whole seconds of the clock: the runs table is recomputed at most once a second.
std::string this_second() {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count());
}

std::string percent_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '!' || c == '*' ||
        c == '\'' || c == '(' || c == ')') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string api_key(const std::string& path, const std::map<std::string, std::string>& params) {
  std::string key = path;
  char sep = '?';
  for (const auto& [k, v] : params) {
    key += sep + percent_encode(k) + "=" + percent_encode(v);
    sep = '&';
  }
  return key;
}

Viewer::Viewer(const fs::path& root) : root_(fs::canonical(root)) {}

template <class F>
std::string Viewer::cached(const std::string& key, const std::string& stamp, F&& make) const {
  return cached_body(key, stamp, [&] { return json_text(make()) + "\n"; });
}

template <class F>
std::string Viewer::cached_body(const std::string& key, const std::string& stamp, F&& make) const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = cache_.find(key);
    if (it != cache_.end() && it->second.first == stamp) return it->second.second;
  }
  std::string body = make();
  std::lock_guard<std::mutex> lock(mutex_);
  if (cache_bytes_ + body.size() > kCacheBytes) {
    cache_.clear();
    cache_bytes_ = 0;
  }
  auto& entry = cache_[key];
  cache_bytes_ = cache_bytes_ - entry.second.size() + body.size();  // (its old body was counted)
  entry = {stamp, body};
  return body;
}

Response Viewer::api(const Request& r) const {
  std::map<std::string, std::string> canonical;
  for (const auto& [k, v] : r.params) canonical.emplace(k, v);
  const std::string key = api_key(r.path, canonical);
  if (r.path == "/api/runs") {
    if (leads_out(root_, rundir::index_file(root_)))
      throw HttpError(404, "index: a link out of ROOT");
    return {200, "application/json", cached(key, this_second(), [&] { return runs_json(root_); })};
  }
  std::string why;
  const auto dir = resolve_under(root_, param(r, "dir"), why);
  if (!dir) throw HttpError(404, "dir: " + why);
  if (r.path == "/api/sweep") {  // it reads the index beside the sweep
    if (leads_out(root_, rundir::index_file(dir->parent_path())))
      throw HttpError(404, "index: a link out of ROOT");
  } else if (const auto link = link_out_of(root_, *dir)) {
    throw HttpError(404, "dir: " + link->generic_string() + " leads out of ROOT");
  }
  const fs::path& d = *dir;
  const std::string stamp = run_stamp(d);
  // A run's state also depends on whether the process behind its heartbeat still lives, which no
  // file shows: its answers are made again at least once a second.
  const std::string live_stamp = stamp + this_second();
  Response out;
  if (r.path == "/api/run") {
    out.body = cached(key, live_stamp, [&] { return run_json(root_, d); });
  } else if (r.path == "/api/status") {
    out.body = cached(key, live_stamp, [&] { return status_json(d); });
  } else if (r.path == "/api/metrics") {
    if (!rundir::is_run_dir(d)) throw HttpError(404, "dir: not a run directory");
    const auto keys = split_keys(param(r, "keys"));
    const int64_t buckets = buckets_param(param(r, "buckets"));
    out.body = cached(key, stamp, [&] { return metrics_json(d, keys, buckets); });
  } else if (r.path == "/api/probe") {
    if (!rundir::is_run_dir(d)) throw HttpError(404, "dir: not a run directory");
    out.body = cached(key, stamp, [&] { return probe_json(d, param(r, "kind")); });
  } else if (r.path == "/api/inside") {
    if (!rundir::is_run_dir(d)) throw HttpError(404, "dir: not a run directory");
    const std::string& format = param(r, "format");
    if (!format.empty() && format != "binary")
      throw HttpError(400, "format=" + format.substr(0, 32) + " (valid: binary, or none: JSON)");
    out.body = inside_answer(key, d, param(r, "step"), !format.empty());
    // A frame is served uncompressed (cpp-httplib compresses only a bare "application/json"):
    // float32 shrinks by a third under gzip, which costs more time than it saves.
    if (!param(r, "step").empty())
      out.content_type =
          format.empty() ? "application/json; charset=utf-8" : "application/octet-stream";
  } else if (r.path == "/api/sweep") {
    out.body = cached(key, this_second(), [&] { return sweep_json(root_, d); });
  } else {
    throw HttpError(404, "no such endpoint");
  }
  return out;
}

// /api/inside: the frames' index (no step; its answer is made again when a frame is completed)
// or one frame (frames never change once complete).
std::string Viewer::inside_answer(const std::string& key, const fs::path& run,
                                  const std::string& step, bool binary) const {
  if (step.empty()) {
    std::string stamp;
    for (int64_t s : inside_steps(run)) stamp += std::to_string(s) + ",";
    return cached(key, stamp, [&] { return inside_json(run); });
  }
  int64_t s = -1;
  const auto [end, err] = std::from_chars(step.data(), step.data() + step.size(), s);
  if (err != std::errc() || end != step.data() + step.size() || s < 0)
    throw HttpError(400, "step=" + step.substr(0, 32) + " (valid: a step with an inside frame)");
  std::error_code ec;
  const fs::path frame = run / "inside" / std::to_string(s) / "frame.json";
  const std::string stamp = std::to_string(fs::file_size(frame, ec));
  try {
    if (binary) return cached_body(key, stamp, [&] { return inside_frame_binary(run, s); });
    return cached(key, stamp, [&] { return inside_frame_json(run, s); });
  } catch (const std::out_of_range& e) {
    throw HttpError(404, e.what());
  }
}

Response Viewer::handle(const Request& r) const {
  if (r.method != "GET" && r.method != "HEAD")
    return json_error(405, "method " + r.method.substr(0, 16) + " (valid: GET, HEAD; read-only)");
  try {
    if (r.path.rfind("/api/", 0) == 0) return api(r);
    const WebAsset* asset = find_asset(r.path == "/" ? "index.html" : r.path.substr(1));
    if (!asset) return json_error(404, "not found");
    if (std::string_view(asset->name) == "index.html")  // with the plots' style inlined
      return {200, std::string(asset->content_type), index_page(asset->content)};
    return {200, std::string(asset->content_type), std::string(asset->content)};
  } catch (const HttpError& e) {
    return json_error(e.status, e.what());
  } catch (const std::invalid_argument& e) {
    return json_error(400, without_root(e.what()));
  } catch (const std::exception& e) {
    return json_error(500, "cannot read: " + without_root(e.what()));
  }
}

// Messages of the lower layers may name files (a config's parse error): the root becomes ROOT,
// so no answer holds a host path.
std::string Viewer::without_root(std::string message) const {
  for (size_t at; (at = message.find(root_.string())) != std::string::npos;)
    message.replace(at, root_.string().size(), "ROOT");
  return message;
}

}  // namespace gradscope::serve
