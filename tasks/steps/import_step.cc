// The import step: documents from an author's own data exports (Medium,
// Substack, LinkedIn, a folder of HTML or Markdown, JSONL), no HTTP. Each
// source's sha256 is recorded in the manifest and in the output's metadata, so
// lineage reaches the file imported. One bad item or source never fails the
// step: each is recorded with its reason; the step fails only when the share
// of failed items exceeds `max_failure_ratio`. See tasks/imports/importers.h
// and docs/STEPS.md.
#include <algorithm>
#include <filesystem>
#include <iostream>

#include "store/feature_store.h"
#include "store/store.h"
#include "tasks/imports/importers.h"
#include "tasks/steps/data_steps.h"
#include "util/error.h"
#include "util/files.h"
#include "util/sha256.h"

namespace twinflow {
namespace fs = std::filesystem;
namespace {

struct ImportSpec {
  fs::path path;
  ImportOptions options;
};

std::vector<ImportSpec> read_sources(const StepParams& params, const ImportOptions& defaults) {
  const auto& raw = params.raw("sources");
  if (!raw.is_array() || raw.empty())
    throw Error("import step: param 'sources' must be a non-empty list of paths or {path, format}");
  std::vector<ImportSpec> out;
  for (const auto& entry : raw) {
    ImportSpec spec;
    spec.options = defaults;
    if (entry.is_string()) {
      spec.path = entry.get<std::string>();
    } else if (entry.is_object() && entry.contains("path") && entry["path"].is_string()) {
      spec.path = entry["path"].get<std::string>();
      for (const char* key : {"format", "platform", "base_url"})
        if (entry.contains(key) && !entry[key].is_string())
          throw Error(std::string("import step: '") + key + "' must be a string, got " +
                      entry[key].dump());
      spec.options.format = entry.value("format", "");
      spec.options.platform = entry.value("platform", defaults.platform);
      spec.options.base_url = entry.value("base_url", "");
    } else {
      throw Error(
          "import step: each of 'sources' must be a path or {path, format, platform, "
          "base_url}, got " +
          entry.dump());
    }
    if (!spec.path.is_absolute())
      throw Error("import step: source path " + spec.path.string() +
                  " must be absolute (steps run in their own directory)");
    out.push_back(std::move(spec));
  }
  return out;
}

// A file's sha256; a folder's is over its files' relative paths and contents.
std::string source_sha256(const fs::path& path, uint64_t& bytes) {
  if (!fs::is_directory(path)) {
    bytes = fs::file_size(path);
    return sha256_file(path);
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(path))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  Sha256 hash;
  bytes = 0;
  for (const fs::path& f : files) {
    bytes += fs::file_size(f);
    hash.field(fs::relative(f, path).generic_string()).field(sha256_file(f));
  }
  return hash.hex_digest();
}

}  // namespace

int run_import_step(StepEnvironment& env) {
  StepParams params(env.context.params, "import");
  const std::string author = params.string("author");
  ImportOptions defaults;
  defaults.platform = params.string_or("platform", "");
  defaults.max_documents =
      static_cast<size_t>(params.integer_or("max_documents", 100000, 1, 10000000));
  defaults.max_file_bytes =
      static_cast<size_t>(params.integer_or("max_file_bytes", 32 << 20, 1024, int64_t{1} << 32));
  defaults.zip.max_entries =
      static_cast<size_t>(params.integer_or("max_archive_entries", 20000, 1, 10000000));
  defaults.zip.max_entry_bytes =
      static_cast<size_t>(params.integer_or("max_entry_bytes", 32 << 20, 1024, int64_t{1} << 32));
  defaults.zip.max_total_bytes = static_cast<size_t>(
      params.integer_or("max_archive_bytes", int64_t{512} << 20, 1024, int64_t{1} << 40));
  const double max_failure_ratio = params.number_or("max_failure_ratio", 0.5, 0.0, 1.0);
  const std::vector<ImportSpec> sources = read_sources(params, defaults);

  nlohmann::json documents = nlohmann::json::array(), failures = nlohmann::json::array(),
                 imports = nlohmann::json::array();
  std::map<std::string, int64_t> changes;
  int64_t items_failed = 0, items = 0, skipped = 0;
  for (const ImportSpec& spec : sources) {
    nlohmann::json record = {{"path", spec.path.string()}};
    try {
      if (!fs::exists(spec.path)) throw Error(spec.path.string() + ": no such file or directory");
      uint64_t bytes = 0;
      record["sha256"] = source_sha256(spec.path, bytes);
      record["bytes"] = bytes;
      ImportResult result = import_source(spec.path, spec.options);
      record["format"] = result.format;
      int64_t stored_count = 0;
      for (const ImportedDocument& d : result.documents) {
        DocumentToStore doc;
        doc.author = author;
        doc.platform = d.platform;
        doc.kind = d.kind;
        doc.url = d.url;
        doc.title = d.title;
        doc.subtitle = d.subtitle;
        doc.byline = d.byline;
        doc.published_at = d.published;
        doc.canonical_url = d.canonical_url;
        doc.language = d.language;
        doc.content = d.content;
        doc.blocks = d.blocks;
        doc.step_run_id = env.step_run_id;
        try {
          StoredDocument stored = env.features.upsert_document(doc);
          ++changes[stored.change];
          ++stored_count;
          documents.push_back({{"url", d.url},
                               {"platform", d.platform},
                               {"document_id", stored.id},
                               {"source", spec.path.string()}});
        } catch (const Error& e) {
          failures.push_back(
              {{"source", spec.path.string()}, {"item", d.item}, {"reason", e.what()}});
          ++items_failed;
        }
      }
      for (const auto& [item, reason] : result.failures) {
        failures.push_back({{"source", spec.path.string()}, {"item", item}, {"reason", reason}});
        std::cerr << "import: " << spec.path.string() << ": " << item << ": " << reason << "\n";
      }
      items += static_cast<int64_t>(result.documents.size() + result.failures.size());
      items_failed += static_cast<int64_t>(result.failures.size());
      skipped += static_cast<int64_t>(result.skipped);
      record["documents"] = stored_count;
      record["failures"] = result.failures.size();
      record["skipped"] = result.skipped;
      std::cerr << "import: " << spec.path.string() << " (" << result.format << ", sha256 "
                << record["sha256"].get<std::string>() << "): " << stored_count << " documents, "
                << result.failures.size() << " failed, " << result.skipped << " skipped\n";
    } catch (const std::exception& e) {
      // The source as a whole is unusable: one failure, the others go on.
      record["error"] = e.what();
      failures.push_back({{"source", spec.path.string()}, {"item", ""}, {"reason", e.what()}});
      std::cerr << "import: " << e.what() << "\n";
      ++items;
      ++items_failed;
    }
    imports.push_back(std::move(record));
  }
  nlohmann::json manifest = {
      {"author", author}, {"imports", imports}, {"documents", documents}, {"failures", failures}};
  write_file_atomically(env.context.output_path("documents"), manifest.dump(2));
  // The sources' sha256 go with the output's artifact version: lineage from any
  // document it lists reaches the very file imported.
  nlohmann::json sources_metadata = nlohmann::json::array();
  for (const auto& r : imports)
    sources_metadata.push_back({{"path", r["path"]},
                                {"sha256", r.value("sha256", "")},
                                {"format", r.value("format", "")}});
  env.report.output_metadata("documents", {{"author", author},
                                           {"documents", documents.size()},
                                           {"failures", failures.size()},
                                           {"imports", sources_metadata}});
  env.report.metrics({{"import_sources", sources.size()},
                      {"documents_new", changes["new"]},
                      {"documents_changed", changes["changed"]},
                      {"documents_unchanged", changes["unchanged"]},
                      {"items_failed", items_failed},
                      {"items_skipped", skipped}});
  const double ratio = items == 0 ? 0.0 : static_cast<double>(items_failed) / items;
  if (ratio > max_failure_ratio) {
    std::cerr << "import: " << items_failed << " of " << items
              << " items failed, more than max_failure_ratio " << max_failure_ratio << "\n";
    return 1;
  }
  return 0;
}

}  // namespace twinflow
