// import_source: documents from an author's own data exports, no HTTP.
//
// Formats (detected from the path when `format` is empty):
//   medium    Medium's export: a .zip (or its unpacked folder) with
//             posts/*.html; drafts (posts/draft_*) are skipped. The URL is the
//             post's canonical link (a.p-canonical), the date its
//             time.dt-published.
//   substack  Substack's export: posts.csv + posts/<id>.<slug>.html, zipped or
//             not; unpublished posts are skipped. The URL is
//             `base_url`/p/<slug> (the export does not name the publication's
//             host), or import:substack/<slug> without one.
//   linkedin  LinkedIn's data export: Shares.csv (in the .zip or alone);
//             each share with text is a post, its URL the ShareLink.
//   folder    a directory of .html/.htm and .md/.markdown/.txt files; the URL
//             is a Markdown front matter `url:`, else `base_url`/<relative
//             path>, else file://<absolute path>.
//   jsonl     one JSON object per line: {url, title, text, published, platform}
//             (platform defaults to `platform`, then web).
// Text files may be UTF-8, UTF-16 with a BOM or Latin-1 / windows-1252
// (tasks/extract/charset.h). Every document gets a URL, a platform and a kind.
// A bad item (a post without text, a CSV row without a link, a JSON line that
// does not parse) is a failure naming the item; an input unusable as a whole
// (missing, truncated zip, unterminated CSV) throws Error.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/imports/zip_archive.h"

namespace twinflow {

struct ImportOptions {
  std::string format;    // medium, substack, linkedin, folder, jsonl; "" detects
  std::string platform;  // folder and jsonl: the platform when none is given (default web)
  std::string base_url;  // substack and folder: see above
  ZipLimits zip;
  size_t max_documents = 100000;
  size_t max_file_bytes = 32u * 1024 * 1024;  // a plain file (CSV, JSONL, folder file)
};

struct ImportedDocument {
  std::string url, platform, kind;  // kind: article or post
  std::string title, subtitle, byline, published, canonical_url, language;
  std::string content;
  nlohmann::json blocks = nlohmann::json::array();
  std::string item;  // where it came from: "posts/2024-03-19_x.html", "Shares.csv line 4"
};

struct ImportResult {
  std::string format;
  std::vector<ImportedDocument> documents;
  std::vector<std::pair<std::string, std::string>> failures;  // item, reason
  size_t skipped = 0;  // drafts, unpublished posts, shares without text
};

// The format of `path` by its name and contents; throws Error when none fits.
std::string detect_import_format(const std::filesystem::path& path);

ImportResult import_source(const std::filesystem::path& path, const ImportOptions& options);

}  // namespace twinflow
