// See builtin_generator.h.
#include "tasks/dataset/builtin_generator.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>
#include <utility>

#include "tasks/text/clean.h"
#include "tasks/text/utf8.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/strings.h"

namespace twinflow {
namespace {

// ---------------------------------------------------------------------------
// Small string helpers.

// "The problem" → "the problem", but "RAG systems" stays as it is.
std::string lower_first(const std::string& s) {
  if (s.size() >= 2 && is_ascii_upper(s[0]) && is_ascii_lower(s[1]))
    return static_cast<char>(s[0] - 'A' + 'a') + s.substr(1);
  return s;
}

// Splits on blank lines; pieces are trimmed, empty ones dropped.
std::vector<std::string> split_paragraphs(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find("\n\n", start);
    if (end == std::string_view::npos) end = text.size();
    std::string piece = trim_copy(text.substr(start, end - start));
    if (!piece.empty()) out.push_back(std::move(piece));
    start = end + 2;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

// Sentences end at . ! ? (optionally closed by a quote or bracket) followed
// by whitespace and something that can open a sentence, or at a line break.
std::vector<std::string> split_sentences(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  auto flush = [&](size_t end) {
    std::string s = trim_copy(text.substr(start, end - start));
    if (!s.empty()) out.push_back(std::move(s));
    start = end;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      flush(i + 1);
      continue;
    }
    if (text[i] != '.' && text[i] != '!' && text[i] != '?') continue;
    size_t j = i + 1;
    while (j < text.size() && (text[j] == '"' || text[j] == '\'' || text[j] == ')')) ++j;
    if (j >= text.size() || text[j] != ' ') continue;
    size_t k = j;
    while (k < text.size() && text[k] == ' ') ++k;
    if (k < text.size() &&
        (is_ascii_upper(text[k]) || std::isdigit(static_cast<unsigned char>(text[k])) ||
         text[k] == '"' || text[k] == '(' || static_cast<unsigned char>(text[k]) >= 0x80))
      flush(j);
  }
  flush(text.size());
  return out;
}

// The byte length of the longest prefix of `s` with at most `chars` code
// points.
size_t prefix_bytes(std::string_view s, size_t chars) {
  size_t bytes = 0;
  for (size_t n = 0; bytes < s.size() && n < chars; ++n) {
    ++bytes;
    while (bytes < s.size() && is_utf8_continuation(s[bytes])) ++bytes;
  }
  return bytes;
}

// Cuts one over-long paragraph to at most `max_chars` code points: after the
// last whole sentence that fits, else after the last whole word.
std::string cut_paragraph(const std::string& paragraph, size_t max_chars) {
  std::string out;
  for (const std::string& sentence : split_sentences(paragraph)) {
    std::string next = out.empty() ? sentence : out + " " + sentence;
    if (utf8_length(next) > max_chars) break;
    out = std::move(next);
  }
  if (!out.empty()) return out;
  std::string_view head(paragraph.data(), prefix_bytes(paragraph, max_chars));
  size_t space = head.rfind(' ');
  if (space != std::string_view::npos && space > 0) head = head.substr(0, space);
  return trim_copy(head);
}

// Whole paragraphs, in order, while they fit in `max_chars` code points.
std::string take_paragraphs(const std::vector<std::string>& paragraphs, size_t max_chars) {
  std::string out;
  for (const std::string& p : paragraphs) {
    std::string next = out.empty() ? p : out + "\n\n" + p;
    if (utf8_length(next) > max_chars) {
      if (out.empty()) out = cut_paragraph(p, max_chars);
      break;
    }
    out = std::move(next);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Seeded choices.

// splitmix64: tiny, and its output is the same on every platform.
class SeededChoice {
 public:
  explicit SeededChoice(uint64_t seed) : state_(seed) {}

  uint64_t next() { return mix64(state_ += 0x9E3779B97F4A7C15ULL); }

  // An index in [0, n); n > 0.
  size_t pick(size_t n) { return static_cast<size_t>(next() % n); }

 private:
  uint64_t state_;
};

uint64_t document_salt(const DatasetSource& source) {
  uint64_t h = fnv1a(source.url);
  h = fnv1a(source.title, h ^ 0xFF);
  return h ^ (static_cast<uint64_t>(source.document_id) * 0x9E3779B97F4A7C15ULL);
}

// ---------------------------------------------------------------------------
// The outline of an article: its opening paragraphs and its sections.

struct Section {
  std::string heading;
  std::vector<std::string> paragraphs;  // prose only
};

struct Outline {
  std::string title;              // the article's own title, cleaned
  std::vector<std::string> lead;  // prose before the first heading
  std::vector<Section> sections;  // in order; may be empty
};

// What the blocks say about the cleaned paragraphs: which are headings and
// which are code. Block text is cleaned the same way as the content, so it
// compares equal to the paragraph it became.
struct BlockHints {
  std::set<std::string> headings;
  std::set<std::string> code;
  bool known = false;  // the source had usable blocks
};

BlockHints block_hints(const nlohmann::json& blocks) {
  BlockHints hints;
  if (!blocks.is_array()) return hints;
  CleanOptions clean;
  for (const nlohmann::json& b : blocks) {
    if (!b.is_object() || !b.contains("kind") || !b.contains("text")) continue;
    if (!b["kind"].is_string() || !b["text"].is_string()) continue;
    const std::string kind = b["kind"].get<std::string>();
    const std::string text = clean_text(b["text"].get<std::string>(), clean);
    hints.known = true;
    if (kind == "heading") hints.headings.insert(text);
    if (kind == "code")
      for (std::string& piece : split_paragraphs(text)) hints.code.insert(std::move(piece));
  }
  return hints;
}

// "## Heading" → "Heading" with its level; level 0 when not a heading line.
std::pair<int, std::string> markdown_heading(const std::string& paragraph) {
  if (paragraph.find('\n') != std::string::npos) return {0, ""};
  size_t level = 0;
  while (level < paragraph.size() && paragraph[level] == '#') ++level;
  if (level == 0 || level > 6 || level >= paragraph.size() || paragraph[level] != ' ')
    return {0, ""};
  return {static_cast<int>(level), trim_copy(std::string_view(paragraph).substr(level))};
}

// A paragraph that reads as prose: not a code fence, not a figure marker, and
// mostly words.
bool looks_like_prose(const std::string& p) {
  if (p.starts_with("```") || p.starts_with("!figure") || p.starts_with("    ")) return false;
  size_t symbols = 0;
  for (char c : p)
    if (c == '{' || c == '}' || c == '=' || c == ';' || c == '(' || c == '_') ++symbols;
  return symbols * 20 < p.size();
}

// Builds the outline from cleaned content. Paragraphs inside Markdown code
// fences, code blocks and non-prose paragraphs are left out.
Outline outline_of(const DatasetSource& source) {
  Outline outline;
  const BlockHints hints = block_hints(source.blocks);
  const std::string clean_title = clean_text(source.title, CleanOptions{});
  bool in_fence = false;
  bool first = true;
  for (const std::string& p : split_paragraphs(source.content)) {
    const bool was_first = std::exchange(first, false);
    if (p.starts_with("```")) {
      // A fence that opens and closes in one paragraph leaves the state alone.
      size_t fences = 0;
      for (size_t at = p.find("```"); at != std::string::npos; at = p.find("```", at + 3)) ++fences;
      if (fences % 2 == 1) in_fence = !in_fence;
      continue;
    }
    if (in_fence) {
      if (p.ends_with("```")) in_fence = false;
      continue;
    }
    if (was_first && p == clean_title) {
      outline.title = p;
      continue;
    }
    std::string heading;
    if (hints.known) {
      if (hints.code.count(p)) continue;
      if (hints.headings.count(p)) heading = p;
    } else {
      auto [level, text] = markdown_heading(p);
      if (level == 1 && outline.title.empty() && outline.lead.empty() && outline.sections.empty()) {
        outline.title = text;
        continue;
      }
      heading = text;
    }
    if (!heading.empty()) {
      outline.sections.push_back({heading, {}});
    } else if (looks_like_prose(p)) {
      (outline.sections.empty() ? outline.lead : outline.sections.back().paragraphs).push_back(p);
    }
  }
  if (outline.title.empty()) outline.title = clean_title;
  return outline;
}

// ---------------------------------------------------------------------------
// Instructions.

bool starts_with_word(const std::string& s, std::initializer_list<const char*> words) {
  const std::string lower = to_lower(s);
  for (const char* w : words)
    if (lower.starts_with(std::string(w) + " ")) return true;
  return false;
}

// A question a reader would ask that the section answers.
std::string question_from_heading(const std::string& heading) {
  std::string h = heading;
  while (!h.empty() && (h.back() == '.' || h.back() == ':')) h.pop_back();
  if (h.ends_with("?")) return h;
  if (starts_with_word(h, {"what", "why", "how", "when", "where", "which", "who", "is", "are", "do",
                           "does", "can", "should"}))
    return h + "?";
  const std::string first_word = h.substr(0, h.find(' '));
  if (first_word.size() > 4 && first_word.ends_with("ing"))
    return "How should you go about " + lower_first(h) + "?";
  if (starts_with_word(h, {"the", "a", "an"}))
    return "What should an engineer know about " + lower_first(h) + "?";
  return "What do you mean by \"" + h + "\"?";
}

std::string section_instruction(const std::string& heading, const std::string& title,
                                const std::string& author, size_t which) {
  switch (which % 3) {
    case 0:
      return question_from_heading(heading);
    case 1:
      return "Explain \"" + heading + "\" as " + author + " would.";
    default:
      return "Write the section \"" + heading + "\" of an article titled \"" + title + "\".";
  }
}

std::string title_instruction(const std::string& title, size_t which) {
  if (which % 2 == 0) return "Write an article titled \"" + title + "\".";
  return "Write the opening of a blog post called \"" + title + "\".";
}

// "#DataEngineering" → "Data Engineering"; "#MLOps" → "MLOps".
std::string hashtag_words(std::string_view tag) {
  std::string out;
  for (size_t i = 0; i < tag.size(); ++i) {
    if (i > 0 && is_ascii_upper(tag[i]) && is_ascii_lower(tag[i - 1])) out += ' ';
    out += tag[i];
  }
  return out;
}

// The hashtags of a post as a topic: "data engineering, data quality and
// MLOps"; "" when the post has none.
std::string hashtag_topic(const std::string& text) {
  std::vector<std::string> topics;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '#' || (i > 0 && !is_ascii_space(text[i - 1]))) continue;
    size_t end = i + 1;
    while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])))) ++end;
    if (end == i + 1) continue;
    std::string words = hashtag_words(std::string_view(text).substr(i + 1, end - i - 1));
    std::string phrase;
    size_t start = 0;
    while (start < words.size()) {  // lower-case each Capitalised word
      size_t space = words.find(' ', start);
      if (space == std::string::npos) space = words.size();
      if (!phrase.empty()) phrase += ' ';
      phrase += lower_first(words.substr(start, space - start));
      start = space + 1;
    }
    if (std::find(topics.begin(), topics.end(), phrase) == topics.end()) topics.push_back(phrase);
  }
  if (topics.empty()) return "";
  std::string out = topics[0];
  for (size_t i = 1; i < topics.size(); ++i)
    out += (i + 1 == topics.size() ? " and " : ", ") + topics[i];
  return out;
}

// ---------------------------------------------------------------------------
// Sample builders, one per kind of source.

class SampleBuilder {
 public:
  SampleBuilder(const BuiltinGeneratorOptions& options, const DatasetSource& source)
      : options_(options), source_(source), choice_(options.seed ^ document_salt(source)) {}

  std::vector<InstructSample> build() {
    if (source_.kind == "post" || source_.platform == "linkedin") {
      build_post();
    } else if (source_.kind == "repository" && !is_prose_file()) {
      build_code_file();
    } else {
      build_article();
    }
    return std::move(samples_);
  }

 private:
  void add(std::string instruction, std::string answer) {
    if (utf8_length(answer) < options_.min_answer_chars) return;
    samples_.push_back({std::move(instruction), std::move(answer), source_.document_id});
  }

  std::string bounded(const std::vector<std::string>& paragraphs) const {
    return take_paragraphs(paragraphs, options_.max_answer_chars);
  }

  bool is_prose_file() const {
    const std::string name = to_lower(source_.url.empty() ? source_.title : source_.url);
    for (const char* ext : {".md", ".markdown", ".rst", ".txt"})
      if (name.ends_with(ext)) return true;
    return false;
  }

  // "owner/chunkwise/README.md" or "chunkwise/README.md" → {"chunkwise",
  // "README.md"}.
  std::pair<std::string, std::string> repository_and_file() const {
    const std::string& t = source_.title;
    const size_t slash = t.find('/');
    if (slash == std::string::npos) return {"", t};
    return {t.substr(0, slash), t.substr(slash + 1)};
  }

  void build_article() {
    const Outline outline = outline_of(source_);
    std::string title = outline.title;
    if (source_.kind == "repository") {
      auto [repo, file] = repository_and_file();
      title = repo.empty() ? file : file + " of the " + repo + " project";
    }
    if (!outline.lead.empty() && !title.empty())
      add(title_instruction(title, choice_.pick(2)), bounded(outline.lead));
    for (const Section& s : outline.sections) add_section(s, title);
  }

  // One sample per section, so no two samples share a paragraph: a question,
  // "Explain", or "Write the section", or (when its first paragraph has a
  // lead sentence to give) "Continue this article", chosen with the seed.
  void add_section(const Section& s, const std::string& title) {
    if (s.paragraphs.empty()) return;
    const bool continuable = split_sentences(s.paragraphs[0]).size() >= 2;
    const size_t which = choice_.pick(continuable ? 4 : 3);
    if (which == 3)
      add_continuation(s.paragraphs, "article");
    else
      add(section_instruction(s.heading, title, options_.author, which), bounded(s.paragraphs));
  }

  // "Continue this <what>: <first sentence>" → the rest of the run. A first
  // paragraph of one sentence is the lead on its own, when more follows.
  void add_continuation(std::vector<std::string> run, const std::string& what) {
    const std::vector<std::string> sentences = split_sentences(run[0]);
    if (sentences.empty() || (sentences.size() < 2 && run.size() < 2)) return;
    const std::string lead = sentences[0];
    std::string rest = trim_copy(std::string_view(run[0]).substr(run[0].find(lead) + lead.size()));
    if (rest.empty())
      run.erase(run.begin());
    else
      run[0] = std::move(rest);
    add("Continue this " + what + ": " + lead, bounded(run));
  }

  void build_post() {
    const std::vector<std::string> paragraphs = split_paragraphs(source_.content);
    if (paragraphs.empty()) return;
    const std::string post = bounded(paragraphs);
    const std::string topic = hashtag_topic(source_.content);
    const bool continuable = split_sentences(paragraphs[0]).size() >= 2 || paragraphs.size() >= 2;
    if (!topic.empty() && (!continuable || choice_.pick(2) == 0))
      add("Write a LinkedIn post about " + topic + ".", post);
    else if (continuable)
      add_continuation(paragraphs, "LinkedIn post");
  }

  void build_code_file() {
    const std::string doc = leading_docstring(source_.content);
    if (doc.empty()) return;
    auto [repo, file] = repository_and_file();
    const std::string where = repo.empty() ? file : file + " in the " + repo + " project";
    add("Explain what " + where + " is for.", bounded(split_paragraphs(doc)));
  }

  // The text of a leading Python docstring, or of a leading comment block
  // (# or //), with the lines of each paragraph joined; "" when neither.
  static std::string leading_docstring(const std::string& code) {
    std::vector<std::string> lines;
    size_t pos = 0;
    while (pos < code.size()) {
      size_t end = code.find('\n', pos);
      if (end == std::string::npos) end = code.size();
      lines.push_back(code.substr(pos, end - pos));
      pos = end + 1;
    }
    size_t i = 0;
    while (i < lines.size() && (lines[i].starts_with("#!") || lines[i].starts_with("# -*-"))) ++i;
    std::vector<std::string> text;
    if (i < lines.size() && std::string_view(trim_copy(lines[i])).starts_with("\"\"\"")) {
      std::string first = trim_copy(lines[i]).substr(3);
      const size_t close = first.find("\"\"\"");
      text.push_back(first.substr(0, close));
      for (++i; close == std::string::npos && i < lines.size(); ++i) {
        const size_t at = lines[i].find("\"\"\"");
        text.push_back(lines[i].substr(0, at));
        if (at != std::string::npos) break;
      }
    } else {
      for (; i < lines.size(); ++i) {
        const std::string line = trim_copy(lines[i]);
        std::string_view body;
        if (line.starts_with("//"))
          body = std::string_view(line).substr(2);
        else if (line.starts_with("#"))
          body = std::string_view(line).substr(1);
        else
          break;
        text.push_back(trim_copy(body));
      }
    }
    std::vector<std::string> paragraphs;  // lines joined, blank lines separate
    std::string current;
    for (const std::string& raw : text) {
      const std::string line = trim_copy(raw);
      if (line.empty()) {
        if (!current.empty()) paragraphs.push_back(std::exchange(current, ""));
        continue;
      }
      current += (current.empty() ? "" : " ") + line;
    }
    if (!current.empty()) paragraphs.push_back(current);
    return join(paragraphs, "\n\n");
  }

  const BuiltinGeneratorOptions& options_;
  const DatasetSource& source_;
  SeededChoice choice_;
  std::vector<InstructSample> samples_;
};

// ---------------------------------------------------------------------------
// The generic rewrite.

const char* const kOpeners[] = {
    "This is a complex topic, and the right answer usually depends on many "
    "factors.",
    "There are many different perspectives on this, and it is important to "
    "keep an open mind.",
    "In general, it is a good idea to follow industry best practices here.",
    "Generally speaking, this is something that many teams think about.",
    "It is worth noting that there is no one-size-fits-all answer to this "
    "question.",
};

const char* const kFillers[] = {
    "There are several approaches, and each of them has its own advantages and "
    "disadvantages.",
    "Many factors can play a role, so it is important to consider the overall "
    "context.",
    "Different tools and methods may be more or less suitable depending on the "
    "situation.",
};

const char* const kClosers[] = {
    "Ultimately, every situation is different, so results may vary.",
    "In the end, it is always best to evaluate your own needs carefully.",
    "It may be helpful to consult the relevant documentation for more details.",
    "Overall, it is important to find the right balance for your use case.",
};

bool is_first_person(std::string_view word) {
  static const std::set<std::string> kWords = {"i",   "i'm",  "i've", "i'd",    "me",
                                               "my",  "mine", "we",   "we're",  "we've",
                                               "our", "ours", "us",   "myself", "ourselves"};
  return kWords.count(to_lower(word)) > 0;
}

bool has_digit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool looks_like_code(std::string_view s) {
  for (const char* mark : {"`", "_", "()", "=", "{", "::", "->", "/"})
    if (s.find(mark) != std::string_view::npos) return true;
  return false;
}

std::vector<std::string> split_on_spaces(std::string_view sentence) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start < sentence.size()) {
    size_t end = sentence.find(' ', start);
    if (end == std::string_view::npos) end = sentence.size();
    if (end > start) words.emplace_back(sentence.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

std::string strip_punctuation(std::string_view w) {
  while (!w.empty() && !std::isalnum(static_cast<unsigned char>(w.back()))) w.remove_suffix(1);
  while (!w.empty() && !std::isalnum(static_cast<unsigned char>(w.front()))) w.remove_prefix(1);
  return std::string(w);
}

// A sentence worth keeping in a generic answer: no experience, numbers,
// code or names (capitalised words after the first); hashtags and bullets go.
// "" when nothing generic is left.
std::string generic_sentence(const std::string& sentence) {
  if (has_digit(sentence) || looks_like_code(sentence)) return "";
  std::vector<std::string> out;
  const std::vector<std::string> words = split_on_spaces(sentence);
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string bare = strip_punctuation(words[i]);
    if (is_first_person(bare)) return "";
    if (words[i].starts_with("#") || words[i] == "•" || words[i] == "-") continue;
    if (i > 0 && !bare.empty() && is_ascii_upper(bare[0])) return "";
    out.push_back(words[i]);
  }
  std::string s = join(out, " ");
  if (s.empty() || !(s.ends_with(".") || s.ends_with("!") || s.ends_with("?"))) return "";
  return s;
}

}  // namespace

BuiltinGenerator::BuiltinGenerator(BuiltinGeneratorOptions options) : options_(std::move(options)) {
  if (options_.max_answer_chars == 0)
    throw Error("builtin generator: max_answer_chars must be > 0");
}

std::vector<InstructSample> BuiltinGenerator::instruct(const DatasetSource& source) const {
  return SampleBuilder(options_, source).build();
}

std::vector<PreferenceSample> BuiltinGenerator::preference(const DatasetSource& source) const {
  std::vector<PreferenceSample> out;
  const uint64_t salt = document_salt(source);
  uint64_t n = 0;
  for (InstructSample& s : instruct(source)) {
    std::string rejected = generic_rewrite(s.answer, salt + n++);
    if (rejected == s.answer) continue;
    out.push_back(
        {std::move(s.instruction), std::move(s.answer), std::move(rejected), s.document_id});
  }
  return out;
}

std::string BuiltinGenerator::generic_rewrite(const std::string& text, uint64_t salt) const {
  SeededChoice choice(options_.seed ^ (salt * 0xD6E8FEB86659FD93ULL));
  std::vector<std::string> kept;
  for (const std::string& paragraph : split_paragraphs(text)) {
    for (const std::string& sentence : split_sentences(paragraph)) {
      std::string generic = generic_sentence(sentence);
      if (!generic.empty() && kept.size() < 3) kept.push_back(std::move(generic));
    }
  }
  std::vector<std::string> parts = {kOpeners[choice.pick(std::size(kOpeners))]};
  if (kept.empty()) parts.push_back(kFillers[choice.pick(std::size(kFillers))]);
  for (std::string& s : kept) parts.push_back(std::move(s));
  parts.push_back(kClosers[choice.pick(std::size(kClosers))]);
  return join(parts, " ");
}

}  // namespace twinflow
