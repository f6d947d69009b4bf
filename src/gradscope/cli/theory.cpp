// `gradscope theory EXPERIMENT.toml [key=value ...] [--out FILE.json]`: the theory's prediction
// for an experiment (stage-like learning, Saxe's deep linear modes), printed and written as JSON;
// exit 1 when the theory has no prediction for it.
#include <fmt/core.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "gradscope/cli/command.h"
#include "gradscope/config/config.h"
#include "gradscope/run/experiment.h"
#include "gradscope/run/prediction.h"
#include "gradscope/rundir/files.h"

namespace gradscope::cli {
namespace {

namespace fs = std::filesystem;

struct TheoryArgs {
  std::string experiment, out;
  std::vector<std::string> overrides;
};

int theory(const TheoryArgs& a) {
  Config c = Config::from_file(a.experiment);
  for (const std::string& kv : a.overrides) c.apply_override(kv);
  const nlohmann::json p = predict_experiment(c);
  const fs::path path =
      a.out.empty() ? fs::path("runs") / (c.string("name") + ".theory.json") : fs::path(a.out);
  try {  // written first: a path that cannot take it is one line, before anything is printed
    if (!path.parent_path().empty()) fs::create_directories(path.parent_path());
    if (fs::is_directory(path)) throw std::runtime_error("is a folder");
    write_file_atomic(path, p.dump(2) + "\n");
  } catch (const std::exception& e) {
    throw std::invalid_argument(
        fmt::format("--out {}: cannot write the prediction there ({})", path.string(), e.what()));
  }
  fmt::print("{}", describe_prediction(p));
  fmt::print("wrote {}\n", path.string());
  return p.value("available", false) ? 0 : 1;
}

Action define(CLI::App& sub, const Globals&) {
  auto a = std::make_shared<TheoryArgs>();
  sub.add_option("experiment", a->experiment, "experiment TOML file")->required();
  sub.add_option("overrides", a->overrides, "key=value settings");
  sub.add_option("--out", a->out, "JSON file (default: runs/<name>.theory.json)");
  return [a] { return theory(*a); };
}

}  // namespace

Command theory_command() {
  return {"theory", "print and write the theory's prediction for an experiment (stages, Saxe)",
          &define};
}

}  // namespace gradscope::cli
