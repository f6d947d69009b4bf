// A sweep: the experiment file's [sweep] section and command-line lists, expanded into runs.
//
//   [sweep]
//   optim.weight_decay = [0.0, 0.3, 1.0, 3.0]   # an axis: key = [values]
//   task.train_fraction = [0.3, 0.5, 0.7]
//   mode = "grid"                                # grid (default) | random
//   n = 20                                       # random: this many samples
//   seeds = 2                                    # every point with seed, seed + 1, ...
//
// On the command line, key=v1,v2,... adds an axis (after the file's), or replaces the file's axis
// of that key in its place (seed=a,b,... replaces `seeds = N` too); key=v sets the base (and
// drops the file's axis of that key; seed=v moves where `seeds = N` starts); values are
// read by the grammar of config/value_text.h. List keys (task.target) take one list per value:
// [[3, 2], [1, 1]] in the file, task.target=[3,2],[1,1] on the command line. Expansion is
// deterministic: the grid in axis order, the last axis fastest, seeds innermost; random draws each
// axis value from Rng(seed, "sweep"), a point drawn before drawn again (n distinct points, at most
// the grid's). Every run's id is config_hash() of its resolved config, so the same settings keep
// the same id, and a sweep holds each run once: an axis listing a value twice, a file's seed axis
// beside its seeds = N, and points that resolve to the same settings are refused (ConfigError).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "gradscope/config/config.h"

namespace gradscope {

struct SweepAxis {
  std::string key;
  std::vector<ConfigValue> values;
};

struct SweepSpec {
  std::vector<SweepAxis> axes;
  std::string mode = "grid";
  int64_t n = 0;      // random samples
  int64_t seeds = 1;  // seeds per point
};

struct SweepRun {
  std::string id;                 // config_hash(config)
  Config config;                  // resolved; name = "<sweep>-<first 8 hex of id>"
  std::vector<std::string> axes;  // "key=value" of each axis (and seed), for display
};

// Reads the experiment file and the command-line arguments: `base` receives the file's config
// with the plain overrides applied; the spec holds the file's axes then the command line's.
// Throws ConfigError naming the file, key or value.
SweepSpec read_sweep(const std::filesystem::path& experiment,
                     const std::vector<std::string>& arguments, Config& base);

// Every run of the sweep, in expansion order; each config is validated (ConfigError otherwise).
std::vector<SweepRun> expand_sweep(const Config& base, const SweepSpec& spec);

// The spec as JSON text, for the sweep's manifest and messages.
std::string describe_sweep(const SweepSpec& spec);

}  // namespace gradscope
