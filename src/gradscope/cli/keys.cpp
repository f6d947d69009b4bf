// `gradscope keys [PREFIX]`: every config key (or those under PREFIX) with its type, default,
// valid values and help, from the schema (config/schema.cpp), the valid names of task.name and
// model.type from their registries.
#include <fmt/core.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "gradscope/cli/command.h"
#include "gradscope/config/config.h"
#include "gradscope/config/edit_distance.h"
#include "gradscope/nn/model_registry.h"
#include "gradscope/tasks/task_family.h"

namespace gradscope::cli {
namespace {

struct KeysArgs {
  std::string prefix;
};

// "integer", "number", "bool", "string", "list" (a string key that also takes a list: "string
// or list").
std::string type_name(const KeySpec& s) {
  static const char* const kNames[] = {"integer", "number", "bool", "string", "list"};
  return std::string(kNames[s.default_value.index()]) + (s.string_or_list ? " or list" : "");
}

// The valid values: the schema's (names or a number range), a registry's names, or "" for any
// value of the type.
std::string valid_text(const KeySpec& s) {
  if (!s.range.words.empty()) return s.range.words;
  std::vector<std::string> names = s.valid;
  if (s.registry == KeySpec::Registry::task_families)
    for (const TaskFamily& f : task_families()) names.push_back(f.name);
  if (s.registry == KeySpec::Registry::model_families)
    for (const ModelFamily& f : model_families()) names.push_back(f.name);
  return join_names(names);
}

// What else a researcher needs to know of the key: it may vary between replicas, where a run
// executes (not its identity), a file, the schema version that added it.
std::string notes(const KeySpec& s) {
  std::string out;
  auto add = [&out](const std::string& n) { out += (out.empty() ? "" : "; ") + n; };
  if (s.replica_safe) add("replica-safe");
  if (s.execution) add("execution: not part of the run id");
  if (s.file) add("a file: not part of the run id");
  if (s.since > 1) add(fmt::format("since schema {}", s.since));
  return out;
}

// The section or key closest to `prefix` (edit distance), for "did you mean".
std::string closest_prefix(const std::string& prefix) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const KeySpec& s : Config::schema())
    for (const std::string& c : {s.key.substr(0, s.key.find('.')), s.key}) {
      const size_t d = edit_distance(prefix.data(), prefix.size(), c.data(), c.size());
      if (d < best_d) {
        best_d = d;
        best = c;
      }
    }
  return best;
}

bool under(const std::string& key, const std::string& prefix) {
  if (prefix.empty() || key == prefix) return true;
  const std::string p = prefix.back() == '.' ? prefix : prefix + ".";
  return key.rfind(p, 0) == 0;
}

int keys(const KeysArgs& a) {
  std::vector<const KeySpec*> shown;
  for (const KeySpec& s : Config::schema())
    if (under(s.key, a.prefix)) shown.push_back(&s);
  if (shown.empty())
    throw std::invalid_argument("no key under '" + a.prefix + "' (did you mean '" +
                                closest_prefix(a.prefix) + "'?)");
  size_t width = 0;
  for (const KeySpec* s : shown) width = std::max(width, s->key.size());
  for (const KeySpec* s : shown) {
    fmt::print("{:<{}}  {} = {}", s->key, width, type_name(*s), value_to_string(s->default_value));
    if (const std::string v = valid_text(*s); !v.empty()) fmt::print("  (valid: {})", v);
    fmt::print("\n    {}\n", s->help);
    if (const std::string n = notes(*s); !n.empty()) fmt::print("    [{}]\n", n);
  }
  return 0;
}

Action define(CLI::App& sub, const Globals&) {
  auto a = std::make_shared<KeysArgs>();
  sub.add_option("prefix", a->prefix, "a section or key, e.g. optim or model.norm (default: all)");
  return [a] { return keys(*a); };
}

}  // namespace

Command keys_command() {
  return {"keys", "list the config keys: type, default, valid values and help", &define};
}

}  // namespace gradscope::cli
