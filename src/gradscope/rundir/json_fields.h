// Whole numbers in gradscope's JSON files (checkpoint headers, summaries, heartbeats): a field that
// should hold an integer and holds anything else (a fraction, 2.4e43, a string) makes the file
// malformed, reported as nlohmann's type_error, never converted (nlohmann's conversion of an
// out-of-range double to an integer is undefined behaviour; a fuzz finding).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gradscope {

// The integer `v` holds (an integral double within int64's range counts).
template <class Json>
int64_t json_int(const Json& v, const std::string& what = "a field") {
  if (v.is_number_integer()) return v.template get<int64_t>();
  if (v.is_number_float()) {
    const double d = v.template get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9.2e18)
      return static_cast<int64_t>(d);
  }
  throw nlohmann::detail::type_error::create(302, what + " is " + v.dump() + ", not an integer",
                                             nullptr);
}

// j[key] as an integer (nlohmann's out_of_range when missing).
template <class Json>
int64_t json_int_at(const Json& j, const char* key) {
  return json_int(j.at(key), key);
}

// An array of integers (a shape).
template <class Json>
std::vector<int64_t> json_ints(const Json& v, const std::string& what = "a list") {
  if (!v.is_array())
    throw nlohmann::detail::type_error::create(302, what + " is not a list", nullptr);
  std::vector<int64_t> out;
  for (const auto& e : v) out.push_back(json_int(e, what));
  return out;
}

}  // namespace gradscope
