// The crawl step: fetches an author's pages (Medium, Substack, LinkedIn, any
// article URL) over HTTP and clones their repositories, extracts the text and
// records each as a document version. One bad URL never fails the step: every
// failure is recorded with its reason, and the step fails only when the share
// of failed links exceeds `max_failure_ratio`. Besides fixed `links`, pages
// come from feeds, sitemaps and followed archive pages (`feeds`, `sitemaps`,
// `follow`; tasks/crawl/discovery.h): only their new or changed entries are
// crawled. See data_steps.h and docs/STEPS.md.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <regex>
#include <set>

#include "store/feature_store.h"
#include "store/store.h"
#include "tasks/crawl/discovery.h"
#include "tasks/crawl/git_checkout.h"
#include "tasks/crawl/http_fetcher.h"
#include "tasks/crawl/link_router.h"
#include "tasks/crawl/repo_files.h"
#include "tasks/extract/html_extractor.h"
#include "tasks/steps/data_steps.h"
#include "util/error.h"
#include "util/files.h"
#include "util/url.h"

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
  std::vector<DiscoverySource> sources;
  DiscoveryOptions discovery;
  std::vector<RouteRule> rules;
  FetchOptions fetch;
  double max_failure_ratio = 0.5;
  std::string linkedin_cookie_env, github_token_env;
  RepoFileOptions repo;
  std::chrono::seconds clone_timeout{300};
};

std::vector<Link> read_links(const StepParams& params, const LinkRouter& router,
                             bool sources_given) {
  const auto& raw = params.raw("links");
  std::vector<Link> links;
  if (raw.is_null() && sources_given) return links;
  if (!raw.is_array() || (raw.empty() && !sources_given))
    throw Error(
        "crawl step: param 'links' must be a non-empty list of URLs (or give 'feeds', "
        "'sitemaps' or 'follow')");
  std::set<std::string> seen;
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
    if (seen.insert(link.url).second) links.push_back(std::move(link));
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

std::vector<std::string> read_url_list(const StepParams& params, const std::string& name) {
  const auto& raw = params.raw(name);
  std::vector<std::string> urls;
  if (raw.is_null()) return urls;
  if (!raw.is_array()) throw Error("crawl step: param '" + name + "' must be a list of URLs");
  for (const auto& entry : raw) {
    if (!entry.is_string() || !is_http_url(entry.get<std::string>()))
      throw Error("crawl step: each of '" + name + "' must be an http(s) URL, got " + entry.dump());
    urls.push_back(entry.get<std::string>());
  }
  return urls;
}

FollowSpec read_follow(const nlohmann::json& raw) {
  if (!raw.is_object() || !raw.contains("start") || !raw.contains("match"))
    throw Error(
        "crawl step: 'follow' needs {start: [URL], match: [glob], max_depth, max_pages}, got " +
        raw.dump());
  nlohmann::json params = raw;
  for (const char* key : {"start", "match"})
    if (params[key].is_string()) params[key] = nlohmann::json::array({params[key]});
  StepParams p(params, "crawl");
  FollowSpec spec;
  spec.start = read_url_list(p, "start");
  if (spec.start.empty()) throw Error("crawl step: 'follow.start' must name at least one URL");
  for (const auto& m : params["match"]) {
    if (!m.is_string() || m.get<std::string>().empty())
      throw Error("crawl step: each of 'follow.match' must be a glob, got " + m.dump());
    spec.match.push_back(m.get<std::string>());
  }
  if (spec.match.empty()) throw Error("crawl step: 'follow.match' must name at least one glob");
  spec.max_depth = static_cast<int>(p.integer_or("max_depth", 2, 0, 20));
  spec.max_pages = static_cast<size_t>(p.integer_or("max_pages", 100, 1, 100000));
  return spec;
}

std::vector<DiscoverySource> read_sources(const StepParams& params) {
  std::vector<DiscoverySource> sources;
  for (const std::string& url : read_url_list(params, "feeds")) sources.push_back({"feed", url});
  for (const std::string& url : read_url_list(params, "sitemaps"))
    sources.push_back({"sitemap", url});
  const auto& follow = params.raw("follow");
  if (!follow.is_null())
    for (const auto& f : follow.is_array() ? follow : nlohmann::json::array({follow})) {
      FollowSpec spec = read_follow(f);
      sources.push_back({"follow", spec.start.front(), spec});
    }
  return sources;
}

CrawlSettings read_crawl_settings(const StepParams& params) {
  CrawlSettings s;
  s.author = params.string("author");
  s.sources = read_sources(params);
  s.rules = read_rules(params);
  s.links = read_links(params, LinkRouter(s.rules), !s.sources.empty());
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
  s.discovery.fetch = s.fetch;
  s.discovery.max_entries =
      static_cast<size_t>(params.integer_or("max_entries", 50000, 1, 1000000));
  s.discovery.max_file_bytes =
      static_cast<size_t>(params.integer_or("max_feed_bytes", 50 << 20, 1024, int64_t{1} << 32));
  s.discovery.max_sitemap_depth =
      static_cast<int>(params.integer_or("max_sitemap_depth", 2, 0, 10));
  s.discovery.max_sitemap_files =
      static_cast<size_t>(params.integer_or("max_sitemap_files", 1000, 1, 100000));
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
    auto validators = env_.features.document_validators(s_.author, urls);
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
    auto ids = env_.features.mark_documents_checked(s_.author, not_modified);
    std::map<std::string, std::string> platform_of;
    for (const Link& p : pages) platform_of[p.url] = p.platform;
    for (const std::string& url : not_modified) {
      Outcome o = outcome(url, platform_of[url], "not_modified");
      if (auto it = ids.find(url); it != ids.end()) o.document_id = it->second;
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
      StoredDocument stored = env_.features.upsert_document(doc);
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
    StoredDocument stored = env_.features.upsert_document(doc);
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

// Reads every feed, sitemap and followed source, and adds the entries to crawl
// to the links (a URL listed twice is crawled once).
std::vector<SourceResult> discover(StepEnvironment& env, CrawlSettings& s) {
  std::vector<SourceResult> results;
  if (s.sources.empty()) return results;
  s.discovery.step_run_id = env.step_run_id;
  Discovery discovery(env.features, s.author, s.discovery);
  LinkRouter router(s.rules);
  std::set<std::string> known;
  for (const Link& l : s.links) known.insert(l.url);
  for (const DiscoverySource& source : s.sources) {
    SourceResult r = discovery.discover(source);
    std::cerr << "crawl: " << r.kind << " " << r.url << ": " << r.status << ", " << r.discovered
              << " listed, " << r.discovered_new << " new, " << r.discovered_changed << " changed, "
              << r.to_crawl.size() << " to crawl" << (r.reason.empty() ? "" : " (" + r.reason + ")")
              << "\n";
    for (const std::string& url : r.to_crawl) {
      if (!known.insert(url).second) continue;
      std::string platform = router.platform_for(url);
      if (platform == "github") platform = "web";  // a page that links a repository, not one
      s.links.push_back({url, platform});
    }
    results.push_back(std::move(r));
  }
  return results;
}

// Records which entries of each source were crawled (failed ones stay to crawl).
void finish_sources(StepEnvironment& env, const CrawlSettings& s,
                    const std::vector<SourceResult>& results,
                    const std::vector<Outcome>& outcomes) {
  if (results.empty()) return;
  std::set<std::string> crawled;
  for (const Outcome& o : outcomes)
    if (o.status != "failed") crawled.insert(o.url);
  Discovery discovery(env.features, s.author, s.discovery);
  for (const SourceResult& r : results) {
    std::vector<std::string> done;
    for (const std::string& url : r.to_crawl)
      if (crawled.count(url)) done.push_back(url);
    discovery.finish(r, done);
  }
}

nlohmann::json manifest_of(
    const std::string& author, std::vector<Outcome> outcomes,
    const std::vector<SourceResult>& sources,
    const std::map<std::string, std::pair<int64_t, std::string>>& source_documents) {
  // The sources' documents crawled by earlier runs are part of the state too.
  std::set<std::string> listed;
  for (const Outcome& o : outcomes) listed.insert(o.url);
  for (const auto& [url, document] : source_documents)
    if (!listed.count(url)) {
      Outcome o = outcome(url, document.second, "unchanged");
      o.document_id = document.first;
      outcomes.push_back(std::move(o));
    }
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
  nlohmann::json manifest = {{"author", author}, {"documents", documents}, {"failures", failures}};
  if (!sources.empty()) {
    // Not the counts (metrics): an unchanged source gives an unchanged manifest.
    nlohmann::json listed_sources = nlohmann::json::array();
    for (const SourceResult& r : sources) {
      nlohmann::json j = {{"kind", r.kind}, {"url", r.url}};
      if (r.status == "failed" || r.status == "truncated") {
        j["status"] = r.status;
        j["reason"] = r.reason;
      }
      listed_sources.push_back(std::move(j));
    }
    manifest["sources"] = std::move(listed_sources);
  }
  return manifest;
}

}  // namespace

int run_crawl_step(StepEnvironment& env) {
  StepParams params(env.context.params, "crawl");
  CrawlSettings settings = read_crawl_settings(params);
  const std::string author = settings.author;
  const double max_failure_ratio = settings.max_failure_ratio;

  const auto started = std::chrono::steady_clock::now();
  std::vector<SourceResult> sources = discover(env, settings);
  const size_t links = settings.links.size();
  const CrawlSettings kept = settings;
  Crawler crawler(env, std::move(settings));
  std::vector<Outcome> outcomes = crawler.crawl();
  finish_sources(env, kept, sources, outcomes);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::map<std::string, int64_t> counts;
  for (const Outcome& o : outcomes) {
    ++counts[o.status];
    if (o.status == "failed") std::cerr << "crawl: " << o.url << ": " << o.reason << "\n";
  }
  std::vector<int64_t> source_ids;
  for (const SourceResult& r : sources) source_ids.push_back(r.source_id);
  nlohmann::json manifest =
      manifest_of(author, outcomes, sources,
                  sources.empty() ? std::map<std::string, std::pair<int64_t, std::string>>{}
                                  : env.features.source_documents(author, source_ids));
  write_file_atomically(env.context.output_path("documents"), manifest.dump(2));
  env.report.output_metadata("documents", {{"author", author},
                                           {"documents", manifest["documents"].size()},
                                           {"failures", manifest["failures"].size()}});
  nlohmann::json metrics = {{"links", links},
                            {"pages_new", counts["new"]},
                            {"pages_changed", counts["changed"]},
                            {"pages_unchanged", counts["unchanged"]},
                            {"pages_not_modified", counts["not_modified"]},
                            {"links_failed", counts["failed"]},
                            {"repository_files_new", crawler.repository_files("new")},
                            {"repository_files_changed", crawler.repository_files("changed")},
                            {"repository_files_unchanged", crawler.repository_files("unchanged")},
                            {"repository_files_skipped", crawler.repository_files_skipped()},
                            {"crawl_seconds", seconds}};
  int64_t sources_failed = 0;
  if (!sources.empty()) {
    int64_t discovered = 0, discovered_new = 0, discovered_changed = 0, truncated = 0;
    for (const SourceResult& r : sources) {
      discovered += r.discovered;
      discovered_new += r.discovered_new;
      discovered_changed += r.discovered_changed;
      sources_failed += r.status == "failed";
      truncated += r.status == "truncated";
      // Per source: "discovered_new:<kind>:<url>".
      const std::string name = r.kind + ":" + r.url;
      metrics["discovered:" + name] = r.discovered;
      metrics["discovered_new:" + name] = r.discovered_new;
    }
    metrics["sources"] = sources.size();
    metrics["sources_failed"] = sources_failed;
    metrics["sources_truncated"] = truncated;
    metrics["discovered"] = discovered;
    metrics["discovered_new"] = discovered_new;
    metrics["discovered_changed"] = discovered_changed;
  }
  env.report.metrics(metrics);
  const double failed_ratio =
      links == 0 ? 0.0 : static_cast<double>(counts["failed"]) / static_cast<double>(links);
  if (failed_ratio > max_failure_ratio) {
    std::cerr << "crawl: " << counts["failed"] << " of " << links
              << " links failed, more than max_failure_ratio " << max_failure_ratio << "\n";
    return 1;
  }
  const double sources_failed_ratio =
      sources.empty() ? 0.0
                      : static_cast<double>(sources_failed) / static_cast<double>(sources.size());
  if (sources_failed_ratio > max_failure_ratio) {
    std::cerr << "crawl: " << sources_failed << " of " << sources.size()
              << " feeds, sitemaps and followed sources failed, more than max_failure_ratio "
              << max_failure_ratio << "\n";
    return 1;
  }
  return 0;
}

}  // namespace twinflow
