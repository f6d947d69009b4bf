// Config: reading TOML files and overrides over the schema, the resolved config.toml text and the
// run id. The keys themselves are in schema.cpp.
#include "gradscope/config/config.h"

#include <fmt/core.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "gradscope/config/config_toml.h"
#include "gradscope/config/edit_distance.h"
#include "gradscope/config/value_text.h"

namespace gradscope {

const std::vector<KeySpec>& schema_table();  // schema.cpp

namespace {

std::vector<KeySpec>& mutable_schema() {
  static std::vector<KeySpec> schema = schema_table();
  return schema;
}

[[noreturn]] void unknown_key(const std::string& key, const std::string& where) {
  throw ConfigError(where + "unknown key '" + key + "' (did you mean '" + closest_key(key) + "'?)");
}

std::string section_of(const std::string& key) {
  const size_t dot = key.find('.');
  return dot == std::string::npos ? "" : key.substr(0, dot);
}

// The sections in the order of their first key ("" for top-level keys comes first).
std::vector<std::string> sections() {
  std::vector<std::string> out;
  for (const KeySpec& s : Config::schema())
    if (std::find(out.begin(), out.end(), section_of(s.key)) == out.end())
      out.push_back(section_of(s.key));
  return out;
}

// A file key's value as held: absolute, a relative path taken relative to `base` (default: the
// working directory).
ConfigValue absolute_file(const ConfigValue& v, const std::filesystem::path& base) {
  const std::string& text = std::get<std::string>(v);
  std::filesystem::path p(text);
  if (text.empty() || p.is_absolute()) return v;
  return (std::filesystem::absolute(base.empty() ? "." : base) / p).lexically_normal().string();
}

// The resolved TOML of a config, section by section; `keep` decides which keys are written.
template <class Keep>
std::string toml_text(const Config& values, const std::filesystem::path& home, Keep&& keep) {
  std::string out;
  for (const std::string& sec : sections()) {
    std::string lines;
    for (const KeySpec& s : Config::schema()) {
      if (section_of(s.key) != sec || !keep(s)) continue;
      const ConfigValue& v = values.value(s.key);
      lines += (sec.empty() ? s.key : s.key.substr(sec.size() + 1)) + " = " +
               value_to_string(s.file ? file_as_written(v, home) : v) + "\n";
    }
    // A section added after version 1 with every key at its default is left out whole, header
    // included, so that adding it renames no run.
    if (!sec.empty() && !lines.empty()) out += "\n[" + sec + "]\n";
    out += lines;
  }
  return out;
}

}  // namespace

ConfigValue file_as_written(const ConfigValue& v, const std::filesystem::path& home) {
  const std::string& text = std::get<std::string>(v);
  if (home.empty() || text.empty()) return v;
  const auto rel = std::filesystem::path(text).lexically_relative(
      std::filesystem::absolute(home).lexically_normal());
  if (rel.empty() || *rel.begin() == "..") return v;
  return rel.string();
}

const char* kind_name(const ConfigValue& v) {
  switch (v.index()) {
    case 0:
      return "an integer";
    case 1:
      return "a number";
    case 2:
      return "true or false";
    case 3:
      return "a string";
    default:
      return "a list of numbers";
  }
}

namespace {

// Whether `s` is UTF-8 text without control characters (what config.toml can hold and read back
// as it was).
bool plain_text(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    const int extra = c < 0x80           ? 0
                      : (c >> 5) == 0x6  ? 1
                      : (c >> 4) == 0xe  ? 2
                      : (c >> 3) == 0x1e ? 3
                                         : -1;
    if (extra < 0 || i + static_cast<size_t>(extra) >= s.size()) return false;
    uint32_t cp = extra == 0 ? c : c & (0x3f >> extra);
    for (int k = 1; k <= extra; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = cp << 6 | (d & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}

}  // namespace

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& v : names) out += (out.empty() ? "" : ", ") + v;
  return out;
}

bool NumberRange::contains(double v) const {
  return std::isfinite(v) && (low_open ? v > low : v >= low) && (high_open ? v < high : v <= high);
}

ConfigValue coerce_type(const KeySpec& spec, const ConfigValue& v, const std::string& where) {
  const size_t want = spec.default_value.index();
  if (v.index() == 3 && !plain_text(std::get<std::string>(v)))
    throw ConfigError(where + spec.key +
                      " holds control characters or is not UTF-8 (valid: plain text)");
  if (v.index() == 3 && !spec.valid.empty() &&
      std::find(spec.valid.begin(), spec.valid.end(), std::get<std::string>(v)) == spec.valid.end())
    throw ConfigError(where + spec.key + " = \"" + std::get<std::string>(v) +
                      "\" (valid: " + join_names(spec.valid) + ")");
  if (v.index() == want) return v;
  if (spec.string_or_list && v.index() == 4) return v;
  if (want == 0 && v.index() == 1) {
    const double d = std::get<double>(v);
    if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9.2e18)
      return static_cast<int64_t>(d);
  }
  if (want == 1 && v.index() == 0) return static_cast<double>(std::get<int64_t>(v));
  if (want == 4 && v.index() <= 1)
    return std::vector<double>{v.index() == 0 ? double(std::get<int64_t>(v)) : std::get<double>(v)};
  throw ConfigError(fmt::format(
      "{}{} = {} (valid: {})", where, spec.key, value_to_string(v),
      spec.string_or_list ? "a string or a list of numbers" : kind_name(spec.default_value)));
}

void check_range(const KeySpec& spec, const ConfigValue& v, const std::string& where) {
  if (spec.range.words.empty() || v.index() > 1) return;
  const double d = v.index() == 0 ? double(std::get<int64_t>(v)) : std::get<double>(v);
  if (!spec.range.contains(d))
    throw ConfigError(
        fmt::format("{}{} = {} (valid: {})", where, spec.key,
                    v.index() == 0 ? std::to_string(std::get<int64_t>(v)) : fmt::format("{}", d),
                    spec.range.words));
}

ConfigValue coerce(const KeySpec& spec, const ConfigValue& v, const std::string& where) {
  ConfigValue out = coerce_type(spec, v, where);
  check_range(spec, out, where);
  return out;
}

ConfigValue value_from_toml(const toml::node& node, const std::string& where) {
  if (auto i = node.as_integer()) return i->get();
  if (auto d = node.as_floating_point()) return d->get();
  if (auto b = node.as_boolean()) return b->get();
  if (auto s = node.as_string()) return s->get();
  if (auto a = node.as_array()) {
    std::vector<double> list;
    for (const toml::node& e : *a) {
      if (auto ei = e.as_integer())
        list.push_back(double(ei->get()));
      else if (auto ed = e.as_floating_point())
        list.push_back(ed->get());
      else
        throw ConfigError(where + " must be a list of numbers");
    }
    return list;
  }
  throw ConfigError(where + " must be a number, true or false, a string or a list of numbers");
}

std::string value_to_string(const ConfigValue& v) {
  switch (v.index()) {
    case 0:
      return std::to_string(std::get<int64_t>(v));
    case 1: {
      std::string s = fmt::format("{}", std::get<double>(v));
      if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // stays a TOML float
      return s;
    }
    case 2:
      return std::get<bool>(v) ? "true" : "false";
    case 4: {
      std::string out = "[";
      for (double d : std::get<std::vector<double>>(v))
        out += (out.size() > 1 ? ", " : "") + value_to_string(d);
      return out + "]";
    }
    default: {  // a TOML basic string: quote, backslash and control characters escaped
      std::string out = "\"";
      for (char ch : std::get<std::string>(v)) {
        const auto u = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\')
          out += std::string("\\") + ch;
        else if (u < 0x20 || u == 0x7f)
          out += fmt::format("\\u{:04X}", u);
        else
          out += ch;
      }
      return out + "\"";
    }
  }
}

std::string closest_key(const std::string& key) {
  const KeySpec* best = &Config::schema().front();
  size_t best_d = SIZE_MAX;
  for (const KeySpec& s : Config::schema()) {
    const size_t d = edit_distance(key.data(), key.size(), s.key.data(), s.key.size());
    if (d < best_d) best_d = d, best = &s;
  }
  return best->key;
}

const std::vector<KeySpec>& Config::schema() {
  return mutable_schema();
}

const KeySpec* Config::find(const std::string& key) {
  for (const KeySpec& s : schema())
    if (s.key == key) return &s;
  return nullptr;
}

void Config::register_key(const KeySpec& spec) {
  if (find(spec.key) || spec.since <= 1)
    throw std::logic_error("Config::register_key: " + spec.key + " exists or has since <= 1");
  mutable_schema().push_back(spec);
}

Config::Config() {
  for (const KeySpec& s : schema()) values_[s.key] = s.default_value;
}

void Config::set(const std::string& key, const ConfigValue& value) {
  const KeySpec* spec = find(key);
  if (!spec) unknown_key(key, "");
  values_[key] = coerce(*spec, value, "");
  if (spec->file) values_[key] = absolute_file(values_[key], {});
}

void Config::apply_override(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError("override '" + assignment +
                      "' is not key=value (e.g. optim.weight_decay=0.3)");
  const std::string key = assignment.substr(0, eq);
  const KeySpec* spec = find(key);
  if (!spec) unknown_key(key, "override: ");
  values_[key] = parse_value(*spec, assignment.substr(eq + 1));
  if (spec->file) values_[key] = absolute_file(values_[key], {});
}

Config Config::from_file(const std::filesystem::path& path) {
  if (std::filesystem::is_directory(path))
    throw ConfigError(path.string() + " is a directory, not an experiment file (a TOML file)");
  if (!std::filesystem::is_regular_file(path))
    throw ConfigError(path.string() + ": no such experiment file");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) throw ConfigError(path.string() + ": cannot read");
  return from_string(text.str(), path.string(), path.parent_path());
}

namespace {

// TOML allows characters beyond ASCII only in strings and comments. toml++ 3.3 (Debian 12) reaches
// undefined behaviour (an "unreachable" branch of its whitespace table) on some of them elsewhere,
// so they are refused here first, naming line and column.
void check_non_ascii_placement(const std::string& text, const std::string& file) {
  enum { plain, comment, basic, literal } state = plain;
  bool multiline = false;
  int64_t line = 1, column = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    ++column;
    if (ch == '\n') {
      ++line, column = 0;
      if (state == comment || ((state == basic || state == literal) && !multiline)) state = plain;
      continue;
    }
    const bool triple = text.compare(i, 3, std::string(3, ch)) == 0;
    switch (state) {
      case plain:
        if (static_cast<unsigned char>(ch) >= 0x80)
          throw ConfigError(
              fmt::format("{}:{}:{}: a character beyond ASCII outside a string or "
                          "comment (valid there: TOML's ASCII syntax)",
                          file, line, column));
        if (ch == '#') state = comment;
        if (ch == '"' || ch == '\'') {
          state = ch == '"' ? basic : literal;
          multiline = triple;
          if (triple) i += 2, column += 2;
        }
        break;
      case basic:
        if (ch == '\\') {
          ++i, ++column;  // the escaped character
        } else if (ch == '"' && (!multiline || triple)) {
          state = plain;
          if (multiline) i += 2, column += 2;
        }
        break;
      case literal:
        if (ch == '\'' && (!multiline || triple)) {
          state = plain;
          if (multiline) i += 2, column += 2;
        }
        break;
      case comment:
        break;
    }
  }
}

}  // namespace

Config Config::from_string(const std::string& text, const std::string& file,
                           const std::filesystem::path& base) {
  check_non_ascii_placement(text, file);
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}:{}: {}", file, e.source().begin.line,
                                  e.source().begin.column, e.description()));
  }
  Config c;
  auto set_leaf = [&](const std::string& key, const toml::node& node) {
    const KeySpec* spec = find(key);
    const std::string where = fmt::format("{}:{}: ", file, node.source().begin.line);
    if (!spec) unknown_key(key, where);
    c.values_[key] = coerce(*spec, value_from_toml(node, where + key), where);
    if (spec->file) c.values_[key] = absolute_file(c.values_[key], base);
  };
  const std::vector<std::string> known = sections();
  for (auto&& [k, node] : root) {
    const std::string name(k.str());
    if (name == "sweep" && node.is_table()) {  // gradscope sweep reads it (sweep/sweep_spec.h)
      c.has_sweep_ = true;
      continue;
    }
    if (auto table = node.as_table()) {
      if (name.empty() || std::find(known.begin(), known.end(), name) == known.end()) {
        std::string valid;
        for (const std::string& s : known)
          if (!s.empty()) valid += s + ", ";
        throw ConfigError(fmt::format("{}:{}: unknown section [{}] (valid: {}sweep)", file,
                                      node.source().begin.line, name, valid));
      }
      for (auto&& [k2, leaf] : *table) set_leaf(name + "." + std::string(k2.str()), leaf);
    } else {
      set_leaf(name, node);
    }
  }
  return c;
}

const ConfigValue& Config::value(const std::string& key) const {
  auto it = values_.find(key);
  if (it != values_.end()) return it->second;
  const KeySpec* spec = find(key);  // registered after this config was made: its default
  if (!spec) unknown_key(key, "");
  return spec->default_value;
}
int64_t Config::integer(const std::string& key) const {
  return std::get<int64_t>(value(key));
}
double Config::real(const std::string& key) const {
  return std::get<double>(value(key));
}
bool Config::boolean(const std::string& key) const {
  return std::get<bool>(value(key));
}
const std::string& Config::string(const std::string& key) const {
  return std::get<std::string>(value(key));
}
const std::vector<double>& Config::list(const std::string& key) const {
  return std::get<std::vector<double>>(value(key));
}
bool Config::is_default(const std::string& key) const {
  const KeySpec* spec = find(key);
  if (!spec) unknown_key(key, "");
  return value(key) == spec->default_value;
}

std::string Config::to_toml(const std::string& header, const std::filesystem::path& home) const {
  return header + toml_text(*this, home, [&](const KeySpec& s) {
           return s.since <= 1 || value(s.key) != s.default_value;
         });
}

std::string config_hash(const Config& config) {
  Config c = config;
  c.set("name", std::string());
  for (const KeySpec& s : Config::schema())
    if (s.execution || s.file) c.set(s.key, s.default_value);
  const std::string text = c.to_toml();
  return fmt::format("{:016x}", fnv1a(text.data(), text.size()));
}

uint64_t fnv1a(const void* data, size_t n, uint64_t h) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= bytes[i];
    h *= 1099511628211ull;
  }
  return h;
}

std::vector<std::string> Config::diff(const Config& other) const {
  std::vector<std::string> keys;
  for (const KeySpec& s : schema())
    if (value(s.key) != other.value(s.key)) keys.push_back(s.key);
  return keys;
}

}  // namespace gradscope
