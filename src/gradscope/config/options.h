// Options: how a layer's options struct holds config keys, each key written once. A field that
// holds a key names the key as its initializer,
//
//     double lr = option<double>("optim.lr");
//
// and nothing else: its type, default, valid values and help are the schema's (config/schema.cpp).
// A struct made plainly holds the defaults; options_from<S>(config) makes one that holds config's
// values (while it is made, the initializers read that config, on this thread only).
//
// Enum-valued keys become enums here, once: option<E> is the value's index among the key's valid
// values (KeySpec::valid), so an enum lists its enumerators in the schema's order
// (tests/unit/options_test.cpp checks each one). The config refused any other value when it was
// set, naming the key and the valid ones.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "gradscope/config/config.h"

namespace gradscope {

namespace options_detail {

// The value of `key` in the config being read on this thread, or its schema default.
// Throws std::logic_error for a key the schema lacks.
const ConfigValue& current_value(const char* key);
// The index of `key`'s value among its valid values. Throws std::logic_error when it has none.
size_t choice_index(const char* key);
[[noreturn]] void wrong_type(const char* key, const char* wanted);

// While alive, option() on this thread reads `config` (nested sources restore the outer one).
class Source {
 public:
  explicit Source(const Config& config);
  ~Source();
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

 private:
  const Config* previous_;
};

template <class V>
const V& held(const char* key, const char* wanted) {
  const ConfigValue& v = current_value(key);
  if (!std::holds_alternative<V>(v)) wrong_type(key, wanted);
  return std::get<V>(v);
}

}  // namespace options_detail

// The value of `key` as T: an integer type (integer keys), double, bool, std::string,
// std::vector<double>, or an enum (enum-valued string keys).
template <class T>
T option(const char* key) {
  using namespace options_detail;
  if constexpr (std::is_enum_v<T>)
    return static_cast<T>(choice_index(key));
  else if constexpr (std::is_same_v<T, bool>)
    return held<bool>(key, "bool");
  else if constexpr (std::is_integral_v<T>)
    return static_cast<T>(held<int64_t>(key, "an integer"));
  else if constexpr (std::is_same_v<T, double>)
    return held<double>(key, "a number");
  else if constexpr (std::is_same_v<T, std::string>)
    return held<std::string>(key, "a string");
  else if constexpr (std::is_same_v<T, std::vector<double>>)
    return held<std::vector<double>>(key, "a list");
  else
    static_assert(sizeof(T) == 0, "option<T>: no config value converts to this type");
}

// The value of `key` as the config holds it (for a field parsed from it, such as a list of steps).
inline const ConfigValue& option_value(const char* key) {
  return options_detail::current_value(key);
}

// The name of an enum-valued key's value (its valid value at the enumerator's index), for
// messages and files.
const std::string& option_name(const char* key, size_t index);
template <class E>
requires std::is_enum_v<E>
const std::string& option_name(const char* key, E value) {
  return option_name(key, static_cast<size_t>(value));
}

// The enumerator of an enum-valued key's value `name` (for values read from elsewhere, such as a
// test's fixture). Throws ConfigError naming the key and its valid values.
size_t option_index(const char* key, const std::string& name);
template <class E>
requires std::is_enum_v<E> E option_named(const char* key, const std::string& name) {
  return static_cast<E>(option_index(key, name));
}

// An options struct S holding `config`'s values for the keys its fields name.
template <class S>
S options_from(const Config& config) {
  const options_detail::Source source(config);
  return S{};
}

}  // namespace gradscope
