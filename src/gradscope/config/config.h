// Config: an experiment's every setting, by one dotted name each ("optim.weight_decay"), used the
// same way in the TOML file, in key=value overrides, in the run directory and in plots.
//
// This module is the schema and nothing else: keys, their types and defaults (config/schema.cpp,
// one table), reading TOML files and overrides, the resolved config.toml text and the run id.
// It includes no other layer of gradscope; each layer projects and validates its own options
// (optimizer_options() in optim/, model_options() in nn/, ...), and run/ validates a whole
// experiment.
//
// An experiment file has top-level keys and the sections [task], [model], [optim], [probe],
// [train] (and [sweep], read by gradscope sweep); anything else is an error that names the key
// and the closest valid one. Values are checked for type (integers may be written 1e5).
//
// Compatibility: a key added after schema version 1 (KeySpec::since > 1) appears in config.toml
// and in the run id only when it differs from its default, so adding a key never renames or
// invalidates the runs and sweeps made before it. Execution keys (where a run executes) are never
// part of the run id and may differ when a run is resumed.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace gradscope {

// Bad user input: the message names the key (or file and line) and what would be valid.
struct ConfigError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// The value of a key: its index is the key's type (integer, number, bool, string, list).
using ConfigValue = std::variant<int64_t, double, bool, std::string, std::vector<double>>;

// A number key's valid values: an interval (each end open or closed, or unbounded) of finite
// values, and the words that name it in errors and in `gradscope keys` ("an integer >= 1").
// Ranges that depend on the family or the model (task.dim, model.depth) are checked by its layer.
struct NumberRange {
  double low = -HUGE_VAL, high = HUGE_VAL;
  bool low_open = false, high_open = false;
  std::string words;  // empty: no range
  bool contains(double v) const;
};

struct KeySpec {
  KeySpec(std::string key_, ConfigValue default_value_, std::string help_, int since_ = 1,
          bool execution_ = false, bool string_or_list_ = false, bool file_ = false)
      : key(std::move(key_)),
        default_value(std::move(default_value_)),
        help(std::move(help_)),
        since(since_),
        execution(execution_),
        string_or_list(string_or_list_),
        file(file_) {}

  std::string key;  // "section.name" or a top-level name
  ConfigValue default_value;
  std::string help;
  int since = 1;                // the schema version that added the key
  bool execution = false;       // where the run executes (device): not part of its identity
  bool string_or_list = false;  // a string key that also takes a list of numbers
  // A file the run reads (task.path): held as an absolute path, a relative one being relative to
  // the experiment file that gives it (to the working directory in overrides and set()). Like an
  // execution key it is not part of the run id and may differ when a run is resumed: the file's
  // content is identified by a key of its own.
  bool file = false;
  // An enum-valued string key's valid values, in the order of its enum (config/options.h); any
  // other value is refused when set. Empty: any string (within the key's own checks).
  std::vector<std::string> valid;
  // Where the valid values of a registry-named key come from: the registry checks them, and
  // `gradscope keys` lists them.
  enum class Registry { none, task_families, model_families };
  Registry registry = Registry::none;
  // The key changes no tensor shape and no control flow of a training step: runs that differ only
  // in such keys may be trained together as replicas.
  bool replica_safe = false;
  // A number key's valid values (config.cpp's coerce refuses others when set).
  NumberRange range;

  // Builders for the schema table's rows.
  KeySpec one_of(std::vector<std::string> values) && {
    valid = std::move(values);
    return std::move(*this);
  }
  KeySpec named_by(Registry names) && {
    registry = names;
    return std::move(*this);
  }
  KeySpec replica() && {
    replica_safe = true;
    return std::move(*this);
  }
  KeySpec within(NumberRange r) && {
    range = std::move(r);
    return std::move(*this);
  }
};

// The schema version of this build: 1 is every key before the run-directory rework.
constexpr int kSchemaVersion = 9;

class Config {
 public:
  // Every key, in the order the resolved config.toml lists them (section by section).
  static const std::vector<KeySpec>& schema();
  // The spec of a key; nullptr when there is none.
  static const KeySpec* find(const std::string& key);
  // Adds a key to the schema (tests use it to stand for a key added by a later version). The key
  // must be new and its `since` above 1. Not thread-safe: call before any Config is made.
  static void register_key(const KeySpec& spec);

  // The defaults for every key.
  Config();

  // Reads an experiment file over the defaults. Throws ConfigError naming file, line and key.
  static Config from_file(const std::filesystem::path& path);
  // Same, for TOML text; `origin` names it in messages. Relative file paths in it are relative
  // to `base` (default: the working directory).
  static Config from_string(const std::string& text, const std::string& origin,
                            const std::filesystem::path& base = {});
  // Applies "key=value", the value read by the grammar of config/value_text.h. Throws
  // ConfigError naming the key and what is valid.
  void apply_override(const std::string& assignment);
  void set(const std::string& key, const ConfigValue& value);

  int64_t integer(const std::string& key) const;
  double real(const std::string& key) const;
  bool boolean(const std::string& key) const;
  const std::string& string(const std::string& key) const;
  const std::vector<double>& list(const std::string& key) const;
  const ConfigValue& value(const std::string& key) const;
  bool is_default(const std::string& key) const;

  // The resolved config as TOML, with a header comment: every key of schema version 1, and every
  // later key whose value differs from its default. File paths inside `home` (a run directory)
  // are written relative to it, so the directory can move; others stay absolute.
  std::string to_toml(const std::string& header = "", const std::filesystem::path& home = {}) const;
  // Keys whose values differ from other's (execution keys too).
  std::vector<std::string> diff(const Config& other) const;
  // Whether the file had a [sweep] section (read by gradscope sweep, ignored here).
  bool has_sweep() const { return has_sweep_; }

 private:
  std::map<std::string, ConfigValue> values_;
  bool has_sweep_ = false;
};

// A stable id of a config: 16 hex digits of the 64-bit FNV-1a hash of its resolved TOML with the
// name, the execution keys and the file paths left out (the same settings give the same id whatever
// the run is called and wherever it runs).
std::string config_hash(const Config& config);

// The 64-bit FNV-1a hash of `n` bytes, continuing from `h` (the run id's hash; also that of data
// files' content).
uint64_t fnv1a(const void* data, size_t n, uint64_t h = 1469598103934665603ull);

// A file key's value as a config under `home` (a run directory) writes it: relative when inside
// it, as it stands otherwise.
ConfigValue file_as_written(const ConfigValue& v, const std::filesystem::path& home);

// Names as "a, b, c" (a key's valid values, a registry's names) for messages.
std::string join_names(const std::vector<std::string>& names);
// The valid key closest to `key` (edit distance), for "did you mean" messages.
std::string closest_key(const std::string& key);
// A value as TOML text (strings quoted, numbers round-trip).
std::string value_to_string(const ConfigValue& v);
// "an integer", "a number", "true or false", "a string", "a list of numbers".
const char* kind_name(const ConfigValue& v);
// `v` converted to the key's type (an integral float to an integer, an integer to a number, a
// number to a one-element list). Throws ConfigError "<where><key> = <v> (valid: <kind>)".
ConfigValue coerce_type(const KeySpec& spec, const ConfigValue& v, const std::string& where);
// Throws ConfigError "<where><key> = <v> (valid: <the range's words>)" when a number of the key's
// type lies outside its range.
void check_range(const KeySpec& spec, const ConfigValue& v, const std::string& where);
// coerce_type, then check_range: what every value set on a config goes through.
ConfigValue coerce(const KeySpec& spec, const ConfigValue& v, const std::string& where);

}  // namespace gradscope
