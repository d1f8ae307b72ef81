// Bm25PostingsCache: the decoded postings text searches read, kept for the
// next searches of the same scope while it has not changed.
//
// A text search reads each scored word's postings from its block rows
// (migration 0023) and decodes them. A long-lived searcher (twinflow serve,
// a Retriever kept between queries) asks for the same common words again and
// again: at 100k chunks, reading them was most of a served search. An entry
// is keyed by the search's scope (its filter) and word and stamped with the
// scope's version (migration 0027: the ids and generations of its
// bm25_scopes rows, which change with every write to their postings); an
// entry of another version is a miss and is replaced. At most `max_bytes` of
// postings are held, the least recently used words leaving first; a list
// larger than that is not kept.
//
// Thread-safe: a server's sessions share one. Entries are immutable and
// shared, so a search keeps the lists it found while another evicts them.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/bm25_postings.h"

namespace twinflow {

class Bm25PostingsCache {
 public:
  using Postings = Bm25PostingList;
  static constexpr size_t kDefaultMaxBytes = size_t{256} << 20;

  explicit Bm25PostingsCache(size_t max_bytes = kDefaultMaxBytes) : max_bytes_(max_bytes) {}

  // The postings of `lexeme` in `scope` at `version`; null when not held.
  std::shared_ptr<const Postings> find(const std::string& scope, const std::string& version,
                                       const std::string& lexeme);
  // Keeps `postings` as those of `lexeme` in `scope` at `version`.
  void put(const std::string& scope, const std::string& version, const std::string& lexeme,
           std::shared_ptr<const Postings> postings);

  size_t bytes() const;    // of the postings held
  size_t entries() const;  // words held

 private:
  struct Entry {
    std::string version;
    std::shared_ptr<const Postings> postings;
    std::list<std::string>::iterator used;  // its place in lru_
  };
  static size_t size_of(const Postings& p) {
    return (p.postings.size() + p.peaks.size()) * sizeof(Bm25Posting);
  }
  void erase(std::unordered_map<std::string, Entry>::iterator it);

  const size_t max_bytes_;
  mutable std::mutex mutex_;
  std::list<std::string> lru_;                      // keys, most recently used first
  std::unordered_map<std::string, Entry> entries_;  // key: scope, '\x1e', lexeme
  size_t bytes_ = 0;
};

}  // namespace twinflow
