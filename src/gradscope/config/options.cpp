// Options: the config an options struct's initializers read on this thread (see options.h).
#include "gradscope/config/options.h"

#include <algorithm>
#include <stdexcept>

namespace gradscope {

namespace options_detail {

namespace {

thread_local const Config* t_source = nullptr;

const KeySpec& spec_of(const char* key) {
  const KeySpec* spec = Config::find(key);
  if (!spec) throw std::logic_error(std::string("option: no key ") + key + " in the schema");
  return *spec;
}

}  // namespace

Source::Source(const Config& config) : previous_(t_source) {
  t_source = &config;
}
Source::~Source() {
  t_source = previous_;
}

const ConfigValue& current_value(const char* key) {
  const KeySpec& spec = spec_of(key);
  return t_source ? t_source->value(spec.key) : spec.default_value;
}

size_t choice_index(const char* key) {
  return option_index(key, held<std::string>(key, "a string"));
}

void wrong_type(const char* key, const char* wanted) {
  throw std::logic_error(std::string("option: ") + key + " is not " + wanted + " in the schema");
}

}  // namespace options_detail

size_t option_index(const char* key, const std::string& name) {
  const KeySpec* spec = Config::find(key);
  if (!spec) throw std::logic_error(std::string("option_index: no key ") + key);
  const auto it = std::find(spec->valid.begin(), spec->valid.end(), name);
  if (it == spec->valid.end())
    throw ConfigError(std::string(key) + " = \"" + name + "\" (valid: " + join_names(spec->valid) +
                      ")");
  return static_cast<size_t>(it - spec->valid.begin());
}

const std::string& option_name(const char* key, size_t index) {
  const KeySpec* spec = Config::find(key);
  if (!spec || index >= spec->valid.size())
    throw std::logic_error(std::string("option_name: ") + key + " has no valid value " +
                           std::to_string(index));
  return spec->valid[index];
}

}  // namespace gradscope
