// The clean step: every latest document version not yet cleaned with these
// options becomes a cleaned document. See data_steps.h.
#include <chrono>

#include "store/feature_store.h"
#include "store/store.h"
#include "tasks/steps/data_steps.h"
#include "tasks/text/clean.h"
#include "util/files.h"
#include "util/sha256.h"
#include "util/strings.h"

namespace twinflow {
namespace {

// Documents per page read and per transaction written: memory stays bounded
// and a kill loses at most one page (docs/STEPS.md).
constexpr int kPage = 500;

// Articles read better for retrieval and datasets with their title and
// subtitle on top; a post's "title" is usually its own first words.
std::string text_to_clean(const DocumentRecord& doc, TextKind kind) {
  if (kind != TextKind::kArticle || doc.kind == "repository") return doc.content;
  std::string text = doc.title;
  if (!doc.subtitle.empty()) text += "\n\n" + doc.subtitle;
  return text.empty() ? doc.content : text + "\n\n" + doc.content;
}

}  // namespace

TextKind text_kind_of(const std::string& document_kind, const std::string& url) {
  if (document_kind == "post") return TextKind::kPost;
  if (document_kind != "repository") return TextKind::kArticle;
  for (const char* prose : {".md", ".markdown", ".rst", ".txt"})
    if (url.ends_with(prose)) return TextKind::kArticle;
  return TextKind::kCode;
}

const char* chunk_kind_name(TextKind kind) {
  switch (kind) {
    case TextKind::kArticle:
      return "article";
    case TextKind::kPost:
      return "post";
    case TextKind::kCode:
      return "code";
  }
  return "article";
}

std::string cleaner_fingerprint(const CleanOptions& options) {
  return "clean-v1 keep_urls=" + std::string(options.keep_urls ? "1" : "0") +
         " url_replacement=" + options.url_replacement;
}

int run_clean_step(StepEnvironment& env) {
  StepParams params(env.context.params, "clean");
  const std::string author = params.string_or("author", "");
  CleanOptions options;
  options.keep_urls = params.boolean_or("keep_urls", true);
  options.url_replacement = params.string_or("url_replacement", "[URL]");
  const std::string cleaner = cleaner_fingerprint(options);

  const auto started = std::chrono::steady_clock::now();
  int64_t cleaned = 0, bytes_in = 0, bytes_out = 0;
  std::vector<CleanedDocumentToStore> batch;
  for (int64_t after = 0;;) {
    const std::vector<DocumentRecord> page =
        env.features.documents_to_clean(author, cleaner, after, kPage);
    if (page.empty()) break;
    batch.clear();
    for (const DocumentRecord& doc : page) {
      options.kind = text_kind_of(doc.kind, doc.url);
      const std::string input = text_to_clean(doc, options.kind);
      batch.push_back({doc.id, clean_text(input, options)});
      bytes_in += static_cast<int64_t>(input.size());
      bytes_out += static_cast<int64_t>(batch.back().content.size());
    }
    env.features.insert_cleaned_documents(batch, cleaner, env.step_run_id);
    cleaned += static_cast<int64_t>(page.size());
    after = page.back().id;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  nlohmann::json documents = nlohmann::json::array();
  for (const DocumentRecord& doc : env.features.latest_document_heads(author))
    documents.push_back({{"id", doc.id},
                         {"url", doc.url},
                         {"version", doc.version},
                         {"content_sha256", doc.content_sha256}});
  nlohmann::json manifest = {{"author", author}, {"cleaner", cleaner}, {"documents", documents}};
  write_file_atomically(env.context.output_path("cleaned"), manifest.dump(2));
  env.report.output_metadata("cleaned", {{"documents", documents.size()}, {"cleaner", cleaner}});
  env.report.metrics({{"documents_cleaned", cleaned},
                      {"bytes_in", bytes_in},
                      {"bytes_out", bytes_out},
                      {"documents_total", documents.size()},
                      {"clean_seconds", seconds}});
  return 0;
}

}  // namespace twinflow
