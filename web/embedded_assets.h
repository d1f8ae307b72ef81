// The dashboard's static files (web/assets/), compiled into the binary by
// cmake/embed_web_assets.cmake so that an installed twinflow needs no source
// tree, like the migrations.
#pragma once

#include <string_view>
#include <vector>

namespace twinflow {

struct EmbeddedAsset {
  std::string_view path;  // relative to web/assets: "app.js", "index.html"
  std::string_view content;
};

const std::vector<EmbeddedAsset>& embedded_web_assets();

}  // namespace twinflow
