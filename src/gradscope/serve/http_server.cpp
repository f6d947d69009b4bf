// The web viewer's HTTP server over cpp-httplib (serve/http_server.h).
#include "gradscope/serve/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <signal.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <atomic>
#include <chrono>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

#include "gradscope/serve/viewer.h"

namespace gradscope::serve {

namespace fs = std::filesystem;

namespace {

constexpr int kWorkers = 64;      // connections served at once (keep-alive holds one)
constexpr int kReadTimeoutS = 5;  // a client that sends its request slower is dropped
constexpr int kWriteTimeoutS = 5;
constexpr int kKeepAliveS = 2;
// Connections waiting to be accepted: cpp-httplib 0.11 listens with a backlog of 5, and 50
// clients connecting at once would see dropped SYNs (seconds of retransmission); the listening
// socket is given the system's maximum instead.
constexpr int kBacklog = SOMAXCONN;
constexpr size_t kMaxPayload = 64 * 1024;  // request bodies (GET carries none)
// Headers: cpp-httplib bounds each line (8 kB) and each read (kReadTimeoutS) but not their
// number; a request with more is answered 431 (after it was read).
constexpr size_t kMaxHeaders = 100;
// The server yields the CPU to training runs beside it.
constexpr int kNice = 10;

// Browsers ask for Brotli first, and cpp-httplib 0.11 compresses with it at quality 11: about
// 0.4 s for a 240 kB metrics answer and 5 s for a 2.7 MB inside frame, where gzip takes 19 and
// 140 ms. The request's Accept-Encoding loses its "br" before the answer is made, so httplib
// picks gzip (or nothing).
void drop_brotli(httplib::Request& req) {
  for (auto& [name, value] : req.headers) {
    if (strcasecmp(name.c_str(), "Accept-Encoding") != 0) continue;
    std::string kept;
    size_t start = 0;
    while (start <= value.size()) {
      const size_t end = std::min(value.find(',', start), value.size());
      std::string token = value.substr(start, end - start);
      token.erase(0, token.find_first_not_of(' '));
      if (!token.empty() && token.rfind("br", 0) != 0) kept += (kept.empty() ? "" : ", ") + token;
      start = end + 1;
    }
    value = kept;
  }
}

// The host name of a Host header ("localhost:8080" -> "localhost", "[::1]:8080" -> "::1").
std::string host_name(const std::string& header) {
  if (!header.empty() && header.front() == '[') return header.substr(1, header.find(']') - 1);
  return header.substr(0, header.find(':'));
}

void answer(const Viewer& viewer, const httplib::Request& req, httplib::Response& res) {
  Request r{req.method, req.path, {}};
  for (const auto& [k, v] : req.params) r.params.emplace(k, v);
  const Response out = viewer.handle(r);
  res.status = out.status;
  res.set_content(out.body, out.content_type.c_str());
}

// `loopback`: the server listens on loopback only, and a request naming another host (a page
// elsewhere whose name was rebound to this machine's loopback address) is refused.
void configure(httplib::Server& svr, const Viewer& viewer, bool loopback) {
  svr.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  svr.set_read_timeout(kReadTimeoutS, 0);
  svr.set_write_timeout(kWriteTimeoutS, 0);
  svr.set_keep_alive_timeout(kKeepAliveS);
  svr.set_keep_alive_max_count(1000);
  svr.set_payload_max_length(kMaxPayload);
  svr.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                           {"Cache-Control", "no-store"},
                           {"Referrer-Policy", "no-referrer"},
                           {"Content-Security-Policy",
                            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' "
                            "data:"}});
  svr.set_pre_routing_handler([loopback](const httplib::Request& req, httplib::Response& res) {
    // The request is the server's own object for this exchange; httplib hands it out as const.
    drop_brotli(const_cast<httplib::Request&>(req));
    if (req.headers.size() > kMaxHeaders) {
      res.status = 431;
      res.set_content("{\"error\": \"more than " + std::to_string(kMaxHeaders) + " headers\"}\n",
                      "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    const std::string host = host_name(req.get_header_value("Host"));
    if (loopback && !host.empty() && !is_loopback(host)) {
      res.status = 421;
      res.set_content(
          "{\"error\": \"Host: not this server's (valid: localhost or a loopback "
          "address)\"}\n",
          "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  const auto handler = [&viewer](const httplib::Request& req, httplib::Response& res) {
    answer(viewer, req, res);
  };
  svr.Get(".*", handler);
  svr.Post(".*", handler);
  svr.Put(".*", handler);
  svr.Patch(".*", handler);
  svr.Delete(".*", handler);
  svr.Options(".*", handler);
  // Errors httplib finds itself (a too long URI or header, a body over the limit, a bad request
  // line): one line of JSON, nothing more.
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    res.set_content("{\"error\": \"HTTP " + std::to_string(res.status) + "\"}\n",
                    "application/json");
  });
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content("{\"error\": \"internal error\"}\n", "application/json");
      });
}

}  // namespace

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr a{};  // an IPv4 address in 127.0.0.0/8 ("127.0.0.1.example" is a name, not one)
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

int serve(const ServeOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(o.root, ec))
    throw std::invalid_argument("serve: root " + o.root.string() +
                                " is not a directory (valid: a runs root such as runs)");
  if (o.port < 0 || o.port > 65535)
    throw std::invalid_argument("--port " + std::to_string(o.port) + " (valid: 0 to 65535)");
  // Signals go to the thread that waits for them, not to the workers.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  setpriority(PRIO_PROCESS, 0, kNice);  // before the workers start: they inherit it

  const Viewer viewer(o.root);
  httplib::Server svr;
  configure(svr, viewer, is_loopback(o.host));
  int listening = -1;
  svr.set_socket_options([&listening](socket_t sock) {
    // SO_REUSEADDR (a restart may bind while the old connections wait out TIME_WAIT), not
    // httplib's SO_REUSEPORT too: with it a second server could share a port already in use.
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listening = sock;
  });
  const int port = o.port == 0 ? svr.bind_to_any_port(o.host) : o.port;
  if (port < 0 || (o.port != 0 && !svr.bind_to_port(o.host, o.port)))
    throw std::invalid_argument("serve: cannot listen on " + o.host + ":" + std::to_string(o.port) +
                                " (valid: a free port and an address of this machine)");
  if (listening >= 0) ::listen(listening, kBacklog);  // again, with the larger backlog
  if (!is_loopback(o.host))
    std::fprintf(stderr,
                 "gradscope serve: warning: listening on %s, not loopback: anyone who can reach "
                 "this machine can read the runs under %s\n",
                 o.host.c_str(), o.root.c_str());
  const bool ipv6 = o.host.find(':') != std::string::npos;  // a URL puts it in brackets
  std::printf("serving %s at http://%s%s%s:%d/\n", o.root.c_str(), ipv6 ? "[" : "", o.host.c_str(),
              ipv6 ? "]" : "", port);
  std::fflush(stdout);
  std::atomic<bool> listen_ended{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop, &sig);
    // stop() does nothing until the listening loop runs: a signal that came first would be lost.
    while (!svr.is_running() && !listen_ended)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    svr.stop();
  });
  svr.listen_after_bind();
  listen_ended = true;
  if (waiter.joinable()) {
    pthread_kill(waiter.native_handle(), SIGTERM);  // listen ended some other way
    waiter.join();
  }
  return 0;
}

}  // namespace gradscope::serve
