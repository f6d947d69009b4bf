// The gradscope executable: the global options (--threads, --device, --version), then one
// subcommand of the table in command.h (`gradscope --help` lists them, `gradscope CMD --help` their
// arguments). Exit codes: 0 success, 1 a run that diverged or failed, 2 bad input, 130 interrupted.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/cli/command.h"
#include "gradscope/config/edit_distance.h"
#include "gradscope/run/trainer.h"
#include "gradscope/tensor/threads.h"

using namespace gradscope;

namespace {

// The command line's first word that is not a global option or its value ("" when none).
std::string first_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" || a == "--device") {
      ++i;  // its value
    } else if (!a.starts_with("-")) {
      return a;
    }
  }
  return "";
}

// A parse error as one line: an unknown command named with the closest command, otherwise
// CLI11's message and where the valid options are listed.
std::string parse_message(const CLI::ParseError& e, CLI::App& app, int argc, char** argv) {
  const std::string what = e.what(), word = first_word(argc, argv);
  // A global option's error, or one with no command word: gradscope --help lists the options.
  if (word.empty() || what.starts_with("--threads") || what.starts_with("--device"))
    return what + " (gradscope --help lists the options)";
  std::string closest, all;
  size_t best = SIZE_MAX;
  for (const CLI::App* sub : app.get_subcommands({})) {
    const std::string& name = sub->get_name();
    if (name == word)
      return fmt::format("{} (gradscope {} --help lists its arguments)", what, word);
    all += (all.empty() ? "" : ", ") + name;
    const size_t d = edit_distance(word.data(), word.size(), name.data(), name.size());
    if (d < best) best = d, closest = name;
  }
  // An unknown command is CLI11's missing subcommand; anything else (an unknown global option,
  // whose value first_word took for the command) is said as CLI11 says it.
  if (what.find("subcommand") == std::string::npos)
    return what + " (gradscope --help lists the options)";
  if (best <= 2)
    return fmt::format("unknown command '{}': did you mean '{}'? (valid: {})", word, closest, all);
  return fmt::format("unknown command '{}' (valid: {})", word, all);
}

}  // namespace

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
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    fmt::print(stderr, "gradscope: error: {}\n", parse_message(e, app, argc, argv));
    return 2;
  }
  try {
    set_num_threads(g.threads);
    for (auto& [sub, action] : actions)
      if (*sub) return action();
  } catch (const std::exception& e) {  // bad input 2, a busy run 3, else 1 (exit_status_of)
    fmt::print(stderr, "gradscope: error: {}\n", e.what());
    return exit_status_of(e);
  }
  return 0;
}
