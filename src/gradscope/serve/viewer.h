// The web viewer's request handling, apart from the network: a request (method, decoded path,
// decoded query parameters) in, a response out, read-only over the files under ROOT. The HTTP
// server (serve/http_server.h) and the fuzz target (tests/fuzz/serve_fuzz.cpp) both call it.
//
// Routes (GET or HEAD; anything else is 405):
//   /  /app.js  /app.css  /uplot.js  /uplot.css    the web app (serve/web_assets.h)
//   /api/runs                                      the runs table
//   /api/run?dir=D  /api/status?dir=D              a run; what changes while it trains
//   /api/metrics?dir=D[&keys=a,b][&buckets=N]      its metric series, downsampled
//   /api/probe?dir=D&kind=spectra|fourier          its probe heatmaps
//   /api/inside?dir=D[&step=S[&format=binary]]     its inside view: the frames' index, or one
//                                                  frame's arrays (probes/inside.h)
//   /api/sweep?dir=S                               a sweep's runs
// D and S are directories relative to ROOT (serve/safe_path.h). Errors are one line of JSON
// {"error": ...} that names no host path.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

namespace gradscope::serve {

struct Request {
  std::string method, path;
  std::multimap<std::string, std::string> params;  // decoded query parameters
};

struct Response {
  int status = 200;
  std::string content_type = "application/json", body;
};

class Viewer {
 public:
  // root must exist; it is made canonical here (every request is resolved under it).
  explicit Viewer(const std::filesystem::path& root);
  Response handle(const Request& request) const;
  const std::filesystem::path& root() const { return root_; }

 private:
  Response api(const Request& request) const;
  std::string inside_answer(const std::string& key, const std::filesystem::path& run,
                            const std::string& step, bool binary) const;
  // The cached body for `key` while `stamp` is unchanged, else make() and keep it.
  template <class F>
  std::string cached(const std::string& key, const std::string& stamp, F&& make) const;
  // The same for an answer that is not JSON (make returns the body).
  template <class F>
  std::string cached_body(const std::string& key, const std::string& stamp, F&& make) const;
  // The message with every occurrence of the root's path replaced by "ROOT".
  std::string without_root(std::string message) const;
  std::filesystem::path root_;
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, std::pair<std::string, std::string>> cache_;
  mutable size_t cache_bytes_ = 0;  // of the cached bodies
};

// The canonical key of an API request: path?k1=v1&k2=v2 with parameters sorted by name and
// values percent-encoded (the web app builds the same; `gradscope report` keys its inlined
// answers by it).
std::string api_key(const std::string& path, const std::map<std::string, std::string>& params);

}  // namespace gradscope::serve
