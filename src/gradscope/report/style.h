// The plots' palette and styles in one place: every SVG of report/ draws with these values, and
// the web viewer reads the same ones (style_json(), inlined into its page by serve/ and into a
// report's HTML), so a colour means the same on paper and in the browser.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace gradscope::style {

// The series palette, in the order series take it (wrapping): train, test, then the rest.
inline constexpr std::array<const char*, 10> kPalette = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                                         "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                                         "#bcbd22", "#17becf"};
inline constexpr const char* kBlue = kPalette[0];
inline constexpr const char* kRed = kPalette[1];
inline constexpr const char* kGreen = kPalette[2];
inline constexpr const char* kOrange = kPalette[3];
inline constexpr const char* kPurple = kPalette[4];
inline constexpr const char* kGrey = kPalette[7];
inline constexpr const char* kBlack = "#000000";  // a reference: a mean, a closed form, the model
inline constexpr const char* kTrain = kBlue;
inline constexpr const char* kTest = kRed;

// Fills: a cell with no value (never reached), and the empty background of a cell.
inline constexpr const char* kMissing = "#dddddd";
inline constexpr const char* kEmpty = "#f4f4f4";

// The regimes' colours (summary.json's regime); any other name gets kMissing.
struct RegimeColour {
  const char* regime;
  const char* colour;
};
inline constexpr std::array<RegimeColour, 4> kRegimes = {{{"confusion", "#bbbbbb"},
                                                          {"memorization", kBlue},
                                                          {"grokking", kOrange},
                                                          {"comprehension", kGreen}}};
const char* regime_colour(std::string_view regime);

// The colour ramp of continuous values (viridis at five stops, RGB), from low to high.
inline constexpr double kRamp[5][3] = {
    {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};

// All of the above as JSON ({"palette", "regimes", "ramp", "missing"}), for the web viewer.
std::string style_json();

}  // namespace gradscope::style
