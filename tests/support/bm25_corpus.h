// Corpus: writes documents into a feature store as the steps do (a version,
// its cleaned text, its chunks), for the text search tests.
#pragma once

#include <string>
#include <vector>

#include "store/feature_store.h"
#include "store/store.h"

namespace twinflow {

// Writes documents as the steps do: a version, its cleaned text, its chunks.
class Corpus {
 public:
  explicit Corpus(Store& store) : store_(store) {}

  // Makes `pieces` the current chunks of (author, url), chunked by `chunker`
  // (a new chunker name re-chunks an unchanged document). A changed title or
  // body makes a new document version.
  void put(const std::string& author, const std::string& url, const std::string& title,
           const std::vector<std::string>& pieces, const std::string& chunker = "k1",
           const std::string& platform = "web") {
    DocumentToStore d;
    d.author = author;
    d.platform = platform;
    d.kind = "article";
    d.url = url;
    d.title = title;
    for (const auto& p : pieces) d.content += p + "\n\n";
    store_.features().upsert_document(d);
    for (const auto& doc : store_.features().documents_to_clean(author, "c1"))
      store_.features().insert_cleaned_document(doc.id, "c1", doc.content, 0);
    for (const auto& k : store_.features().documents_to_chunk(author, "c1", chunker)) {
      if (k.url != url) continue;
      std::vector<ChunkToStore> rows;
      for (size_t i = 0; i < pieces.size(); ++i)
        rows.push_back({chunker + url + std::to_string(k.document_version) + "#" +
                            std::to_string(i) + pieces[i],
                        static_cast<int>(i), 0, 1, pieces[i]});
      store_.features().replace_current_chunks(k, chunker, "article", rows, 0);
    }
  }

 private:
  Store& store_;
};

}  // namespace twinflow
