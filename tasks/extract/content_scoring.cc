// Content selection after Readability, on HtmlTree's flat arrays; the steps
// are described in content_scoring.h.
#include "tasks/extract/content_scoring.h"

#include <algorithm>
#include <string_view>

#include "tasks/extract/boilerplate.h"
#include "util/strings.h"

namespace twinflow {

namespace {

// A furniture-looking element is kept when it holds this share of the page's
// text: it is then a wrapper of everything, whatever its class says.
constexpr double kWrapperTextShare = 0.6;
// ... and at least this much text: a page whose only text is a menu ("Home")
// has no article, not a menu that wraps one.
constexpr double kMinWrapperChars = 140;
constexpr double kMinParagraphChars = 25;
constexpr int kScoredAncestorLevels = 5;
constexpr size_t kTopCandidates = 5;
constexpr int kMinRivalsForCommonAncestor = 3;

// Length of text with whitespace runs counted as one character.
double collapsed_length(std::string_view s) {
  double n = 0;
  bool in_space = true;
  for (char c : s) {
    if (is_html_space(c)) {
      if (!in_space) ++n;
      in_space = true;
    } else {
      n += !is_utf8_continuation(c);  // count code points
      in_space = false;
    }
  }
  return n;
}

// Commas, including the CJK ones (U+FF0C, U+3001).
int count_commas(std::string_view s) {
  int n = 0;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == ',') {
      ++n;
    } else if (s[k] == '\xEF' && s.substr(k, 3) == "\xEF\xBC\x8C") {
      ++n;
    } else if (s[k] == '\xE3' && s.substr(k, 3) == "\xE3\x80\x81") {
      ++n;
    }
  }
  return n;
}

bool is_root_like(GumboTag tag) {
  return tag == GUMBO_TAG_BODY || tag == GUMBO_TAG_HTML;
}

// Step 1 of content_scoring.h.
std::vector<uint8_t> set_aside_furniture(const HtmlTree& tree, const ExtractionPass& pass) {
  const int n = tree.size();
  std::vector<double> text(n, 0);
  std::vector<uint8_t> holds_marker(n, 0);
  for (int i = n - 1; i >= 0; --i) {
    if (tree.is_text(i)) {
      text[i] = collapsed_length(tree.text(i));
    } else if (is_dead_tag(tree.tag(i))) {
      continue;
    } else if (is_content_marker(tree, i) && !has_furniture_name(tree, i)) {
      holds_marker[i] = 1;
    }
    if (const int p = tree.parent(i); p >= 0) {
      text[p] += text[i];
      holds_marker[p] |= holds_marker[i];
    }
  }
  const double total = text[HtmlTree::kRoot];
  std::vector<uint8_t> removed(n, 0);
  int i = 0;
  while (i < n) {
    if (tree.is_text(i)) {
      ++i;
      continue;
    }
    const GumboTag tag = tree.tag(i);
    bool remove = is_dead_tag(tag) || (!is_root_like(tag) && is_hidden(tree, i));
    if (!remove && pass.strip_unlikely) {
      const bool furniture =
          is_furniture_tag(tag) || has_furniture_role(tree, i) || is_unlikely_candidate(tree, i);
      const bool holds_content =
          holds_marker[i] || (text[i] >= kWrapperTextShare * total && text[i] >= kMinWrapperChars);
      remove = furniture && !holds_content;
    }
    if (remove) {
      removed[i] = 1;
      i = tree.end(i);
    } else {
      ++i;
    }
  }
  return removed;
}

// Sums over each subtree, counting only what is not removed.
struct SubtreeStats {
  explicit SubtreeStats(int n)
      : text(n, 0),
        links(n, 0),
        headings(n, 0),
        lists(n, 0),
        commas(n, 0),
        paragraphs(n, 0),
        images(n, 0),
        list_items(n, 0),
        has_code(n, 0) {}
  std::vector<double> text;      // characters
  std::vector<double> links;     // characters inside <a>; in-page links weigh 0.3
  std::vector<double> headings;  // characters inside <h1>..<h6>
  std::vector<double> lists;     // characters inside <ul>/<ol>
  std::vector<int> commas, paragraphs, images, list_items;
  std::vector<uint8_t> has_code;

  double link_density(int i) const { return text[i] > 0 ? links[i] / text[i] : 0; }
};

SubtreeStats compute_stats(const HtmlTree& tree, const std::vector<uint8_t>& removed) {
  const int n = tree.size();
  SubtreeStats s(n);
  for (int i = n - 1; i >= 0; --i) {
    if (tree.is_text(i)) {
      s.text[i] = collapsed_length(tree.text(i));
      s.commas[i] = count_commas(tree.text(i));
    } else {
      switch (tree.tag(i)) {
        case GUMBO_TAG_A: {
          const bool in_page = tree.attr_or_empty(i, "href").substr(0, 1) == "#";
          s.links[i] = s.text[i] * (in_page ? 0.3 : 1.0);
          break;
        }
        case GUMBO_TAG_P:
          ++s.paragraphs[i];
          break;
        case GUMBO_TAG_IMG:
          ++s.images[i];
          break;
        case GUMBO_TAG_LI:
          ++s.list_items[i];
          break;
        case GUMBO_TAG_UL:
        case GUMBO_TAG_OL:
          s.lists[i] = s.text[i];
          break;
        case GUMBO_TAG_PRE:
        case GUMBO_TAG_CODE:
          s.has_code[i] = 1;
          break;
        case GUMBO_TAG_H1:
        case GUMBO_TAG_H2:
        case GUMBO_TAG_H3:
        case GUMBO_TAG_H4:
        case GUMBO_TAG_H5:
        case GUMBO_TAG_H6:
          s.headings[i] = s.text[i];
          break;
        default:
          break;
      }
    }
    const int p = tree.parent(i);
    if (p < 0 || removed[i]) continue;
    s.text[p] += s.text[i];
    s.links[p] += s.links[i];
    s.headings[p] += s.headings[i];
    s.lists[p] += s.lists[i];
    s.commas[p] += s.commas[i];
    s.paragraphs[p] += s.paragraphs[i];
    s.images[p] += s.images[i];
    s.list_items[p] += s.list_items[i];
    s.has_code[p] |= s.has_code[i];
  }
  return s;
}

// Elements whose directly held text counts as a paragraph for scoring.
bool is_scored_block(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_P:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_TD:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_DD:
      return true;
    default:
      return false;
  }
}

double tag_score(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_DIV:
      return 5;
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_TD:
    case GUMBO_TAG_BLOCKQUOTE:
      return 3;
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_FORM:
      return -3;
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
    case GUMBO_TAG_TH:
      return -5;
    default:
      return 0;
  }
}

// Candidate scores (step 2); 0 and not a candidate where absent.
class Scores {
 public:
  Scores(const HtmlTree& tree, const ExtractionPass& pass)
      : tree_(tree), pass_(pass), score_(tree.size(), 0), candidate_(tree.size(), 0) {}

  bool is_candidate(int i) const { return candidate_[i]; }
  double score(int i) const { return candidate_[i] ? score_[i] : 0; }

  void add(int i, double points) {
    init(i);
    score_[i] += points;
  }
  void init(int i) {
    if (candidate_[i]) return;
    candidate_[i] = 1;
    score_[i] = tag_score(tree_.tag(i)) + (pass_.weight_classes ? class_weight(tree_, i) : 0);
  }
  void scale_by_links(const SubtreeStats& stats) {
    for (int i = 0; i < tree_.size(); ++i) {
      if (candidate_[i]) score_[i] *= 1 - stats.link_density(i);
    }
  }
  std::vector<int> candidates() const {
    std::vector<int> out;
    for (int i = 0; i < tree_.size(); ++i) {
      if (candidate_[i]) out.push_back(i);
    }
    return out;
  }

 private:
  const HtmlTree& tree_;
  const ExtractionPass& pass_;
  std::vector<double> score_;
  std::vector<uint8_t> candidate_;
};

// The text each block element holds directly (not through a nested block).
struct OwnText {
  std::vector<double> length;
  std::vector<int> commas;
};

OwnText own_text(const HtmlTree& tree, const std::vector<uint8_t>& removed) {
  const int n = tree.size();
  OwnText own{std::vector<double>(n, 0), std::vector<int>(n, 0)};
  std::vector<int> block_of(n, 0);
  int i = 0;
  while (i < n) {
    if (removed[i]) {
      i = tree.end(i);
      continue;
    }
    const int p = tree.parent(i);
    if (tree.is_element(i) && (p < 0 || !is_inline_tag(tree.tag(i)))) {
      block_of[i] = i;
    } else {
      block_of[i] = block_of[p];
      if (tree.is_text(i)) {
        own.length[block_of[i]] += collapsed_length(tree.text(i));
        own.commas[block_of[i]] += count_commas(tree.text(i));
      }
    }
    ++i;
  }
  return own;
}

Scores score_candidates(const HtmlTree& tree, const ExtractionPass& pass,
                        const std::vector<uint8_t>& removed, const SubtreeStats& stats) {
  Scores scores(tree, pass);
  const OwnText own = own_text(tree, removed);
  int i = 0;
  while (i < tree.size()) {
    if (removed[i]) {
      i = tree.end(i);
      continue;
    }
    if (tree.is_element(i) && is_scored_block(tree.tag(i)) && own.length[i] >= kMinParagraphChars) {
      const double points = 1 + own.commas[i] + std::min(static_cast<int>(own.length[i] / 100), 3);
      int a = tree.parent(i);
      for (int level = 0; level < kScoredAncestorLevels && a > 0; ++level) {
        const double divider = level == 0 ? 1 : level == 1 ? 2 : level * 3;
        scores.add(a, points / divider);
        a = tree.parent(a);
      }
    }
    ++i;
  }
  scores.scale_by_links(stats);
  return scores;
}

int element_children(const HtmlTree& tree, int i, const std::vector<uint8_t>& removed) {
  int n = 0;
  for (int c = i + 1; c < tree.end(i); c = tree.end(c)) {
    if (tree.is_element(c) && !removed[c]) ++n;
  }
  return n;
}

// Step 3: from the best-scoring candidate to the content's top element.
int choose_top(const HtmlTree& tree, Scores& scores, const std::vector<uint8_t>& removed) {
  std::vector<int> ranked = scores.candidates();
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&](int a, int b) { return scores.score(a) > scores.score(b); });
  if (ranked.empty() || is_root_like(tree.tag(ranked[0]))) return -1;
  int top = ranked[0];
  // Near-equal rivals under one ancestor mean the content is split in parts.
  std::vector<int> rivals;
  for (size_t k = 1; k < std::min(ranked.size(), kTopCandidates); ++k) {
    if (scores.score(ranked[k]) >= 0.75 * scores.score(top)) rivals.push_back(ranked[k]);
  }
  if (static_cast<int>(rivals.size()) >= kMinRivalsForCommonAncestor) {
    for (int a = tree.parent(top); a >= 0 && !is_root_like(tree.tag(a)); a = tree.parent(a)) {
      int inside = 0;
      for (int r : rivals) inside += tree.contains(a, r);
      if (inside >= kMinRivalsForCommonAncestor) {
        top = a;
        break;
      }
    }
  }
  scores.init(top);
  // A parent that scores better than its child holds more of the content.
  double last = scores.score(top);
  const double floor = last / 3;
  for (int a = tree.parent(top); a >= 0 && !is_root_like(tree.tag(a)); a = tree.parent(a)) {
    if (!scores.is_candidate(a)) continue;
    if (scores.score(a) < floor) break;
    if (scores.score(a) > last) {
      top = a;
      break;
    }
    last = scores.score(a);
  }
  // Wrappers with a single child add nothing but may hold siblings' context.
  for (int a = tree.parent(top);
       a >= 0 && !is_root_like(tree.tag(a)) && element_children(tree, a, removed) == 1;
       a = tree.parent(a)) {
    top = a;
  }
  scores.init(top);
  return top;
}

bool has_sentence_end(const std::string& text) {
  return text.find(". ") != std::string::npos || (!text.empty() && text.back() == '.');
}

// Step 3, last part: siblings of the top element that belong to the content.
std::vector<int> with_siblings(const HtmlTree& tree, int top, const Scores& scores,
                               const SubtreeStats& stats, const std::vector<uint8_t>& removed) {
  const int parent = tree.parent(top);
  if (parent < 0) return {top};
  const double top_score = scores.score(top);
  const double threshold = std::max(10.0, top_score * 0.2);
  const std::string_view top_class = tree.attr_or_empty(top, "class");
  std::vector<int> roots;
  for (int c = parent + 1; c < tree.end(parent); c = tree.end(c)) {
    if (removed[c] || tree.is_text(c)) continue;
    bool include = c == top;
    if (!include && scores.is_candidate(c)) {
      const double bonus =
          !top_class.empty() && tree.attr_or_empty(c, "class") == top_class ? top_score * 0.2 : 0;
      include = scores.score(c) + bonus >= threshold;
    }
    if (!include && tree.tag(c) == GUMBO_TAG_P) {
      const double length = stats.text[c];
      const double density = stats.link_density(c);
      if (length > 80) {
        include = density < 0.25;
      } else if (length > 0 && density == 0) {
        include = has_sentence_end(tree.collapsed_text(c, 4096));
      }
    }
    if (include) roots.push_back(c);
  }
  return roots;
}

bool has_ancestor(const HtmlTree& tree, int i, GumboTag tag) {
  for (int a = tree.parent(i); a >= 0; a = tree.parent(a)) {
    if (tree.tag(a) == tag) return true;
  }
  return false;
}

bool is_cleaned_container(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_NAV:
      return true;
    default:
      return false;
  }
}

// Readability's _cleanConditionally for one container.
bool fails_conditions(const HtmlTree& tree, int i, const ExtractionPass& pass, const Scores& scores,
                      const SubtreeStats& s) {
  // A negative class weight that the content score cannot make up for.
  // (Scores alone go negative for any list, from the tag's base score.)
  const int weight = pass.weight_classes ? class_weight(tree, i) : 0;
  if (weight < 0 && weight + scores.score(i) < 0) return true;
  if (s.commas[i] >= 10) return false;
  const GumboTag tag = tree.tag(i);
  const double length = s.text[i];
  const bool is_list =
      tag == GUMBO_TAG_UL || tag == GUMBO_TAG_OL || (length > 0 && s.lists[i] / length > 0.9);
  const int p = s.paragraphs[i];
  const int img = s.images[i];
  const int li = s.list_items[i] - 100;  // long lists are content as often as not
  const double density = s.link_density(i);
  const double heading_density = length > 0 ? s.headings[i] / length : 0;
  return (img > 1 && static_cast<double>(p) / img < 0.5 &&
          !has_ancestor(tree, i, GUMBO_TAG_FIGURE)) ||
         (!is_list && li > p) ||
         (!is_list && heading_density < 0.9 && length < 25 && (img == 0 || img > 2) &&
          density > 0) ||
         (!is_list && weight < 25 && density > 0.2) || (weight >= 25 && density > 0.5);
}

// Step 4.
void clean_conditionally(const HtmlTree& tree, const std::vector<int>& roots,
                         const ExtractionPass& pass, const Scores& scores,
                         const SubtreeStats& stats, std::vector<uint8_t>& removed) {
  for (int root : roots) {
    int i = root + 1;
    while (i < tree.end(root)) {
      if (removed[i]) {
        i = tree.end(i);
        continue;
      }
      const GumboTag tag = tree.tag(i);
      const bool headline_furniture = tag >= GUMBO_TAG_H1 && tag <= GUMBO_TAG_H2 &&
                                      pass.weight_classes && class_weight(tree, i) < 0;
      if (tree.is_element(i) && !stats.has_code[i] &&
          (headline_furniture ||
           (is_cleaned_container(tag) && fails_conditions(tree, i, pass, scores, stats)))) {
        removed[i] = 1;
        i = tree.end(i);
        continue;
      }
      ++i;
    }
  }
}

}  // namespace

ContentSelection select_content(const HtmlTree& tree, const ExtractionPass& pass, int forced_root) {
  ContentSelection selection;
  selection.removed = set_aside_furniture(tree, pass);
  if (forced_root >= 0) selection.removed[forced_root] = 0;
  const SubtreeStats stats = compute_stats(tree, selection.removed);
  Scores scores = score_candidates(tree, pass, selection.removed, stats);
  if (forced_root >= 0) {
    selection.roots = {forced_root};
  } else {
    const int top = choose_top(tree, scores, selection.removed);
    if (top >= 0) {
      selection.roots = with_siblings(tree, top, scores, stats, selection.removed);
    } else if (tree.body() >= 0) {
      selection.roots = {tree.body()};
    } else {
      selection.roots = {HtmlTree::kRoot};
    }
  }
  if (pass.clean_conditionally) {
    clean_conditionally(tree, selection.roots, pass, scores, stats, selection.removed);
  }
  return selection;
}

}  // namespace twinflow
