// The web app's files, embedded into the executable at build time (CMakeLists.txt generates
// web_assets.cpp from web/app/ and the pinned uPlot of web/node_modules), so that the viewer and
// its reports work on a machine with no network.
#pragma once

#include <string_view>

namespace gradscope::serve {

struct WebAsset {
  std::string_view name;          // "app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view content;
};

// The asset of that name, or nullptr.
const WebAsset* find_asset(std::string_view name);

}  // namespace gradscope::serve
