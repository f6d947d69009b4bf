// `gradscope serve [ROOT] [--port N] [--host ADDR]`: the live web viewer of the runs and sweeps
// under ROOT (loopback only unless --host says otherwise), until interrupted.
#include <memory>

#include "gradscope/cli/command.h"
#include "gradscope/serve/http_server.h"

namespace gradscope::cli {
namespace {

Action define(CLI::App& sub, const Globals& g) {
  struct Args {
    std::string root = "runs";
    serve::ServeOptions o;
  };
  auto a = std::make_shared<Args>();
  serve::ServeOptions* o = &a->o;
  sub.add_option("root", a->root, "runs root")->capture_default_str();
  sub.add_option("--port", o->port, "TCP port (0: any free one)")->capture_default_str();
  sub.add_option("--host", o->host,
                 "address to listen on (anything but loopback is readable by others)")
      ->capture_default_str();
  return [a, &g] {
    host_only("serve", g);
    a->o.root = a->root;
    return serve::serve(a->o);
  };
}

}  // namespace

Command serve_command() {
  return {"serve", "a local web viewer of the runs and sweeps under ROOT (live while they train)",
          &define};
}

}  // namespace gradscope::cli
