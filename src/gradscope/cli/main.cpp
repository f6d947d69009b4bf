// The gradscope executable: parses the command line (CLI11) and dispatches to the subcommands.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <exception>

#include "gradscope/cli/demo.h"
#include "gradscope/tensor/threads.h"

int main(int argc, char** argv) {
  CLI::App app{"gradscope: experiments on how neural networks learn"};
  app.set_version_flag("--version", "gradscope 0.1.0");
  app.require_subcommand(1);
  int threads = 1;
  app.add_option("--threads", threads, "threads for BLAS and gradscope's kernels")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();

  gradscope::DemoOptions demo;
  CLI::App* demo_cmd =
      app.add_subcommand("demo", "train a small MLP on (a + b) mod p and print losses");
  demo_cmd->add_option("--steps", demo.steps, "training steps")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  demo_cmd->add_option("--p", demo.p, "modulus")->check(CLI::Range(2, 1000))->capture_default_str();
  demo_cmd->add_option("--seed", demo.seed, "seed of the init and split streams")
      ->capture_default_str();
  demo_cmd->add_option("--weight-decay", demo.weight_decay, "AdamW weight decay")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  demo_cmd->add_option("--log-every", demo.log_every, "steps between progress lines")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  demo_cmd->add_option("--precision", demo.precision, "float32 or float64")
      ->check(CLI::IsMember({"float32", "float64"}))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    gradscope::set_num_threads(threads);
    if (*demo_cmd) return gradscope::run_demo(demo);
  } catch (const std::exception& e) {
    fmt::print(stderr, "gradscope: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
