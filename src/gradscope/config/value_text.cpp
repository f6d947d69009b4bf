// Values typed as text: see value_text.h.
#include "gradscope/config/value_text.h"

#include <toml++/toml.h>

#include <optional>

#include "gradscope/config/config_toml.h"

namespace gradscope {
namespace {

constexpr size_t kList = 4, kString = 3;

// The text as one TOML value; nullopt when it is not one (or holds more than a value).
std::optional<ConfigValue> as_toml(const std::string& text) {
  if (text.empty() || text.find_first_of("\n\r") != std::string::npos) return std::nullopt;
  try {
    const toml::table t = toml::parse("v = " + text);
    if (t.size() != 1 || !t.contains("v")) return std::nullopt;
    return value_from_toml(*t.get("v"), "v");
  } catch (const std::exception&) {  // toml::parse_error, or a table / mixed array (ConfigError)
    return std::nullopt;
  }
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

// Pieces of `text` between commas outside brackets and quotes.
std::vector<std::string> split_top_level(const std::string& text) {
  std::vector<std::string> out(1);
  int depth = 0;
  char quote = 0;
  for (char c : text) {
    if (quote) {
      quote = c == quote ? 0 : quote;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[') {
      ++depth;
    } else if (c == ']') {
      --depth;
    } else if (c == ',' && depth == 0) {
      out.emplace_back();
      continue;
    }
    out.back() += c;
  }
  return out;
}

[[noreturn]] void invalid(const KeySpec& spec, const std::string& text, const std::string& valid) {
  throw ConfigError(spec.key + " = " + text + " (valid: " + valid + ")");
}

// Numbers (TOML numbers) between commas; nullopt when a piece is not a number.
std::optional<std::vector<double>> numbers_between_commas(const std::string& text) {
  std::vector<double> out;
  for (const std::string& piece : split_top_level(text)) {
    const std::optional<ConfigValue> v = as_toml(trim(piece));
    if (!v || v->index() > 1) return std::nullopt;
    out.push_back(v->index() == 0 ? double(std::get<int64_t>(*v)) : std::get<double>(*v));
  }
  return out;
}

// The comma-list shorthand of a list key.
std::vector<double> number_list(const KeySpec& spec, const std::string& text) {
  if (trim(text).empty()) return {};
  const std::optional<std::vector<double>> numbers = numbers_between_commas(text);
  if (!numbers) invalid(spec, text, "a list of numbers, e.g. 3,2,1,0.5");
  return *numbers;
}

}  // namespace

ConfigValue parse_value(const KeySpec& spec, const std::string& text) {
  const size_t want = spec.default_value.index();
  const std::optional<ConfigValue> v = as_toml(text);
  if (want == kString) {
    if (v && v->index() == kString) return coerce(spec, *v, "");  // checks it is plain text
    if (v && v->index() == kList && spec.string_or_list) return *v;
    if (spec.string_or_list && text.find(',') != std::string::npos)  // its list form: 30,70
      if (std::optional<std::vector<double>> numbers = numbers_between_commas(text))
        return *numbers;
    return coerce(spec, text, "");  // a bare string
  }
  if (v) {
    ConfigValue typed;
    try {
      typed = coerce_type(spec, *v, "");
    } catch (const ConfigError&) {
      invalid(spec, text, kind_name(spec.default_value));
    }
    check_range(spec, typed, "");
    return typed;
  }
  if (want == kList) return number_list(spec, text);
  invalid(spec, text, kind_name(spec.default_value));
}

std::vector<ConfigValue> parse_values(const KeySpec& spec, const std::string& text) {
  const std::vector<std::string> pieces = split_top_level(text);
  bool axis = pieces.size() > 1;
  if (axis && (spec.default_value.index() == kList || spec.string_or_list))
    for (const std::string& p : pieces) {
      const std::string t = trim(p);
      axis = axis && t.size() >= 2 && t.front() == '[' && t.back() == ']';
    }
  if (!axis) return {parse_value(spec, text)};
  std::vector<ConfigValue> values;
  for (const std::string& p : pieces) values.push_back(parse_value(spec, trim(p)));
  return values;
}

std::string assignment_text(const std::string& key, const std::vector<ConfigValue>& values) {
  std::string out = key + "=";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += value_to_string(values[i]);
  }
  return out;
}

}  // namespace gradscope
