// The crawl step: fetches an author's pages (Medium, Substack, LinkedIn, any
// article URL) over HTTP and clones their repositories, extracts the text and
// records each as a document version. One bad URL never fails the step: every
// failure is recorded with its reason, and the step fails only when the share
// of failed links exceeds `max_failure_ratio`. See data_steps.h and
// docs/STEPS.md.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <regex>

#include "store/store.h"
#include "tasks/crawl/git_checkout.h"
#include "tasks/crawl/http_fetcher.h"
#include "tasks/crawl/link_router.h"
#include "tasks/crawl/repo_files.h"
#include "tasks/extract/html_extractor.h"
#include "tasks/steps/data_steps.h"
#include "util/error.h"
#include "util/files.h"

namespace twinflow {
namespace fs = std::filesystem;
namespace {

struct Link {
  std::string url, platform;
};

struct Outcome {
  std::string url, platform, status;  // new, changed, unchanged, not_modified, failed
  int64_t document_id = 0;
  int version = 0;
  std::string content_sha256, reason;
  int files = 0;  // repositories: documents recorded
};

Outcome outcome(const std::string& url, const std::string& platform, const std::string& status) {
  Outcome o;
  o.url = url;
  o.platform = platform;
  o.status = status;
  return o;
}

struct CrawlSettings {
  std::string author;
  std::vector<Link> links;
  FetchOptions fetch;
  double max_failure_ratio = 0.5;
  std::string linkedin_cookie_env, github_token_env;
  RepoFileOptions repo;
  std::chrono::seconds clone_timeout{300};
};

std::vector<Link> read_links(const StepParams& params, const LinkRouter& router) {
  const auto& raw = params.raw("links");
  if (!raw.is_array() || raw.empty())
    throw Error("crawl step: param 'links' must be a non-empty list of URLs");
  std::vector<Link> links;
  for (const auto& entry : raw) {
    Link link;
    if (entry.is_string()) {
      link.url = entry.get<std::string>();
    } else if (entry.is_object() && entry.contains("url")) {
      link.url = entry.at("url").get<std::string>();
      link.platform = entry.value("platform", "");
    } else {
      throw Error("crawl step: each of 'links' must be a URL or {url, platform}, got " +
                  entry.dump());
    }
    if (link.platform.empty()) link.platform = router.platform_for(link.url);
    if (!is_known_platform(link.platform))
      throw Error("crawl step: link " + link.url + " has unknown platform '" + link.platform + "'");
    bool seen = false;
    for (const Link& l : links) seen = seen || l.url == link.url;
    if (!seen) links.push_back(std::move(link));
  }
  return links;
}

std::vector<RouteRule> read_rules(const StepParams& params) {
  std::vector<RouteRule> rules;
  const auto& raw = params.raw("rules");
  if (raw.is_null()) return rules;
  if (!raw.is_array()) throw Error("crawl step: param 'rules' must be a list of {match, platform}");
  for (const auto& r : raw) {
    if (!r.is_object() || !r.contains("match") || !r.contains("platform"))
      throw Error("crawl step: each rule needs 'match' and 'platform', got " + r.dump());
    rules.push_back({r.at("match").get<std::string>(), r.at("platform").get<std::string>()});
  }
  return rules;
}

CrawlSettings read_settings(const StepParams& params) {
  CrawlSettings s;
  s.author = params.string("author");
  s.links = read_links(params, LinkRouter(read_rules(params)));
  s.fetch.concurrency = static_cast<int>(params.integer_or("concurrency", 8, 1, 256));
  s.fetch.max_requests_per_second_per_host =
      params.number_or("requests_per_second", 2.0, 0.0, 10000.0);
  s.fetch.total_timeout = params.duration_or("timeout", std::chrono::seconds(30));
  s.fetch.connect_timeout = params.duration_or("connect_timeout", std::chrono::seconds(10));
  s.fetch.max_body_bytes =
      static_cast<size_t>(params.integer_or("max_page_bytes", 20 << 20, 1024, int64_t{1} << 32));
  s.fetch.max_redirects = static_cast<int>(params.integer_or("max_redirects", 5, 0, 50));
  s.fetch.max_retries = static_cast<int>(params.integer_or("retries", 3, 0, 20));
  s.fetch.retry_backoff = params.duration_or("retry_backoff", std::chrono::milliseconds(500));
  s.fetch.respect_robots = params.boolean_or("respect_robots", true);
  s.max_failure_ratio = params.number_or("max_failure_ratio", 0.5, 0.0, 1.0);
  s.linkedin_cookie_env = params.string_or("linkedin_cookie_env", "");
  s.github_token_env = params.string_or("github_token_env", "");
  s.repo.max_file_bytes =
      static_cast<size_t>(params.integer_or("max_file_bytes", 256 * 1024, 1, int64_t{1} << 30));
  s.clone_timeout = std::chrono::duration_cast<std::chrono::seconds>(
      params.duration_or("clone_timeout", std::chrono::seconds(300)));
  return s;
}

// Only a timestamp PostgreSQL reads the same way is kept; anything odd the
// page claims is dropped rather than failing the document.
std::string normalized_published(const std::string& text) {
  static const std::regex kIso(
      R"(^(\d{4})-(\d{2})-(\d{2})(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$)");
  std::smatch m;
  if (!std::regex_match(text, m, kIso)) return "";
  const int month = std::stoi(m[2]), day = std::stoi(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > 31) return "";
  return text;
}

nlohmann::json blocks_json(const std::vector<Block>& blocks) {
  static const char* kNames[] = {"paragraph", "heading", "list_item", "code", "quote"};
  nlohmann::json out = nlohmann::json::array();
  for (const Block& b : blocks)
    out.push_back(
        {{"kind", kNames[static_cast<int>(b.kind)]}, {"level", b.level}, {"text", b.text}});
  return out;
}

// Why a fetched body is not a page to extract, or "".
std::string unusable_body(const FetchResult& result) {
  const std::string& type = result.content_type;
  if (!type.empty() && type.find("html") == std::string::npos &&
      type.find("xml") == std::string::npos && type.find("text/plain") == std::string::npos)
    return "not an HTML page (Content-Type " + type + ")";
  if (result.body.find('\0') < std::min<size_t>(result.body.size(), 4096))
    return "binary content, not an HTML page";
  return "";
}

class Crawler {
 public:
  Crawler(StepEnvironment& env, CrawlSettings settings) : env_(env), s_(std::move(settings)) {}

  std::vector<Outcome> crawl() {
    std::vector<Link> pages, repositories;
    for (const Link& link : s_.links)
      (link.platform == "github" ? repositories : pages).push_back(link);
    crawl_pages(pages);
    for (const Link& repo : repositories) outcomes_.push_back(crawl_repository(repo));
    return std::move(outcomes_);
  }

  // Repository files recorded, by change ("new", "changed", "unchanged"), and
  // files the scan skipped (binaries, vendored, generated, lock files...).
  int64_t repository_files(const std::string& change) const {
    auto it = repository_files_.find(change);
    return it == repository_files_.end() ? 0 : it->second;
  }
  int64_t repository_files_skipped() const { return repository_skipped_; }

 private:
  void crawl_pages(const std::vector<Link>& pages) {
    if (pages.empty()) return;
    std::vector<std::string> urls;
    for (const Link& p : pages) urls.push_back(p.url);
    auto validators = env_.store.document_validators(s_.author, urls);
    std::vector<FetchRequest> requests;
    for (const Link& p : pages) {
      FetchRequest request;
      request.url = p.url;
      if (auto it = validators.find(p.url); it != validators.end()) {
        request.etag = it->second.etag;
        request.last_modified = it->second.last_modified;
      }
      add_credentials(p, request);
      requests.push_back(std::move(request));
    }
    std::vector<std::string> not_modified;
    HttpFetcher fetcher(s_.fetch);
    fetcher.fetch_all(requests, [&](size_t i, const FetchResult& result) {
      if (result.ok() && result.not_modified) {
        not_modified.push_back(pages[i].url);
        return;
      }
      outcomes_.push_back(record_page(pages[i], result));
    });
    auto ids = env_.store.mark_documents_checked(s_.author, not_modified);
    for (const std::string& url : not_modified) {
      Outcome o = outcome(url, "", "not_modified");
      if (auto it = ids.find(url); it != ids.end()) o.document_id = it->second;
      for (const Link& p : pages)
        if (p.url == url) o.platform = p.platform;
      outcomes_.push_back(std::move(o));
    }
  }

  // A LinkedIn session cookie, when the DAG names the variable holding it.
  void add_credentials(const Link& link, FetchRequest& request) const {
    if (link.platform != "linkedin" || s_.linkedin_cookie_env.empty()) return;
    const char* value = std::getenv(s_.linkedin_cookie_env.c_str());
    if (value && *value) request.headers.push_back(std::string("Cookie: li_at=") + value);
  }

  Outcome record_page(const Link& link, const FetchResult& result) {
    Outcome o = outcome(link.url, link.platform, "failed");
    if (!result.ok()) {
      o.reason = result.error;
      return o;
    }
    if (o.reason = unusable_body(result); !o.reason.empty()) return o;
    try {
      ExtractedPage page =
          extract_html(result.body, result.final_url.empty() ? link.url : result.final_url,
                       link.platform == "web" ? "" : link.platform);
      std::string text = page.body_text();
      if (text.find_first_not_of(" \n\t") == std::string::npos) {
        o.reason = "no article text found on the page";
        return o;
      }
      DocumentToStore doc;
      doc.author = s_.author;
      doc.platform = link.platform;
      doc.kind = document_kind_for(link.platform);
      doc.url = link.url;
      doc.title = page.title;
      doc.subtitle = page.subtitle;
      doc.byline = page.author;
      doc.published_at = normalized_published(page.published);
      doc.canonical_url = page.canonical_url;
      doc.language = page.language;
      doc.content = std::move(text);
      doc.blocks = blocks_json(page.blocks);
      doc.etag = result.etag;
      doc.last_modified = result.last_modified;
      doc.step_run_id = env_.step_run_id;
      StoredDocument stored = env_.store.upsert_document(doc);
      o.status = stored.change;
      o.document_id = stored.id;
      o.version = stored.version;
      o.content_sha256 = stored.content_sha256;
    } catch (const std::exception& e) {
      o.status = "failed";
      o.reason = e.what();
    }
    return o;
  }

  Outcome crawl_repository(const Link& link) {
    Outcome o = outcome(link.url, link.platform, "failed");
    const fs::path checkout = env_.context.output_dir / "checkout";
    try {
      const bool is_github = link.url.find("github.com/") != std::string::npos;
      const std::string clone_url = is_github ? github_clone_url(link.url) : link.url;
      fs::remove_all(checkout);
      GitCloneOptions options;
      options.timeout = s_.clone_timeout;
      options.token_env = s_.github_token_env;
      const std::string commit = clone_repository(clone_url, checkout, options);
      RepoScan scan = scan_repository(checkout, s_.repo);
      for (const RepoFile& file : scan.files) record_repository_file(link, file, o);
      o.status = o.files > 0 ? "crawled" : "failed";
      if (o.files == 0) o.reason = "the repository has no text files to keep";
      o.content_sha256 = commit;
      repository_skipped_ += static_cast<int64_t>(scan.skipped.size());
    } catch (const std::exception& e) {
      o.reason = e.what();
    }
    std::error_code ec;
    fs::remove_all(checkout, ec);
    return o;
  }

  void record_repository_file(const Link& link, const RepoFile& file, Outcome& repo) {
    DocumentToStore doc;
    doc.author = s_.author;
    doc.platform = "github";
    doc.kind = "repository";
    doc.url = repository_base(link.url) + "/blob/HEAD/" + file.path;
    doc.title = repository_name(link.url) + "/" + file.path;
    doc.language = file.language;
    doc.content = file.content;
    doc.blocks = nlohmann::json::array({{{"kind", "code"}, {"level", 0}, {"text", file.content}}});
    doc.step_run_id = env_.step_run_id;
    StoredDocument stored = env_.store.upsert_document(doc);
    ++repo.files;
    ++repository_files_[stored.change];
  }

  static std::string repository_base(std::string url) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.size() > 4 && url.compare(url.size() - 4, 4, ".git") == 0) url.resize(url.size() - 4);
    return url;
  }

  static std::string repository_name(const std::string& url) {
    std::string base = repository_base(url);
    return base.substr(base.find_last_of('/') + 1);
  }

  StepEnvironment& env_;
  CrawlSettings s_;
  std::vector<Outcome> outcomes_;
  std::map<std::string, int64_t> repository_files_;
  int64_t repository_skipped_ = 0;
};

nlohmann::json manifest_of(const std::string& author, std::vector<Outcome> outcomes) {
  std::sort(outcomes.begin(), outcomes.end(),
            [](const Outcome& a, const Outcome& b) { return a.url < b.url; });
  nlohmann::json documents = nlohmann::json::array(), failures = nlohmann::json::array();
  for (const Outcome& o : outcomes) {
    if (o.status == "failed") {
      failures.push_back({{"url", o.url}, {"platform", o.platform}, {"reason", o.reason}});
    } else if (o.platform == "github") {
      documents.push_back({{"url", o.url},
                           {"platform", o.platform},
                           {"files", o.files},
                           {"commit", o.content_sha256}});
    } else {
      // The state, not the change (new, changed, 304: in the metrics): a
      // crawl that changed nothing writes the same manifest as the last one,
      // so no new artifact version. A document id names one version.
      documents.push_back(
          {{"url", o.url}, {"platform", o.platform}, {"document_id", o.document_id}});
    }
  }
  return {{"author", author}, {"documents", documents}, {"failures", failures}};
}

}  // namespace

int run_crawl_step(StepEnvironment& env) {
  StepParams params(env.context.params, "crawl");
  CrawlSettings settings = read_settings(params);
  const std::string author = settings.author;
  const double max_failure_ratio = settings.max_failure_ratio;
  const size_t links = settings.links.size();

  const auto started = std::chrono::steady_clock::now();
  Crawler crawler(env, std::move(settings));
  std::vector<Outcome> outcomes = crawler.crawl();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::map<std::string, int64_t> counts;
  for (const Outcome& o : outcomes) {
    ++counts[o.status];
    if (o.status == "failed") std::cerr << "crawl: " << o.url << ": " << o.reason << "\n";
  }
  nlohmann::json manifest = manifest_of(author, outcomes);
  write_file_atomically(env.context.output_path("documents"), manifest.dump(2));
  env.report.output_metadata("documents", {{"author", author},
                                           {"documents", manifest["documents"].size()},
                                           {"failures", manifest["failures"].size()}});
  env.report.metrics({{"links", links},
                      {"pages_new", counts["new"]},
                      {"pages_changed", counts["changed"]},
                      {"pages_unchanged", counts["unchanged"]},
                      {"pages_not_modified", counts["not_modified"]},
                      {"links_failed", counts["failed"]},
                      {"repository_files_new", crawler.repository_files("new")},
                      {"repository_files_changed", crawler.repository_files("changed")},
                      {"repository_files_unchanged", crawler.repository_files("unchanged")},
                      {"repository_files_skipped", crawler.repository_files_skipped()},
                      {"crawl_seconds", seconds}});
  const double failed_ratio = static_cast<double>(counts["failed"]) / static_cast<double>(links);
  if (failed_ratio > max_failure_ratio) {
    std::cerr << "crawl: " << counts["failed"] << " of " << links
              << " links failed, more than max_failure_ratio " << max_failure_ratio << "\n";
    return 1;
  }
  return 0;
}

}  // namespace twinflow
