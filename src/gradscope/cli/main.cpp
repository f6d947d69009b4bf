// The gradscope executable: parses the command line (CLI11) and dispatches to the subcommands.
//   gradscope run EXPERIMENT.toml [key=value ...] [--out DIR] [--force]
//   gradscope run --resume RUN_DIR [train.steps=M]
//   gradscope show RUN_DIR
//   gradscope plot RUN_DIR [--out FILE.svg]
//   gradscope theory EXPERIMENT.toml [key=value ...] [--out FILE.json]
//   gradscope sweep EXPERIMENT.toml [key=value | key=v1,v2,...] [--jobs N] [--shard i/K]
//   gradscope sweep EXPERIMENT.toml ... --slurm-script [--tasks K] [--cpus C]
//   gradscope index rebuild [ROOT]
//   gradscope ls [key=value ...]
//   gradscope export --csv [--out FILE]
//   gradscope plot SWEEP_DIR --x KEY --y KEY [--z FIELD] [--logx] [--logy] [--out FILE.svg]
//   gradscope plot SWEEP_DIR --x KEY|n_params --y FIELD[,FIELD...] [--by KEY] [--logx] [--logy]
//                  [--out ...]
// Exit codes: 0 success, 1 a run that diverged or failed, 2 bad input, 130 interrupted.
#include <fmt/core.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <exception>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "gradscope/config/config.h"
#include "gradscope/index/results_index.h"
#include "gradscope/report/plot.h"
#include "gradscope/report/seed_curves.h"
#include "gradscope/run/experiment.h"
#include "gradscope/run/prediction.h"
#include "gradscope/run/trainer.h"
#include "gradscope/run/validate.h"
#include "gradscope/rundir/files.h"
#include "gradscope/rundir/paths.h"
#include "gradscope/rundir/run_files.h"
#include "gradscope/rundir/summary_file.h"
#include "gradscope/tensor/threads.h"

#ifndef GRADSCOPE_GIT_REV
#define GRADSCOPE_GIT_REV "unknown"
#endif

namespace fs = std::filesystem;
using namespace gradscope;

namespace {

constexpr const char* kVersion = GRADSCOPE_VERSION;

int cmd_run(const std::string& experiment, std::vector<std::string> overrides,
            const std::string& out, const std::string& resume, bool force, const std::string& index,
            const std::string& device) {
  if (!device.empty()) overrides.push_back("device=" + device);  // --device: an override
  RunOptions o;
  o.live = ::isatty(STDOUT_FILENO) != 0;
  o.version_header = version_header(kVersion, GRADSCOPE_GIT_REV);
  if (!resume.empty()) {
    if (!experiment.empty() && experiment.find('=') == std::string::npos)
      throw ConfigError(
          "--resume takes the run directory and no experiment file (the config is "
          "the run's own)");
    o.dir = resume;
    o.resume = true;
    std::vector<std::string> all = overrides;
    if (!experiment.empty()) all.insert(all.begin(), experiment);  // CLI11 took it as the file
    const int code = run_experiment(resume_config(o.dir, all), o);
    add_to_index(o.dir, index);
    return code;
  }
  if (experiment.empty()) throw ConfigError("run needs an EXPERIMENT.toml (or --resume RUN_DIR)");
  const Config c = experiment_config(Config::from_file(experiment), overrides, experiment);
  o.dir = out.empty() ? fs::path("runs") / c.string("name") : fs::path(out);
  o.force = force;
  const int code = run_experiment(c, o);
  add_to_index(o.dir, index);
  return code;
}

// The task as `gradscope show` names it: "modular a+b mod 113", "permutation ab S_5", or its name.
std::string task_label(const Config& c) {
  const std::string& name = c.string("task.name");
  if (name == "modular")
    return fmt::format("{} {} mod {}", name, c.string("task.op"), c.integer("task.p"));
  if (name == "permutation")
    return fmt::format("{} {} S_{}", name, c.string("task.op"), c.integer("task.n"));
  return name;
}

int cmd_show(const std::string& dir) {
  const std::optional<Summary> summary = read_summary(dir);
  if (!summary) throw ConfigError(dir + ": no summary (is the run finished? see its metrics)");
  const auto s = summary_to_json(*summary);
  const Config c = read_run_config(dir);
  const std::string task = task_label(c);
  fmt::print("{}: {} | {} | model {} | {} steps\n", dir, s.value("status", "?"), task,
             c.string("model.type"), c.integer("train.steps"));
  for (const char* k : {"memorized_step", "generalized_step", "grokking_delay", "regime"})
    if (s.contains(k)) fmt::print("  {:<18} {}\n", k, s[k].dump());
  if (s.contains("theory")) {
    const auto& th = s["theory"];
    const auto& obs = th["observed"];
    if (th["prediction"]["kind"] == "stages") {
      fmt::print("  {:<18} {}\n", "predicted jumps", th["prediction"]["jump_times"].dump());
      fmt::print("  {:<18} {}\n", "loss jumps", obs["loss_jump_times"].dump());
      fmt::print("  {:<18} {}\n", "spectral jumps", obs["spectral_jump_times"].dump());
    } else {
      for (const auto& m : obs["modes"])
        fmt::print(
            "  mode {} (s = {}): half step predicted {:.0f}, observed {}; max rel. dev. {}\n",
            m["mode"].dump(), m["s"].dump(), m["predicted_half_step"].get<double>(),
            m["observed_half_step"].dump(), m["max_relative_deviation"].dump());
    }
  }
  if (s.contains("phase_changes") && !s["phase_changes"].empty()) {
    fmt::print("  phase changes      {:<30} {:>10} {:>10} {:>10} {:>8} {}\n", "metric", "from",
               "to", "onset", "step", "width (decades)");
    for (const auto& [k, v] : s["phase_changes"].items()) {
      if (!v.is_object()) continue;
      auto num = [&](const char* f) {
        if (!v.contains(f) || !v[f].is_number()) return std::string("-");
        return v[f].is_number_integer() ? v[f].dump() : fmt::format("{:.4g}", v[f].get<double>());
      };
      fmt::print("                     {:<30} {:>10} {:>10} {:>10} {:>8} {}{}\n", k, num("from"),
                 num("to"), num("onset_step"), num("step"), num("width_decades"),
                 v.value("abrupt", false) ? " abrupt" : "");
    }
  }
  for (const char* k :
       {"train_loss", "train_acc", "test_loss", "test_acc", "test_rel_error", "weight_norm"})
    if (s["final"].contains(k)) fmt::print("  final {:<12} {}\n", k, s["final"][k].dump());
  fmt::print("  {:<18} {:.1f} s ({:.1f} steps/s)\n", "wall_time", s.value("wall_time_s", 0.0),
             s.value("steps_per_s", 0.0));
  if (s.contains("message")) fmt::print("  {}\n", s["message"].get<std::string>());
  return 0;
}

int cmd_theory(const std::string& experiment, const std::vector<std::string>& overrides,
               const std::string& out) {
  Config c = Config::from_file(experiment);
  for (const std::string& kv : overrides) c.apply_override(kv);
  const nlohmann::json p = predict_experiment(c);
  fmt::print("{}", describe_prediction(p));
  const fs::path path =
      out.empty() ? fs::path("runs") / (c.string("name") + ".theory.json") : fs::path(out);
  if (!path.parent_path().empty()) fs::create_directories(path.parent_path());
  write_file_atomic(path, p.dump(2) + "\n");
  fmt::print("wrote {}\n", path.string());
  return p.value("available", false) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gradscope: experiments on how neural networks learn"};
  app.set_version_flag("--version",
                       fmt::format("gradscope {} (git {})", kVersion, GRADSCOPE_GIT_REV));
  app.require_subcommand(1);
  app.fallthrough();
  int threads = 1;
  app.add_option("--threads", threads, "threads for BLAS and gradscope's kernels")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  std::string device;
  app.add_option("--device", device,
                 "where runs execute: cpu, cuda, emulated (default: the experiment's device key, "
                 "cpu)");

  std::string experiment, out, resume, show_dir, plot_dir, plot_out, theory_out, index;
  std::vector<std::string> overrides;
  bool force = false;
  CLI::App* run = app.add_subcommand("run", "train an experiment; writes runs/<name>/");
  run->add_option("experiment", experiment, "experiment TOML file");
  run->add_option("overrides", overrides, "key=value settings, e.g. optim.weight_decay=0.3");
  run->add_option("--out", out, "run directory (default: runs/<name>)");
  run->add_option("--resume", resume,
                  "continue the run in this directory from its last checkpoint (train.steps=M "
                  "extends it)");
  run->add_flag("--force", force, "replace an existing run directory");
  run->add_option("--index", index,
                  "results index the run adds itself to (default: index.sqlite in the runs root)");
  CLI::App* show = app.add_subcommand("show", "print a run's summary");
  show->add_option("run_dir", show_dir, "run directory")->required();
  CLI::App* plot = app.add_subcommand(
      "plot", "draw a run's loss and accuracy curves as SVG (a sweep's: seeds aggregated)");
  plot->add_option("run_dir", plot_dir, "run directory, or sweep directory")->required();
  plot->add_option("--out", plot_out, "SVG file (default: RUN_DIR/curves.svg)");
  std::string px, py, pz = "regime", pby;
  bool logx = false, logy = false;
  plot->add_option("--x", px,
                   "a sweep directory's phase diagram or lines: config key (lines: or n_params) "
                   "on the x axis");
  plot->add_option("--y", py,
                   "phase diagram: config key on the y axis; lines: summary fields or "
                   "final.<metric>, comma-separated");
  plot->add_option("--z", pz,
                   "phase diagram: regime, or a summary field (generalized_step, ...) or "
                   "final.<metric>")
      ->capture_default_str();
  plot->add_option("--by", pby,
                   "lines: one line per value of this config key (e.g. model.n_layers)");
  plot->add_flag("--logx", logx, "phase diagram or lines: log x axis");
  plot->add_flag("--logy", logy, "phase diagram or lines: log y axis");

  cli::SweepArgs sw;
  CLI::App* sweep = app.add_subcommand(
      "sweep", "run every point of a sweep ([sweep] in the file, or key=v1,v2 on the line)");
  sweep->add_option("experiment", sw.experiment, "experiment TOML file")->required();
  sweep->add_option("arguments", sw.arguments, "key=value, or key=v1,v2,... for a sweep axis");
  sweep->add_option("--jobs", sw.jobs,
                    "runs at a time (default: SLURM_CPUS_PER_TASK inside Slurm, else 1)");
  sweep->add_option("--shard", sw.shard, "run only shard i of K (i/K); automatic in a Slurm array");
  sweep->add_option("--root", sw.root, "runs root (default: runs)")->capture_default_str();
  sweep->add_flag("--slurm-script", sw.slurm_script, "print an sbatch job-array script and exit");
  sweep->add_option("--tasks", sw.tasks, "--slurm-script: array tasks (default: min(runs, 16))");
  sweep->add_option("--cpus", sw.cpus, "--slurm-script: CPUs per task")->capture_default_str();
  CLI::App* index_cmd = app.add_subcommand("index", "the results index (runs/index.sqlite)");
  CLI::App* rebuild = index_cmd->add_subcommand("rebuild", "recreate it from the run directories");
  std::string root = "runs";
  rebuild->add_option("root", root, "runs root (default: runs)");
  index_cmd->require_subcommand(1);
  std::vector<std::string> filters;
  CLI::App* ls =
      app.add_subcommand("ls", "list indexed runs: phases and the config keys that vary");
  ls->add_option("filters", filters, "key=value (also !=, <, >, <=, >=), e.g. regime=grokking");
  ls->add_option("--index", index, "index file (default: runs/index.sqlite)");
  CLI::App* exp = app.add_subcommand("export", "write the index as one flat table");
  bool csv = false;
  std::string export_out;
  exp->add_flag("--csv", csv, "CSV (the only format)")->required();
  exp->add_option("--out", export_out, "file (default: stdout)");
  exp->add_option("--index", index, "index file (default: runs/index.sqlite)");

  CLI::App* theory = app.add_subcommand(
      "theory", "print and write the theory's prediction for an experiment (stages, Saxe)");
  theory->add_option("experiment", experiment, "experiment TOML file")->required();
  theory->add_option("overrides", overrides, "key=value settings");
  theory->add_option("--out", theory_out, "JSON file (default: runs/<name>.theory.json)");

  cli::SampleArgs sa;
  CLI::App* sample =
      app.add_subcommand("sample", "print text from a text run's checkpoint (task.name = text)");
  sample->add_option("run_dir", sa.run, "run directory")->required();
  sample->add_option("--prompt", sa.prompt, "the text to continue")->required();
  sample->add_option("--tokens", sa.tokens, "tokens to generate")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20))
      ->capture_default_str();
  sample->add_option("--temperature", sa.temperature, "softmax temperature (0: argmax)")
      ->capture_default_str();
  sample->add_option("--seed", sa.seed, "seed of the draws")->capture_default_str();
  sample->add_option("--step", sa.step, "checkpoint step (default: the last)");

  std::string serve_root = "runs", serve_host = "127.0.0.1", report_dir, report_out;
  int serve_port = 8765;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve", "a local web viewer of the runs and sweeps under ROOT (live while they train)");
  serve_cmd->add_option("root", serve_root, "runs root")->capture_default_str();
  serve_cmd->add_option("--port", serve_port, "TCP port (0: any free one)")->capture_default_str();
  serve_cmd
      ->add_option("--host", serve_host,
                   "address to listen on (anything but loopback is readable by others)")
      ->capture_default_str();
  CLI::App* report_cmd = app.add_subcommand(
      "report", "write a run's or sweep's pages as one self-contained HTML file");
  report_cmd->add_option("dir", report_dir, "run or sweep directory")->required();
  report_cmd->add_option("--html", report_out, "the HTML file to write")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    set_num_threads(threads);
    if (*run) return cmd_run(experiment, overrides, out, resume, force, index, device);
    if (*sweep) {
      sw.threads = threads;
      sw.device = device;
      return cli::sweep(sw);
    }
    if (*index_cmd) return cli::index_rebuild(root);
    if (*ls) return cli::ls(filters, index);
    if (*exp) return cli::export_csv(index, export_out);
    if (*plot && !px.empty() &&
        (py.find(',') != std::string::npos || !Config::find(py) || !pby.empty()))
      return cli::sweep_lines(plot_dir, px, py, pby, logx, logy, plot_out);
    if (*plot && !px.empty()) return cli::phase_diagram(plot_dir, px, py, pz, logx, logy, plot_out);
    if (*show) return cmd_show(show_dir);
    if (*theory) return cmd_theory(experiment, overrides, theory_out);
    if (*sample) {
      sa.device = device;
      return cli::sample(sa);
    }
    if ((*serve_cmd || *report_cmd) && !device.empty() && device != "cpu")
      throw std::invalid_argument("--device " + device +
                                  ": serve and report read run directories on the host, "
                                  "wherever the runs trained (valid: cpu)");
    if (*serve_cmd) return cli::serve(serve_root, serve_host, serve_port);
    if (*report_cmd) return cli::report(report_dir, report_out);
    if (*plot && rundir::is_sweep_dir(plot_dir)) {
      const fs::path svg =
          plot_out.empty() ? rundir::plot_file(plot_dir, "seed_curves") : fs::path(plot_out);
      fmt::print("{}\n", write_seed_curves(plot_dir, svg));
      return 0;
    }
    if (*plot) {
      const fs::path svg =
          plot_out.empty() ? fs::path(plot_dir) / "curves.svg" : fs::path(plot_out);
      write_curves_svg(plot_dir, svg);
      fmt::print("wrote {}\n", svg.string());
      for (const fs::path& f : write_rank_plots(plot_dir)) fmt::print("wrote {}\n", f.string());
      for (const fs::path& f : write_emergence_plots(plot_dir))
        fmt::print("wrote {}\n", f.string());
      for (const fs::path& f : write_fourier_plots(plot_dir)) fmt::print("wrote {}\n", f.string());
      return 0;
    }
  } catch (const std::invalid_argument& e) {  // ConfigError and other bad input
    fmt::print(stderr, "gradscope: error: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "gradscope: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
