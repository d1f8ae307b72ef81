// Dashboard: routing, the action guard, the compiled-in assets, and request
// argument parsing (see dashboard.h). The handlers are in dashboard_reads.cc
// and dashboard_actions.cc.
#include "web/dashboard.h"

#include <openssl/crypto.h>
#include <strings.h>

#include <charconv>

#include "http/static_files.h"
#include "util/error.h"
#include "web/dashboard_impl.h"
#include "web/embedded_assets.h"

namespace twinflow {

HttpResponse json_response(int status, const nlohmann::json& body) {
  // Invalid UTF-8 in crawled text is replaced rather than failing the page.
  return json_text_response(status,
                            body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

HttpResponse json_text_response(int status, const std::string& text) {
  // <, > and & only occur inside JSON strings; escaped, no markup crawled from
  // a page survives in the body even if something renders it as HTML.
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    if (c == '<')
      escaped += "\\u003c";
    else if (c == '>')
      escaped += "\\u003e";
    else if (c == '&')
      escaped += "\\u0026";
    else
      escaped += c;
  }
  return json_escaped_response(status, std::move(escaped));
}

HttpResponse json_escaped_response(int status, std::string escaped) {
  return HttpResponse::text(status, std::move(escaped))
      .header("Content-Type", "application/json")
      .header("Cache-Control", "no-store");
}

int64_t parse_id(const std::string& text, const char* what) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0)
    throw ApiError{
        400, std::string(what) + " must be a positive integer, not '" + text.substr(0, 40) + "'"};
  return value;
}

QueryArgs::QueryArgs(const HttpRequest& request) : values_(parse_query(request.query)) {}

std::string QueryArgs::text(const std::string& name, size_t max_length) const {
  auto it = values_.find(name);
  if (it == values_.end()) return "";
  if (it->second.size() > max_length)
    throw ApiError{
        400, "parameter '" + name + "' is longer than " + std::to_string(max_length) + " bytes"};
  return it->second;
}

int64_t QueryArgs::integer(const std::string& name, int64_t fallback, int64_t min,
                           int64_t max) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return fallback;
  int64_t value = 0;
  const std::string& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value < min || value > max)
    throw ApiError{400, "parameter '" + name + "' must be an integer in " + std::to_string(min) +
                            ".." + std::to_string(max)};
  return value;
}

std::string QueryArgs::choice(const std::string& name,
                              const std::vector<std::string>& allowed) const {
  const std::string value = text(name);
  if (value.empty()) return value;
  for (const auto& a : allowed)
    if (a == value) return value;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  throw ApiError{400, "parameter '" + name + "' must be one of: " + list};
}

namespace {

using Handler = HttpResponse (Dashboard::Impl::*)(DashboardSession&, const HttpRequest&,
                                                  const PathParams&);

struct Route {
  const char* method;
  const char* pattern;  // segments; ":x" captures one, a final "*" the rest
  Handler handler;
};

using I = Dashboard::Impl;
const Route kRoutes[] = {
    {"GET", "/api/v1/info", &I::info},
    {"GET", "/api/v1/runs", &I::runs},
    {"GET", "/api/v1/runs/:id", &I::run},
    {"GET", "/api/v1/runs/:id/graph.svg", &I::run_graph},
    {"GET", "/api/v1/runs/:id/metrics", &I::run_metrics},
    {"GET", "/api/v1/runs/:id/steps/:step/log", &I::step_log},
    {"GET", "/api/v1/runs/:id/steps/:step/log/raw", &I::step_log_raw},
    {"POST", "/api/v1/runs/:id/rerun", &I::rerun},
    {"POST", "/api/v1/runs/:id/cancel", &I::cancel},
    {"GET", "/api/v1/metrics", &I::compare_metrics},
    {"GET", "/api/v1/pipelines", &I::pipelines},
    {"POST", "/api/v1/pipelines/:name/trigger", &I::trigger},
    {"GET", "/api/v1/artifacts", &I::artifacts},
    {"GET", "/api/v1/artifacts/:name/versions", &I::artifact_versions},
    {"GET", "/api/v1/artifacts/:name/versions/:version", &I::artifact_version},
    {"GET", "/api/v1/artifacts/:name/versions/:version/files/*", &I::artifact_file},
    {"GET", "/api/v1/lineage/:id", &I::lineage},
    {"GET", "/api/v1/lineage/:id/graph.svg", &I::lineage_graph},
    {"GET", "/api/v1/models", &I::models},
    {"GET", "/api/v1/models/:name", &I::model},
    {"POST", "/api/v1/models/:name/promote", &I::promote},
    {"POST", "/api/v1/models/:name/rollback", &I::rollback},
    {"GET", "/api/v1/schedules", &I::schedules},
    {"GET", "/api/v1/prompts", &I::prompts},
    {"GET", "/api/v1/search", &I::search},
    {"GET", "/api/v1/documents", &I::documents},
    {"GET", "/api/v1/documents/:id", &I::document},
    {"GET", "/metrics", &I::prometheus},
};

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// The captures when `path` matches `pattern`.
std::optional<PathParams> match(const std::vector<std::string>& pattern,
                                const std::vector<std::string>& path, const std::string& raw) {
  PathParams params;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == "*") {
      // The rest, as one relative path (slashes kept).
      size_t offset = 0;
      for (size_t k = 0; k < i; ++k) offset += 1 + path[k].size();
      if (i >= path.size()) return std::nullopt;
      params.push_back(raw.substr(offset + 1));
      return params;
    }
    if (i >= path.size()) return std::nullopt;
    if (pattern[i].starts_with(':')) {
      if (path[i].empty()) return std::nullopt;
      params.push_back(path[i]);
    } else if (pattern[i] != path[i]) {
      return std::nullopt;
    }
  }
  if (pattern.size() != path.size()) return std::nullopt;
  return params;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The security headers every answer carries: no inline script, no framing, no
// content sniffing.
HttpResponse with_security_headers(HttpResponse response) {
  response.header("X-Content-Type-Options", "nosniff")
      .header("X-Frame-Options", "DENY")
      .header("Referrer-Policy", "no-referrer")
      .header("Content-Security-Policy",
              "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'");
  return response;
}

// A download's `attachment; filename="NAME"` with NAME as it is on disk (a
// handler's shorthand) re-encoded per RFC 6266: a quote, CR LF or non-ASCII
// byte in a file name can then neither end the parameter nor split the header.
HttpResponse with_encoded_disposition(HttpResponse response) {
  static const std::string kRaw = "attachment; filename=\"";
  for (auto& [name, value] : response.headers) {
    if (strcasecmp(name.c_str(), "content-disposition") != 0 || !value.starts_with(kRaw) ||
        value.size() <= kRaw.size() || value.back() != '"')
      continue;
    value = attachment_disposition(value.substr(kRaw.size(), value.size() - kRaw.size() - 1));
  }
  return response;
}

}  // namespace

Dashboard::Dashboard(DashboardOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

Dashboard::~Dashboard() = default;

HttpResponse Dashboard::handle(const HttpRequest& request) {
  try {
    return with_security_headers(with_encoded_disposition(impl_->route(request)));
  } catch (const ApiError& e) {
    return with_security_headers(json_response(e.status, {{"error", e.message}}));
  } catch (const std::exception& e) {
    if (!is_connection_loss(e))
      return with_security_headers(json_response(500, {{"error", std::string(e.what())}}));
    impl_->outages.report(e);
    return with_security_headers(json_response(503, {{"error", kDatabaseUnavailable}})
                                     .header("Retry-After", std::to_string(kRetryAfterSeconds)));
  }
}

HttpResponse Dashboard::Impl::route(const HttpRequest& request) {
  if (!request.path.starts_with("/api/") && request.path != "/metrics") return asset(request);
  // The patterns' segments, split once.
  static const std::vector<std::vector<std::string>> patterns = [] {
    std::vector<std::vector<std::string>> out;
    for (const Route& r : kRoutes) out.push_back(split_path(r.pattern));
    return out;
  }();
  const auto path = split_path(request.path);
  bool path_known = false;
  for (size_t i = 0; i < std::size(kRoutes); ++i) {
    const Route& r = kRoutes[i];
    auto params = match(patterns[i], path, request.path);
    if (!params) continue;
    path_known = true;
    const bool head = request.method == "HEAD" && std::string(r.method) == "GET";
    if (request.method != r.method && !head) continue;
    if (std::string(r.method) == "POST")
      if (auto refusal = refuse_mutation(request)) return *refusal;
    Handler handler = r.handler;
    const std::string key = request.header("idempotency-key");
    return with_session([&](DashboardSession& s) {
      auto action = [&] { return (this->*handler)(s, request, *params); };
      if (std::string(r.method) == "POST" && !key.empty())
        return idempotent(s, request, key, action);
      return action();
    });
  }
  if (path_known) return json_response(405, {{"error", "method not allowed"}});
  return json_response(404, {{"error", "no such API route: " + request.path.substr(0, 200)}});
}

std::optional<HttpResponse> Dashboard::Impl::refuse_mutation(const HttpRequest& request) const {
  if (options.token.empty())
    return json_response(403, {{"error",
                                "the dashboard is read-only: start `twinflow web` with "
                                "TWINFLOW_WEB_TOKEN set to allow actions"}});
  const std::string auth = request.header("authorization");
  const std::string prefix = "Bearer ";
  if (!auth.starts_with(prefix) || !constant_time_equal(auth.substr(prefix.size()), options.token))
    return json_response(403, {{"error",
                                "this action needs the dashboard token "
                                "(Authorization: Bearer TOKEN)"}});
  const std::string fetch_site = request.header("sec-fetch-site");
  if (!fetch_site.empty() && fetch_site != "same-origin" && fetch_site != "none")
    return json_response(403, {{"error", "cross-site request refused"}});
  const std::string origin = request.header("origin");
  if (!origin.empty() && origin != "http://" + request.header("host"))
    return json_response(403, {{"error", "cross-origin request refused"}});
  if (!is_json_content_type(request.header("content-type")))
    return json_response(415, {{"error", "send the action's body as application/json"}});
  return std::nullopt;
}

HttpResponse Dashboard::Impl::asset(const HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD")
    return json_response(405, {{"error", "method not allowed"}});
  std::string wanted = request.path == "/" ? "index.html" : request.path.substr(1);
  if (wanted.starts_with("assets/")) wanted = wanted.substr(7);
  for (const EmbeddedAsset& a : embedded_web_assets()) {
    if (a.path != wanted) continue;
    HttpResponse response = HttpResponse::text(200, std::string(a.content));
    response.header("Content-Type", content_type_for(std::string(a.path)));
    response.header("Cache-Control", "no-cache");
    return response;
  }
  return HttpResponse::text(404, "not found\n");
}

}  // namespace twinflow
