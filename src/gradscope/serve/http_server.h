// `gradscope serve`: the web viewer over HTTP (cpp-httplib), read-only, on loopback unless told
// otherwise. The requests go to serve::Viewer (serve/viewer.h); this file holds the network's
// limits: request size and time bounds, the worker pool, headers, and the shutdown on a signal.
#pragma once

#include <filesystem>
#include <string>

namespace gradscope::serve {

struct ServeOptions {
  std::filesystem::path root = "runs";
  std::string host = "127.0.0.1";  // loopback; anything else prints a warning
  int port = 8765;                 // 0: a free port (printed)
};

// Serves until SIGINT or SIGTERM; prints "serving <root> at http://<host>:<port>/" first (a
// line the tests read). Returns the exit code. Throws std::invalid_argument naming the root or
// the address when it cannot serve.
int serve(const ServeOptions& options);

bool is_loopback(const std::string& host);

}  // namespace gradscope::serve
