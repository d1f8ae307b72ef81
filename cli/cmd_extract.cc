// `twinflow extract FILE-or-URL`: what the HTML extractor finds on one page,
// the tool for debugging a crawler. URLs are fetched with the crawler's own
// HTTP client (robots.txt is not consulted for a single page asked by hand).
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "tasks/crawl/http_fetcher.h"
#include "tasks/extract/html_extractor.h"
#include "util/error.h"
#include "util/files.h"

namespace twinflow {
namespace {

struct ExtractArgs {
  std::string source, platform;
};

bool is_url(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0 || s.rfind("file://", 0) == 0;
}

// A local source must be a readable regular file that looks like text: a NUL
// byte in its first 8 KiB marks an image, archive or executable, which the
// extractor would turn into a page of noise.
CLI::Validator html_file_source() {
  return CLI::Validator(
      [](std::string& source) -> std::string {
        if (is_url(source)) return "";
        std::error_code ec;
        const auto status = std::filesystem::status(source, ec);
        if (ec || !std::filesystem::exists(status)) return "no such file '" + source + "'";
        if (std::filesystem::is_directory(status))
          return "'" + source + "' is a directory, not an HTML file";
        if (!std::filesystem::is_regular_file(status))
          return "'" + source + "' is not a regular file";
        std::ifstream in(source, std::ios::binary);
        if (!in) return "cannot read '" + source + "'";
        char head[8192];
        in.read(head, sizeof head);
        const std::string_view read(head, static_cast<size_t>(in.gcount()));
        if (read.find('\0') != std::string_view::npos)
          return "'" + source + "' is a binary file, not HTML";
        return "";
      },
      "FILE-or-URL");
}

std::string read_source(const std::string& source) {
  if (!is_url(source)) {
    return read_file(source);
  }
  FetchOptions options;
  options.respect_robots = false;
  options.max_retries = 1;
  HttpFetcher fetcher(options);
  FetchResult result = fetcher.fetch_all({FetchRequest{source}}).at(0);
  if (!result.ok()) throw Error("fetching " + source + ": " + result.error);
  return result.body;
}

const char* block_kind_name(Block::Kind kind) {
  switch (kind) {
    case Block::Kind::kParagraph:
      return "paragraph";
    case Block::Kind::kHeading:
      return "heading";
    case Block::Kind::kListItem:
      return "list_item";
    case Block::Kind::kCode:
      return "code";
    case Block::Kind::kQuote:
      return "quote";
  }
  return "paragraph";
}

int run_extract(AppContext& ctx, const ExtractArgs& args) {
  const std::string url = is_url(args.source) ? args.source : "";
  ExtractedPage page = extract_html(read_source(args.source), url, args.platform);
  if (ctx.json) {
    nlohmann::json blocks = nlohmann::json::array();
    for (const Block& b : page.blocks)
      blocks.push_back({{"kind", block_kind_name(b.kind)}, {"level", b.level}, {"text", b.text}});
    nlohmann::json doc = {{"title", page.title},
                          {"subtitle", page.subtitle},
                          {"author", page.author},
                          {"published", page.published},
                          {"canonical_url", page.canonical_url},
                          {"site_name", page.site_name},
                          {"language", page.language},
                          {"blocks", blocks},
                          {"text", page.body_text()}};
    std::cout << doc.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "title:         " << page.title << "\n"
            << "subtitle:      " << page.subtitle << "\n"
            << "author:        " << page.author << "\n"
            << "published:     " << page.published << "\n"
            << "canonical url: " << page.canonical_url << "\n"
            << "site:          " << page.site_name << "\n"
            << "language:      " << page.language << "\n"
            << "blocks:        " << page.blocks.size() << "\n\n"
            << page.body_text() << "\n";
  return page.blocks.empty() ? kExitFailed : kExitOk;
}

}  // namespace

void add_extract_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand("extract", "Show what the HTML extractor finds on a page");
  auto args = std::make_shared<ExtractArgs>();
  cmd->add_option("source", args->source, "An HTML file, or an http(s):// or file:// URL")
      ->required()
      ->check(html_file_source());
  cmd->add_option("--platform", args->platform, "Platform rules to apply (default: detect)")
      ->check(CLI::IsMember({"medium", "substack", "linkedin", "github", "web", ""}));
  cmd->callback([&ctx, exit_code, args] { *exit_code = run_extract(ctx, *args); });
}

}  // namespace twinflow
