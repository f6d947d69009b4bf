// The plots' palette and styles: see style.h.
#include "gradscope/report/style.h"

#include <nlohmann/json.hpp>

namespace gradscope::style {

const char* regime_colour(std::string_view regime) {
  for (const RegimeColour& r : kRegimes)
    if (regime == r.regime) return r.colour;
  return kMissing;
}

std::string style_json() {
  nlohmann::json regimes = nlohmann::json::object(), ramp = nlohmann::json::array();
  for (const RegimeColour& r : kRegimes) regimes[r.regime] = r.colour;
  for (const auto& stop : kRamp) ramp.push_back({stop[0], stop[1], stop[2]});
  const nlohmann::json doc = {{"palette", kPalette},
                              {"regimes", regimes},
                              {"ramp", ramp},
                              {"missing", kMissing},
                              {"empty", kEmpty}};
  return doc.dump();
}

}  // namespace gradscope::style
