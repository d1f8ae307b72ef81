// The best k chunks by Okapi BM25F over decoded postings lists: pure, no
// database (FeatureStore::bm25_search reads the lists, this ranks them).
//
// Document at a time with MaxScore pruning (Turtle & Flood 1995): the lists
// are walked together in chunk id order. Each list has an upper bound, the
// largest part of a score any of its postings gives. Once k chunks are held,
// the lists whose bounds together cannot beat the k-th score are no longer
// walked for candidates; they are only looked up (by binary search) for a
// candidate another list gave, and not even that once the candidate's bound
// falls below the k-th score. A query's common words, with long lists and
// small bounds, are mostly skipped. The result is exactly the exhaustive
// ranking's: same chunks, same scores to the last bit (each chunk's parts are
// summed in the lists' order), ties by ascending id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "store/bm25_postings.h"
#include "store/search_records.h"

namespace twinflow {

// One posting's part of a chunk's score (search_records.h has the formula),
// in the order of operations the SQL of migration 0016 used.
struct Bm25Scorer {
  Bm25Params params;
  double avg_body = 0, avg_title = 0;

  double part(double weight, double idf, const Bm25Posting& p) const;
};

// The postings of `postings` that no other one beats on every count (higher
// or equal tfs, shorter or equal lengths), duplicates once. A part grows
// with the tfs and shrinks with the lengths for any parameters, so the
// largest part of any posting is one of theirs: a word's bound without a
// pass over all its postings, typically a few hundred of tens of thousands.
std::vector<Bm25Posting> bm25_peaks(const std::vector<Bm25Posting>& postings);

// A query word's postings (ascending chunk id, no id twice) and their peaks,
// with its weight w(t) and idf.
struct Bm25List {
  const Bm25PostingList* list = nullptr;
  double weight = 0, idf = 0;
};

struct Bm25Ranked {
  int64_t id = 0;
  double score = 0;
  // Per list (in the order given): its part of the score, or -1 when the
  // chunk is not in that list.
  std::vector<double> parts;
};

// The min(k, chunks in any list) best chunks, best first, equal scores by
// ascending id. Each chunk's score is the sum of its parts in list order.
std::vector<Bm25Ranked> bm25_top_k(const std::vector<Bm25List>& lists, const Bm25Scorer& scorer,
                                   size_t k);

}  // namespace twinflow
