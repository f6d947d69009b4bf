// Fuzz target: the web viewer's request handling (serve/viewer.h) over a root holding a run and a
// symlink out of it, training now (a live heartbeat). The input is a request as cpp-httplib hands
// it on: line 1 the method, line 2 the path (percent-decoded as httplib decodes it), the rest the
// query string (parsed by httplib's own parser). Whatever the request, the handler answers (no
// exception escapes), with a status it documents, and no answer names a host path or holds the file
// outside the root (unless the request itself spelled them).
#include <httplib.h>

#include <stdexcept>

#include "../support/fake_run.h"
#include "fuzz_support.h"
#include "gradscope/rundir/heartbeat.h"
#include "gradscope/serve/viewer.h"

namespace {

const std::filesystem::path& root() {
  static const std::filesystem::path r = [] {
    const auto dir = gradscope_fuzz::scratch() / "root";
    gradscope_test::write_fake_run(dir / "run", 40);
    // It trains now, as far as its heartbeat says (this process, alive): /api/runs lists it.
    gradscope::write_heartbeat(dir / "run", gradscope::heartbeat_now(20, 100, 10.0, 2.0));
    const auto outside = gradscope_fuzz::scratch() / "outside";
    std::filesystem::create_directories(outside);
    std::ofstream(outside / "config.toml") << "name = \"SECRET-OUTSIDE\"\n";
    std::filesystem::create_symlink(outside, dir / "escape");
    return std::filesystem::canonical(dir);
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gradscope::serve::Viewer viewer(root());
  const std::string input = gradscope_fuzz::text(data, size);
  const size_t a = input.find('\n'), b = a == std::string::npos ? a : input.find('\n', a + 1);
  gradscope::serve::Request r;
  r.method = input.substr(0, a);
  if (a != std::string::npos)
    r.path = httplib::detail::decode_url(
        input.substr(a + 1, b == std::string::npos ? b : b - a - 1), false);
  if (b != std::string::npos) {
    httplib::Params params;
    httplib::detail::parse_query_text(input.substr(b + 1), params);
    for (const auto& [k, v] : params) r.params.emplace(k, v);
  }
  const gradscope::serve::Response out = viewer.handle(r);
  const int s = out.status;
  if (s != 200 && s != 400 && s != 404 && s != 405 && s != 500) __builtin_trap();
  // (An answer may echo the request: only what the request did not bring is a leak.)
  for (const std::string& secret : {root().parent_path().string(), std::string("SECRET-OUTSIDE")})
    if (out.body.find(secret) != std::string::npos && input.find(secret) == std::string::npos)
      __builtin_trap();
  return 0;
}
