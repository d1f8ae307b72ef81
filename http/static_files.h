// static_files_handler: serves a directory over HttpServer, safely.
//
// Used by `twinflow serve-files`, by test fixtures that serve crawl pages, and
// by the dashboard for its assets. A URL must never reach outside the root:
// `..` segments (also percent-encoded) and NUL bytes are refused, and a path
// that resolves (through symlinks) outside the root is refused too. Files get
// a Content-Type from their extension and strong validators (ETag from size
// and modification time, Last-Modified), and conditional requests get 304, so
// browsers and twinflow's own crawler revalidate cheaply.
#pragma once

#include <filesystem>

#include "http/http_server.h"

namespace twinflow {

// GET and HEAD only (others: 405). A directory is served as its index.html
// (a directory URL without its trailing '/' is redirected to it first, so
// relative links in the page work); no directory listings. Missing: 404;
// escaping the root: 403. Throws Error when `root` is not a directory.
HttpHandler static_files_handler(std::filesystem::path root);

// "text/html; charset=utf-8" for "page.html"; "application/octet-stream" for
// unknown extensions.
std::string content_type_for(const std::filesystem::path& file);

}  // namespace twinflow
