// Sweep specification and expansion: see sweep_spec.h.
#include "gradscope/sweep/sweep_spec.h"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <unordered_map>

#include "gradscope/config/config_toml.h"
#include "gradscope/config/value_text.h"
#include "gradscope/run/validate.h"
#include "gradscope/rundir/files.h"
#include "gradscope/tasks/task_family.h"
#include "gradscope/tensor/rng.h"

namespace gradscope {
namespace {

// The value coerced to the key's type (ConfigError names key and value otherwise).
ConfigValue typed(const std::string& key, const ConfigValue& v) {
  Config c;
  c.set(key, v);
  return c.value(key);
}

// Throws ConfigError naming the key and value when an axis lists a value twice (each would be
// the same run).
void check_distinct(const SweepAxis& axis, const std::string& where) {
  for (size_t i = 0; i < axis.values.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (value_to_string(axis.values[i]) == value_to_string(axis.values[j]))
        throw ConfigError(where + "sweep key " + axis.key + " lists " +
                          value_to_string(axis.values[i]) + " twice (each value once)");
}

void add_axis(SweepSpec& spec, SweepAxis axis, const std::string& where) {
  for (const SweepAxis& a : spec.axes)
    if (a.key == axis.key) throw ConfigError(where + "sweep key " + axis.key + " given twice");
  if (axis.values.empty()) throw ConfigError(where + "sweep key " + axis.key + " has no values");
  check_distinct(axis, where);
  spec.axes.push_back(std::move(axis));
}

// The grid's size: the product of the axes' value counts (SIZE_MAX beyond it).
size_t grid_points(const SweepSpec& spec) {
  size_t total = 1;
  for (const SweepAxis& a : spec.axes)
    total = a.values.size() != 0 && total > SIZE_MAX / a.values.size() ? SIZE_MAX
                                                                       : total * a.values.size();
  return total;
}

// The [sweep] table, dotted keys flattened.
void read_table(const toml::table& t, const std::string& prefix, SweepSpec& spec,
                const std::string& file) {
  for (auto&& [k, node] : t) {
    const std::string key = prefix + std::string(k.str());
    const std::string where = fmt::format("{}:{}: ", file, node.source().begin.line);
    if (auto sub = node.as_table()) {
      read_table(*sub, key + ".", spec, file);
    } else if (prefix.empty() && (key == "mode" || key == "n" || key == "seeds")) {
      if (key == "mode") {
        auto s = node.value<std::string>();
        if (!s || (*s != "grid" && *s != "random"))
          throw ConfigError(where + "sweep.mode (valid: \"grid\", \"random\")");
        spec.mode = *s;
      } else {
        auto v = node.value<int64_t>();
        if (!v || *v < 1) throw ConfigError(where + "sweep." + key + " (valid: an integer >= 1)");
        (key == "n" ? spec.n : spec.seeds) = *v;
      }
    } else if (auto arr = node.as_array()) {
      SweepAxis axis{key, {}};
      try {
        for (const toml::node& e : *arr)
          axis.values.push_back(typed(key, value_from_toml(e, where + key)));
      } catch (const ConfigError& e) {
        throw ConfigError(where + "sweep: " + e.what());
      }
      add_axis(spec, std::move(axis), where);
    } else {
      throw ConfigError(where + "sweep." + key +
                        " must be a list of values (e.g. optim.weight_decay = [0.1, 1.0]), or "
                        "mode, n, seeds");
    }
  }
}

}  // namespace

SweepSpec read_sweep(const std::filesystem::path& experiment,
                     const std::vector<std::string>& arguments, Config& base) {
  base = Config::from_file(experiment);
  SweepSpec spec;
  // Already parsed once by Config::from_file, so a syntax error cannot reach here.
  const toml::table root = toml::parse(read_file(experiment), experiment.string());
  if (auto sweep = root["sweep"].as_table()) read_table(*sweep, "", spec, experiment.string());
  size_t file_axes = spec.axes.size();  // the first file_axes axes are the file's
  // A command-line value for a key the file sweeps replaces the file's axis: a list takes its
  // place, a single value removes it (and sets the base). True when the list took its place.
  std::vector<std::string> replaced;  // file axes the command line has replaced
  auto replace_file_axis = [&](const std::string& key, std::vector<ConfigValue>& values) {
    if (std::find(replaced.begin(), replaced.end(), key) != replaced.end())
      throw ConfigError("sweep key " + key + " given twice on the command line");
    for (size_t i = 0; i < file_axes; ++i) {
      if (spec.axes[i].key != key) continue;
      replaced.push_back(key);
      if (values.size() > 1) {
        spec.axes[i].values = std::move(values);
        check_distinct(spec.axes[i], "");
        return true;
      }
      spec.axes.erase(spec.axes.begin() + static_cast<std::ptrdiff_t>(i));
      --file_axes;
      return false;
    }
    return false;
  };
  for (const std::string& arg : arguments) {
    const size_t eq = arg.find('=');
    const std::string key = eq == std::string::npos ? arg : arg.substr(0, eq);
    if (eq == std::string::npos || eq == 0)
      throw ConfigError("override '" + arg + "' is not key=value or key=v1,v2,...");
    const KeySpec* ks = Config::find(key);
    if (!ks) {
      base.apply_override(arg);  // names the unknown key and the closest valid one
      continue;
    }
    std::vector<ConfigValue> values = parse_values(*ks, arg.substr(eq + 1));
    if (key == "seed" && values.size() > 1) spec.seeds = 1;  // a list of seeds replaces seeds = N
    if (replace_file_axis(key, values)) continue;
    if (values.size() == 1) {  // a single value: the base
      base.set(key, values.front());
      continue;
    }
    add_axis(spec, SweepAxis{key, std::move(values)}, "");
  }
  if (spec.mode == "random" && spec.n < 1)
    throw ConfigError("sweep.mode = \"random\" needs sweep.n = the number of samples");
  if (spec.mode == "random" && static_cast<size_t>(spec.n) > grid_points(spec))
    throw ConfigError(fmt::format(
        "sweep.n = {} is more than the grid's {} points (random mode draws distinct points)",
        spec.n, grid_points(spec)));
  if (spec.seeds > 1)
    for (const SweepAxis& a : spec.axes)
      if (a.key == "seed")
        throw ConfigError(fmt::format(
            "{}: [sweep] has a seed axis and seeds = {} (give one of them; seed=a,b,... on the "
            "command line replaces both)",
            experiment.string(), spec.seeds));
  return spec;
}

std::vector<SweepRun> expand_sweep(const Config& base, const SweepSpec& spec) {
  // Points: one assignment (value index per axis) each.
  std::vector<std::vector<size_t>> points;
  if (spec.mode == "grid") {
    const size_t total = grid_points(spec);
    for (size_t p = 0; p < total; ++p) {
      std::vector<size_t> idx(spec.axes.size());
      size_t rest = p;
      for (size_t i = spec.axes.size(); i-- > 0;) {
        idx[i] = rest % spec.axes[i].values.size();
        rest /= spec.axes[i].values.size();
      }
      points.push_back(idx);
    }
  } else {
    // Distinct points: a draw already taken is drawn again (read_sweep checked n <= the grid).
    Rng rng(static_cast<uint64_t>(base.integer("seed")), "sweep");
    std::set<std::vector<size_t>> drawn;
    while (points.size() < static_cast<size_t>(spec.n)) {
      std::vector<size_t> idx;
      for (const SweepAxis& a : spec.axes) idx.push_back(rng.next_below(a.values.size()));
      if (drawn.insert(idx).second) points.push_back(idx);
    }
  }
  const std::string sweep = base.string("name");
  std::vector<SweepRun> runs;
  std::unordered_map<std::string, size_t> index;  // run id -> its run: settings the axes do not
                                                  // tell apart would be one run trained twice
  for (const auto& idx : points)
    for (int64_t s = 0; s < spec.seeds; ++s) {
      SweepRun r{"", base, {}};
      for (size_t i = 0; i < spec.axes.size(); ++i) {
        const ConfigValue& v = spec.axes[i].values[idx[i]];
        r.config.set(spec.axes[i].key, v);
        r.axes.push_back(spec.axes[i].key + "=" + value_to_string(v));
      }
      if (spec.seeds > 1) {
        r.config.set("seed", base.integer("seed") + s);
        r.axes.push_back(fmt::format("seed={}", base.integer("seed") + s));
      }
      try {
        validate_experiment(r.config);
        resolve_task(r.config);
        r.id = config_hash(r.config);
        r.config.set("name", sweep + "-" + r.id.substr(0, 8));
      } catch (const ConfigError& e) {
        std::string at;
        for (const auto& a : r.axes) at += (at.empty() ? "" : ", ") + a;
        throw ConfigError(std::string(e.what()) + (at.empty() ? "" : " [sweep point " + at + "]"));
      }
      if (const auto [at, fresh] = index.emplace(r.id, runs.size()); !fresh)
        throw ConfigError(fmt::format("sweep points [{}] and [{}] are the same run (id {})",
                                      fmt::join(runs[at->second].axes, ", "),
                                      fmt::join(r.axes, ", "), r.id.substr(0, 8)));
      runs.push_back(std::move(r));
    }
  return runs;
}

std::string describe_sweep(const SweepSpec& spec) {
  nlohmann::ordered_json j;
  j["mode"] = spec.mode;
  if (spec.mode == "random") j["n"] = spec.n;
  j["seeds"] = spec.seeds;
  nlohmann::ordered_json axes = nlohmann::ordered_json::object();
  for (const SweepAxis& a : spec.axes) {
    nlohmann::ordered_json vals = nlohmann::ordered_json::array();
    for (const ConfigValue& v : a.values) vals.push_back(value_to_string(v));
    axes[a.key] = vals;
  }
  j["axes"] = axes;
  return j.dump();
}

}  // namespace gradscope
