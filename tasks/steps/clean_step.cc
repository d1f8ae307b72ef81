// The clean step: every latest document version not yet cleaned with these
// options becomes a cleaned document. See data_steps.h.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "store/feature_store.h"
#include "store/store.h"
#include "tasks/steps/batch_pipeline.h"
#include "tasks/steps/data_steps.h"
#include "tasks/text/clean.h"
#include "util/duration.h"
#include "util/error.h"

namespace twinflow {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

struct CleanBatch {
  std::vector<CleanedDocumentToStore> documents;
  int64_t bytes_in = 0, bytes_out = 0;
};

// Writes the manifest, a document at a time (a corpus of 100k documents lists
// 100k entries), to a temporary file renamed into place. Returns how many
// documents it lists.
int64_t write_manifest(StepEnvironment& env, const std::string& author,
                       const std::string& cleaner) {
  const fs::path path = env.context.output_path("cleaned");
  fs::path temp = path;
  temp += ".tmp";
  std::ofstream out(temp, std::ios::binary | std::ios::trunc);
  if (!out) throw Error("clean step: cannot write " + temp.string());
  out << "{\n  \"author\": " << nlohmann::json(author).dump()
      << ",\n  \"cleaner\": " << nlohmann::json(cleaner).dump() << ",\n  \"documents\": [";
  int64_t count = 0;
  env.features.for_each_latest_document_head(author, [&](const DocumentRecord& doc) {
    out << (count++ ? ",\n    " : "\n    ")
        << nlohmann::json{{"id", doc.id},
                          {"url", doc.url},
                          {"version", doc.version},
                          {"content_sha256", doc.content_sha256}}
               .dump();
  });
  out << (count ? "\n  ]\n}\n" : "]\n}\n");
  out.close();
  if (!out) throw Error("clean step: cannot write " + temp.string());
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) throw Error("clean step: cannot write " + path.string() + ": " + ec.message());
  return count;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

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
    if (ends_with(url, prose)) return TextKind::kArticle;
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

  const auto started = Clock::now();
  int64_t cleaned = 0, bytes_in = 0, bytes_out = 0;
  double read_seconds = 0, work_seconds = 0, write_seconds = 0;
  // Pages are read and cleaned on the pipeline's thread, over a connection of
  // its own, while the page before is written here.
  Store reader_connection(env.context.database_url);
  FeatureStore reader(reader_connection);
  // At most this many documents per page and transaction (pages also stop
  // at about 4 MB of text).
  const int max_page = static_cast<int>(params.integer_or("batch_documents", 2000, 1, 100000));
  PageSize page_size = PageSize::of_documents(max_page);
  int64_t after = 0;
  BatchPipeline<CleanBatch>::run(
      [&](CleanBatch& batch) {
        auto t = Clock::now();
        std::vector<DocumentRecord> page =
            reader.documents_to_clean(author, cleaner, after, page_size.next());
        read_seconds += seconds_since(t);
        if (page.empty()) return false;
        after = page.back().id;
        t = Clock::now();
        CleanOptions doc_options = options;
        for (DocumentRecord& doc : page) {
          doc_options.kind = text_kind_of(doc.kind, doc.url);
          const std::string input = text_to_clean(doc, doc_options.kind);
          batch.documents.push_back({doc.id, clean_text(input, doc_options)});
          batch.bytes_in += static_cast<int64_t>(input.size());
          batch.bytes_out += static_cast<int64_t>(batch.documents.back().content.size());
        }
        page_size.saw(page.size(), batch.bytes_in);
        work_seconds += seconds_since(t);
        return true;
      },
      [&](CleanBatch& batch) {
        const auto t = Clock::now();
        env.features.insert_cleaned_documents(batch.documents, cleaner, env.step_run_id);
        write_seconds += seconds_since(t);
        cleaned += static_cast<int64_t>(batch.documents.size());
        bytes_in += batch.bytes_in;
        bytes_out += batch.bytes_out;
      });
  const double seconds = seconds_since(started);

  const int64_t total = write_manifest(env, author, cleaner);
  env.report.output_metadata("cleaned", {{"documents", total}, {"cleaner", cleaner}});
  env.report.metrics({{"documents_cleaned", cleaned},
                      {"bytes_in", bytes_in},
                      {"bytes_out", bytes_out},
                      {"documents_total", total},
                      {"clean_seconds", seconds},
                      {"read_seconds", read_seconds},
                      {"work_seconds", work_seconds},
                      {"write_seconds", write_seconds}});
  return 0;
}

}  // namespace twinflow
