// The subcommand table of the gradscope executable. Each subcommand is one file of cli/ that
// declares its arguments and help and returns its action; main.cpp parses the global options,
// defines every command of the table and runs the one named on the command line.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "gradscope/run/checkpoint_measures.h"

namespace gradscope::cli {

// The options given before the subcommand, read by the actions once parsing is done.
struct Globals {
  int threads = 1;
  std::string device;  // --device ("": the experiment's device key; cpu for sample)
};

// A parsed subcommand's work; returns the exit code (0 success, 1 a run that diverged or failed).
// Bad input throws std::invalid_argument (exit 2), anything else std::exception (exit 1).
using Action = std::function<int()>;

struct Command {
  const char* name;
  const char* help;
  // Declares the command's arguments on `sub`, bound to state that the returned action reads.
  Action (*define)(CLI::App& sub, const Globals& globals);
};

// Every subcommand, in the order `gradscope --help` lists them.
const std::vector<Command>& command_table();

// One per file of cli/.
Command run_command();
Command show_command();
Command plot_command();
Command sweep_command();
Command replicas_command();
Command llc_command();
Command hessian_command();
Command inside_command();
Command index_command();
Command ls_command();
Command export_command();
Command theory_command();
Command sample_command();
Command serve_command();
Command report_command();
Command keys_command();
Command reproduce_command();

// --- shared by the commands (command.cpp) ---
std::string version_text();        // "gradscope 0.x (git abc123)"
std::string run_version_header();  // the comment lines a run's config.toml starts with
// The path of the running executable (children of a sweep run it).
std::string self_executable();
// The results index file: `index`, or runs/index.sqlite; bad input when it does not exist.
std::filesystem::path existing_index(const std::string& index);
// The arguments of a measure at a run's checkpoints (gradscope llc, hessian): the run, its
// `prefix`* settings and --steps; the action runs `measure` on them.
Action define_checkpoint_measure(CLI::App& sub, const Globals& g, const std::string& prefix,
                                 int (*measure)(const CheckpointMeasureRequest&),
                                 const std::string& calibrate_help = "");
// Commands that read run directories on the host refuse --device other than cpu.
void host_only(const char* command, const Globals& g);
// --device of a command that starts runs (sweep, reproduce): a device gradscope knows, checked
// before anything runs (whether this machine has it: run_sweep, for every run's device). Throws
// std::invalid_argument naming the device and the valid ones.
void check_run_device(const Globals& g);

}  // namespace gradscope::cli
