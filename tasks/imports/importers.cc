// Imports of an author's data exports. See importers.h.
#include "tasks/imports/importers.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tasks/crawl/link_router.h"
#include "tasks/extract/charset.h"
#include "tasks/extract/date.h"
#include "tasks/extract/html_bounds.h"
#include "tasks/extract/html_extractor.h"
#include "tasks/extract/html_tree.h"
#include "tasks/extract/selector.h"
#include "tasks/imports/csv_reader.h"
#include "tasks/text/utf8.h"
#include "util/error.h"
#include "util/strings.h"

namespace twinflow {
namespace fs = std::filesystem;
namespace {

std::string base_name(const std::string& name) {
  return name.substr(name.find_last_of('/') + 1);
}

std::string read_capped(const fs::path& path, size_t max_bytes) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) throw Error(path.string() + ": cannot read (" + ec.message() + ")");
  if (size > max_bytes)
    throw Error(path.string() + ": larger than " + std::to_string(max_bytes >> 20) + " MB");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  if (!in && !in.eof()) throw Error(path.string() + ": cannot read");
  return out.str();
}

// The files of an export, from its zip or its unpacked folder, names relative
// and '/'-separated.
std::vector<ZipFile> export_files(const fs::path& path, const ImportOptions& options,
                                  const std::function<bool(const std::string&)>& wanted) {
  if (!fs::is_directory(path)) return read_zip(path, options.zip, wanted).files;
  std::vector<ZipFile> out;
  std::vector<fs::path> paths;
  for (auto it = fs::recursive_directory_iterator(path); it != fs::recursive_directory_iterator();
       ++it)
    if (it->is_regular_file()) paths.push_back(it->path());
  std::sort(paths.begin(), paths.end());
  for (const fs::path& p : paths) {
    const std::string name = fs::relative(p, path).generic_string();
    if (wanted && !wanted(name)) continue;
    if (out.size() >= options.zip.max_entries)
      throw Error(path.string() + ": more than " + std::to_string(options.zip.max_entries) +
                  " files");
    out.push_back({name, read_capped(p, options.max_file_bytes)});
  }
  return out;
}

std::vector<std::string> export_names(const fs::path& path, const ImportOptions& options) {
  std::vector<std::string> names;
  export_files(path, options, [&](const std::string& name) {
    names.push_back(name);
    return false;
  });
  return names;
}

// Paragraph blocks from plain text or Markdown: blank lines separate blocks;
// Markdown "#" lines are headings and fenced code stays one block.
nlohmann::json text_blocks(const std::string& text, bool markdown) {
  nlohmann::json blocks = nlohmann::json::array();
  std::istringstream in(text);
  std::string line, paragraph, code;
  bool in_code = false;
  auto flush = [&]() {
    if (!trim_copy(paragraph).empty())
      blocks.push_back({{"kind", "paragraph"}, {"level", 0}, {"text", trim_copy(paragraph)}});
    paragraph.clear();
  };
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (markdown && line.rfind("```", 0) == 0) {
      if (in_code) blocks.push_back({{"kind", "code"}, {"level", 0}, {"text", code}});
      flush();
      code.clear();
      in_code = !in_code;
      continue;
    }
    if (in_code) {
      code += (code.empty() ? "" : "\n") + line;
      continue;
    }
    if (markdown && line.rfind('#', 0) == 0) {
      flush();
      const size_t level = line.find_first_not_of('#');
      blocks.push_back({{"kind", "heading"},
                        {"level", std::min<size_t>(level == std::string::npos ? 1 : level, 6)},
                        {"text", trim_copy(line.substr(level == std::string::npos ? 0 : level))}});
      continue;
    }
    if (trim_copy(line).empty()) {
      flush();
    } else {
      paragraph += (paragraph.empty() ? "" : "\n") + line;
    }
  }
  if (in_code && !code.empty()) blocks.push_back({{"kind", "code"}, {"level", 0}, {"text", code}});
  flush();
  return blocks;
}

std::string blocks_text(const nlohmann::json& blocks) {
  std::string out;
  for (const auto& b : blocks) out += (out.empty() ? "" : "\n\n") + b["text"].get<std::string>();
  return out;
}

nlohmann::json extracted_blocks(const ExtractedPage& page) {
  static const char* kNames[] = {"paragraph", "heading", "list_item", "code", "quote"};
  nlohmann::json out = nlohmann::json::array();
  for (const Block& b : page.blocks)
    out.push_back(
        {{"kind", kNames[static_cast<int>(b.kind)]}, {"level", b.level}, {"text", b.text}});
  return out;
}

// A document from HTML; false when the page has no text.
bool from_html(const std::string& raw, ImportedDocument& doc) {
  ExtractedPage page = extract_html(raw, "", "");
  doc.content = page.body_text();
  if (trim_copy(doc.content).empty()) return false;
  if (doc.title.empty()) doc.title = page.title;
  if (doc.subtitle.empty()) doc.subtitle = page.subtitle;
  if (doc.byline.empty()) doc.byline = page.author;
  if (doc.published.empty()) doc.published = page.published;
  if (doc.language.empty()) doc.language = page.language;
  doc.blocks = extracted_blocks(page);
  return true;
}

ImportedDocument make(const std::string& platform, const std::string& item) {
  ImportedDocument d;
  d.platform = platform;
  d.kind = document_kind_for(platform);
  d.item = item;
  return d;
}

void add(ImportResult& result, ImportedDocument doc, const ImportOptions& options) {
  if (result.documents.size() >= options.max_documents) {
    result.failures.push_back(
        {doc.item, "more than max_documents " + std::to_string(options.max_documents)});
    return;
  }
  result.documents.push_back(std::move(doc));
}

// --- Medium -------------------------------------------------------------------

void import_medium(const fs::path& path, const ImportOptions& options, ImportResult& result) {
  auto files = export_files(path, options, [](const std::string& name) {
    return name.rfind("posts/", 0) == 0 && to_lower(name).ends_with(".html");
  });
  if (files.empty()) throw Error(path.string() + ": no posts/*.html in this Medium export");
  for (const ZipFile& f : files) {
    if (base_name(f.name).rfind("draft", 0) == 0) {
      ++result.skipped;
      continue;
    }
    const std::string html = decode_html_bytes(f.data);
    ImportedDocument doc = make("medium", f.name);
    HtmlTree tree(bound_html(html));
    for (int i = 0; i < tree.size(); ++i) {
      if (!tree.is_element(i)) continue;
      const std::string_view classes = tree.attr_or_empty(i, "class");
      if (tree.tag(i) == GUMBO_TAG_A && has_class(classes, "p-canonical"))
        doc.canonical_url = std::string(tree.attr_or_empty(i, "href"));
      if (tree.tag(i) == GUMBO_TAG_TIME && has_class(classes, "dt-published"))
        doc.published = normalize_date(tree.attr_or_empty(i, "datetime"));
      if (tree.tag(i) == GUMBO_TAG_H1 && has_class(classes, "p-name") && doc.title.empty())
        doc.title = tree.collapsed_text(i);
      if (has_class(classes, "p-summary") && doc.subtitle.empty())
        doc.subtitle = tree.collapsed_text(i);
    }
    // The export's footer ("By ... on ...", "Exported from Medium") is not the post.
    const size_t footer = html.rfind("<footer");
    if (!from_html(footer == std::string::npos ? html : html.substr(0, footer), doc)) {
      result.failures.push_back({f.name, "no text in the post"});
      continue;
    }
    std::string stem = base_name(f.name);
    stem = stem.substr(0, stem.size() - 5);
    doc.url = doc.canonical_url.empty() ? "import:medium/" + stem : doc.canonical_url;
    add(result, std::move(doc), options);
  }
}

// --- Substack -----------------------------------------------------------------

void import_substack(const fs::path& path, const ImportOptions& options, ImportResult& result) {
  auto files = export_files(path, options, [](const std::string& name) {
    return name == "posts.csv" ||
           (name.rfind("posts/", 0) == 0 && to_lower(name).ends_with(".html"));
  });
  std::map<std::string, const ZipFile*> by_name;
  for (const ZipFile& f : files) by_name[f.name] = &f;
  if (!by_name.count("posts.csv"))
    throw Error(path.string() + ": no posts.csv in this Substack export");
  CsvTable csv = read_csv(decode_html_bytes(by_name["posts.csv"]->data));
  if (!csv.ok()) throw Error(path.string() + ": posts.csv: " + csv.error);
  if (csv.column("post_id") < 0) throw Error(path.string() + ": posts.csv has no post_id column");
  std::string base = options.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  for (size_t r = 0; r < csv.rows.size(); ++r) {
    const std::string item = "posts.csv line " + std::to_string(csv.row_lines[r]);
    const std::string id = trim_copy(csv.field(r, "post_id"));
    if (to_lower(trim_copy(csv.field(r, "is_published"))) == "false") {
      ++result.skipped;
      continue;
    }
    const auto html = by_name.find("posts/" + id + ".html");
    if (id.empty() || html == by_name.end()) {
      result.failures.push_back({item, "no posts/" + id + ".html in the export"});
      continue;
    }
    ImportedDocument doc = make("substack", html->first);
    doc.title = trim_copy(csv.field(r, "title"));
    doc.subtitle = trim_copy(csv.field(r, "subtitle"));
    doc.published = normalize_date(trim_copy(csv.field(r, "post_date")));
    if (!from_html(decode_html_bytes(html->second->data), doc)) {
      result.failures.push_back({html->first, "no text in the post"});
      continue;
    }
    const size_t dot = id.find('.');
    const std::string slug = dot == std::string::npos ? id : id.substr(dot + 1);
    doc.url = base.empty() ? "import:substack/" + slug : base + "/p/" + slug;
    add(result, std::move(doc), options);
  }
}

// --- LinkedIn -----------------------------------------------------------------

void import_linkedin(const fs::path& path, const ImportOptions& options, ImportResult& result) {
  std::string csv_text;
  std::string csv_name = path.filename().string();
  if (fs::is_regular_file(path) && !is_zip_file(path)) {
    csv_text = read_capped(path, options.max_file_bytes);
  } else {
    auto files = export_files(path, options, [](const std::string& name) {
      return to_lower(base_name(name)) == "shares.csv";
    });
    if (files.empty()) throw Error(path.string() + ": no Shares.csv in this LinkedIn export");
    csv_name = files.front().name;
    csv_text = std::move(files.front().data);
  }
  CsvTable csv = read_csv(decode_html_bytes(csv_text));
  if (!csv.ok()) throw Error(path.string() + ": " + csv_name + ": " + csv.error);
  if (csv.column("ShareCommentary") < 0)
    throw Error(path.string() + ": " + csv_name + " has no ShareCommentary column");
  for (size_t r = 0; r < csv.rows.size(); ++r) {
    const std::string item = csv_name + " line " + std::to_string(csv.row_lines[r]);
    std::string text = trim_copy(csv.field(r, "ShareCommentary"));
    if (text.empty()) {
      ++result.skipped;  // a reshare without words of the author's own
      continue;
    }
    const std::string link = trim_copy(csv.field(r, "ShareLink"));
    if (link.empty()) {
      result.failures.push_back({item, "no ShareLink"});
      continue;
    }
    ImportedDocument doc = make("linkedin", item);
    doc.url = link;
    std::string date = trim_copy(csv.field(r, "Date"));
    if (date.size() > 10 && date[10] == ' ') date[10] = 'T';
    doc.published = normalize_date(date);
    doc.blocks = text_blocks(text, false);
    doc.content = blocks_text(doc.blocks);
    const std::string first_line = text.substr(0, text.find('\n'));
    doc.title =
        first_line.substr(0, utf8_floor(first_line, std::min<size_t>(first_line.size(), 80)));
    add(result, std::move(doc), options);
  }
}

// --- a folder of HTML / Markdown ------------------------------------------------

// Splits "---\nkey: value\n---\n" front matter off Markdown.
std::map<std::string, std::string> front_matter(std::string& text) {
  std::map<std::string, std::string> out;
  if (text.rfind("---\n", 0) != 0 && text.rfind("---\r\n", 0) != 0) return out;
  const size_t end = text.find("\n---", 3);
  if (end == std::string::npos) return out;
  std::istringstream in(text.substr(text.find('\n') + 1, end - text.find('\n')));
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = trim_copy(line.substr(colon + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    out[to_lower(trim_copy(line.substr(0, colon)))] = value;
  }
  const size_t after = text.find('\n', end + 1);
  text = after == std::string::npos ? "" : text.substr(after + 1);
  return out;
}

void import_folder(const fs::path& path, const ImportOptions& options, ImportResult& result) {
  if (!fs::is_directory(path)) throw Error(path.string() + ": not a directory");
  const std::string platform = options.platform.empty() ? "web" : options.platform;
  std::string base = options.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto files = export_files(path, options, [](const std::string& name) {
    const std::string l = to_lower(name);
    return l.ends_with(".html") || l.ends_with(".htm") || l.ends_with(".md") ||
           l.ends_with(".markdown") || l.ends_with(".txt");
  });
  for (const ZipFile& f : files) {
    ImportedDocument doc = make(platform, f.name);
    const std::string l = to_lower(f.name);
    std::string text = decode_html_bytes(f.data);
    std::string url;
    if (l.ends_with(".html") || l.ends_with(".htm")) {
      if (!from_html(text, doc)) {
        result.failures.push_back({f.name, "no text in the page"});
        continue;
      }
    } else {
      auto meta = front_matter(text);
      url = meta["url"];
      doc.title = meta["title"];
      doc.published = normalize_date(meta.count("date") ? meta["date"] : meta["published"]);
      doc.blocks = text_blocks(text, !l.ends_with(".txt"));
      if (doc.title.empty() && !doc.blocks.empty() && doc.blocks[0]["kind"] == "heading")
        doc.title = doc.blocks[0]["text"];
      doc.content = blocks_text(doc.blocks);
      if (trim_copy(doc.content).empty()) {
        result.failures.push_back({f.name, "empty file"});
        continue;
      }
    }
    if (doc.title.empty()) doc.title = base_name(f.name);
    if (url.empty())
      url = base.empty() ? "file://" + (fs::absolute(path) / f.name).lexically_normal().string()
                         : base + "/" + f.name;
    doc.url = url;
    add(result, std::move(doc), options);
  }
}

// --- JSONL --------------------------------------------------------------------

void import_jsonl(const fs::path& path, const ImportOptions& options, ImportResult& result) {
  const std::string data = read_capped(path, options.max_file_bytes);
  std::istringstream in(data);
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string item = path.filename().string() + " line " + std::to_string(number);
    if (trim_copy(line).empty()) continue;
    if (!is_valid_utf8(line)) line = decode_html_bytes(line);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception&) {
      result.failures.push_back({item, "not a JSON object"});
      continue;
    }
    if (!j.is_object()) {
      result.failures.push_back({item, "not a JSON object"});
      continue;
    }
    auto text_of = [&](const char* key) {
      return j.contains(key) && j[key].is_string() ? trim_copy(j[key].get<std::string>()) : "";
    };
    std::string platform = text_of("platform");
    if (platform.empty()) platform = options.platform.empty() ? "web" : options.platform;
    if (!is_known_platform(platform) || platform == "github") {
      result.failures.push_back({item, "unknown platform '" + platform + "'"});
      continue;
    }
    ImportedDocument doc = make(platform, item);
    doc.url = text_of("url");
    if (doc.url.empty()) {
      result.failures.push_back({item, "no url"});
      continue;
    }
    doc.title = text_of("title");
    doc.published = normalize_date(text_of("published"));
    doc.blocks = text_blocks(text_of("text"), false);
    doc.content = blocks_text(doc.blocks);
    if (doc.content.empty()) {
      result.failures.push_back({item, "no text"});
      continue;
    }
    add(result, std::move(doc), options);
  }
}

}  // namespace

std::string detect_import_format(const fs::path& path) {
  if (!fs::exists(path)) throw Error(path.string() + ": no such file or directory");
  const std::string name = to_lower(path.filename().string());
  if (name.ends_with(".jsonl") || name.ends_with(".ndjson")) return "jsonl";
  if (name == "shares.csv") return "linkedin";
  if (fs::is_directory(path) || is_zip_file(path)) {
    ImportOptions options;
    bool substack = false, linkedin = false, medium = false;
    for (const std::string& n : export_names(path, options)) {
      substack = substack || n == "posts.csv";
      linkedin = linkedin || to_lower(base_name(n)) == "shares.csv";
      medium = medium || (n.rfind("posts/", 0) == 0 && to_lower(n).ends_with(".html"));
    }
    if (substack) return "substack";
    if (linkedin) return "linkedin";
    if (medium) return "medium";
    if (fs::is_directory(path)) return "folder";
    throw Error(path.string() +
                ": a zip that is not a Medium, Substack or LinkedIn export; give `format`");
  }
  throw Error(path.string() +
              ": cannot tell the format; give format: medium, substack, linkedin, folder or jsonl");
}

ImportResult import_source(const fs::path& path, const ImportOptions& options) {
  if (!fs::exists(path)) throw Error(path.string() + ": no such file or directory");
  ImportResult result;
  result.format = options.format.empty() ? detect_import_format(path) : options.format;
  if (!options.platform.empty() &&
      (!is_known_platform(options.platform) || options.platform == "github"))
    throw Error("unknown platform '" + options.platform + "'");
  if (result.format == "medium") {
    import_medium(path, options, result);
  } else if (result.format == "substack") {
    import_substack(path, options, result);
  } else if (result.format == "linkedin") {
    import_linkedin(path, options, result);
  } else if (result.format == "folder") {
    import_folder(path, options, result);
  } else if (result.format == "jsonl") {
    import_jsonl(path, options, result);
  } else {
    throw Error("unknown import format '" + result.format +
                "' (medium, substack, linkedin, folder, jsonl)");
  }
  return result;
}

}  // namespace twinflow
