// The gradscope executable: the global options (--threads, --device, --version), then one
// subcommand of the table in command.h (`gradscope --help` lists them, `gradscope CMD --help` their
// arguments). Exit codes: 0 success, 1 a run that diverged or failed, 2 bad input, 130 interrupted.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <stdexcept>
#include <utility>
#include <vector>

#include "gradscope/cli/command.h"
#include "gradscope/tensor/threads.h"

using namespace gradscope;

int main(int argc, char** argv) {
  CLI::App app{"gradscope: experiments on how neural networks learn"};
  app.set_version_flag("--version", cli::version_text());
  app.require_subcommand(1);
  app.fallthrough();
  cli::Globals g;
  app.add_option("--threads", g.threads, "threads for BLAS and gradscope's kernels")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--device", g.device,
                 "where runs execute: cpu, cuda, emulated (default: the experiment's device key, "
                 "cpu)");
  std::vector<std::pair<CLI::App*, cli::Action>> actions;
  for (const cli::Command& c : cli::command_table()) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    actions.emplace_back(sub, c.define(*sub, g));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    set_num_threads(g.threads);
    for (auto& [sub, action] : actions)
      if (*sub) return action();
  } catch (const std::invalid_argument& e) {  // ConfigError and other bad input
    fmt::print(stderr, "gradscope: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "gradscope: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
