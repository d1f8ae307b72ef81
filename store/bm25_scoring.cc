// Document-at-a-time BM25F top-k with MaxScore pruning; see bm25_scoring.h.
#include "store/bm25_scoring.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <unordered_map>

namespace twinflow {

double Bm25Scorer::part(double weight, double idf, const Bm25Posting& p) const {
  const double b = params.b, k1 = params.k1;
  const double tf =
      p.body_tf / (1 - b + b * p.body_length / std::max(avg_body, 1e-9)) +
      params.title_weight * p.title_tf / (1 - b + b * p.title_length / std::max(avg_title, 1e-9));
  return tf > 0 ? weight * idf * tf * (k1 + 1) / (k1 + tf) : 0;
}

namespace {

// A list being walked.
struct Cursor {
  const Bm25Posting* at;
  const Bm25Posting* end;
  double bound;  // the largest part of any of its postings
  size_t list;   // its index in the lists given
};

// The first posting at or after `c.at` whose id is at least `id`: galloping,
// as lookups mostly move a short way.
void skip_to(Cursor& c, int64_t id) {
  size_t step = 1;
  const Bm25Posting* low = c.at;
  while (low + step < c.end && low[step].chunk_id < id) {
    low += step;
    step *= 2;
  }
  const Bm25Posting* high = std::min(low + step + 1, c.end);
  c.at = std::lower_bound(low, high, id,
                          [](const Bm25Posting& p, int64_t v) { return p.chunk_id < v; });
}

bool ranks_before(const Bm25Ranked& a, const Bm25Ranked& b) {
  return a.score != b.score ? a.score > b.score : a.id < b.id;
}

}  // namespace

std::vector<Bm25Posting> bm25_peaks(const std::vector<Bm25Posting>& postings) {
  // First, in one pass, the shortest body of each (tfs, title length): a few
  // hundred postings at most, with every peak among them.
  std::unordered_map<uint64_t, Bm25Posting> shortest;
  for (const Bm25Posting& p : postings) {
    const uint64_t key = static_cast<uint64_t>(static_cast<uint16_t>(p.body_tf)) << 48 |
                         static_cast<uint64_t>(static_cast<uint16_t>(p.title_tf)) << 32 |
                         static_cast<uint32_t>(p.title_length);
    const auto [it, added] = shortest.try_emplace(key, p);
    if (!added && p.body_length < it->second.body_length) it->second = p;
  }
  // Then by tfs and lengths: within a group of equal tfs, a posting is kept
  // when its title is shorter than that of every shorter body before it.
  std::vector<Bm25Posting> sorted;
  for (const auto& [key, p] : shortest) sorted.push_back(p);
  const auto order = [](const Bm25Posting& p) {
    return std::tuple(-p.body_tf, -p.title_tf, p.body_length, p.title_length, p.chunk_id);
  };
  std::sort(sorted.begin(), sorted.end(),
            [&](const Bm25Posting& a, const Bm25Posting& b) { return order(a) < order(b); });
  std::vector<Bm25Posting> peaks;
  for (size_t i = 0; i < sorted.size();) {
    size_t end = i;
    int shortest_title = std::numeric_limits<int>::max();
    for (; end < sorted.size() && sorted[end].body_tf == sorted[i].body_tf &&
           sorted[end].title_tf == sorted[i].title_tf;
         ++end) {
      if (sorted[end].title_length < shortest_title) {
        shortest_title = sorted[end].title_length;
        peaks.push_back(sorted[end]);
      }
    }
    i = end;
  }
  return peaks;
}

std::vector<Bm25Ranked> bm25_top_k(const std::vector<Bm25List>& lists, const Bm25Scorer& scorer,
                                   size_t k) {
  std::vector<Bm25Ranked> best;  // a heap, the worst held on top
  if (k == 0) return best;
  std::vector<Cursor> cursors;
  for (size_t i = 0; i < lists.size(); ++i) {
    const std::vector<Bm25Posting>& postings = lists[i].list->postings;
    if (postings.empty()) continue;
    double bound = 0;
    for (const Bm25Posting& p : lists[i].list->peaks)
      bound = std::max(bound, scorer.part(lists[i].weight, lists[i].idf, p));
    cursors.push_back({postings.data(), postings.data() + postings.size(), bound, i});
  }
  // Smallest bound first: below[i] bounds a chunk's parts from lists 0..i.
  std::stable_sort(cursors.begin(), cursors.end(),
                   [](const Cursor& a, const Cursor& b) { return a.bound < b.bound; });
  std::vector<double> below(cursors.size());
  double sum = 0;
  for (size_t i = 0; i < cursors.size(); ++i) below[i] = sum += cursors[i].bound;

  // Candidates come in ascending id, so once k are held a new one enters only
  // with a score above the k-th. `floor` is that score less a margin for the
  // rounding of bounds summed in another order than the scores.
  double floor = -std::numeric_limits<double>::infinity();
  size_t first_essential = 0;  // lists before it are only looked up
  std::vector<double> parts(lists.size());
  while (true) {
    int64_t id = std::numeric_limits<int64_t>::max();
    for (size_t i = first_essential; i < cursors.size(); ++i)
      if (cursors[i].at != cursors[i].end) id = std::min(id, cursors[i].at->chunk_id);
    if (id == std::numeric_limits<int64_t>::max()) break;
    std::fill(parts.begin(), parts.end(), -1.0);
    double bound = 0;  // of this chunk's score
    for (size_t i = first_essential; i < cursors.size(); ++i) {
      Cursor& c = cursors[i];
      if (c.at != c.end && c.at->chunk_id == id) {
        const Bm25List& list = lists[c.list];
        bound += parts[c.list] = scorer.part(list.weight, list.idf, *c.at);
        ++c.at;
      }
    }
    bool pruned = false;
    for (size_t i = first_essential; i-- > 0;) {
      if (bound + below[i] < floor) {
        pruned = true;
        break;
      }
      Cursor& c = cursors[i];
      skip_to(c, id);
      if (c.at != c.end && c.at->chunk_id == id) {
        const Bm25List& list = lists[c.list];
        bound += parts[c.list] = scorer.part(list.weight, list.idf, *c.at);
        ++c.at;
      }
    }
    if (pruned) continue;
    double score = 0;
    for (const double part : parts)
      if (part >= 0) score += part;
    if (best.size() == k) {
      if (!(score > best.front().score)) continue;
      std::pop_heap(best.begin(), best.end(), ranks_before);
      best.back().id = id;
      best.back().score = score;
      best.back().parts = parts;
    } else {
      best.push_back({id, score, parts});
    }
    std::push_heap(best.begin(), best.end(), ranks_before);
    if (best.size() == k) {
      const double kth = best.front().score;
      floor = kth - 1e-9 * std::abs(kth);
      while (first_essential < cursors.size() && below[first_essential] < floor) ++first_essential;
    }
  }
  std::sort_heap(best.begin(), best.end(), ranks_before);
  return best;
}

}  // namespace twinflow
