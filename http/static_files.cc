// static_files_handler: URL path -> safe file inside the root -> response.
//
// The check happens twice on purpose. First lexically, on the decoded URL
// path: any ".." segment is refused outright, before the file system is
// touched. Then physically: the candidate is resolved with
// weakly_canonical (following symlinks) and must still lie inside the
// canonical root, which catches a symlink that points outside.
#include "http/static_files.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>

#include "util/error.h"

namespace twinflow {

namespace fs = std::filesystem;

namespace {

// What the handler decided to serve, or the status explaining why not.
struct Resolved {
  int status = 200;
  fs::path file;
  std::string redirect_to;  // status 301

  static Resolved found(fs::path file) { return Resolved{200, std::move(file), {}}; }
  static Resolved refused(int status) { return Resolved{status, {}, {}}; }
  static Resolved redirect(std::string to) { return Resolved{301, {}, std::move(to)}; }
};

std::optional<fs::path> relative_path_from_url(const std::string& url_path) {
  if (url_path.empty() || url_path.front() != '/') return std::nullopt;
  if (url_path.find('\0') != std::string::npos || url_path.find('\\') != std::string::npos) {
    return std::nullopt;
  }
  fs::path relative;
  std::istringstream segments(url_path);
  std::string segment;
  while (std::getline(segments, segment, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") return std::nullopt;
    relative /= segment;
  }
  return relative;
}

bool is_inside(const fs::path& candidate, const fs::path& root) {
  auto c = candidate.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++c) {
    if (c == candidate.end() || *c != *r) return false;
  }
  return true;
}

class StaticFiles {
 public:
  explicit StaticFiles(fs::path root) : root_(canonical_root(root)) {}

  HttpResponse operator()(const HttpRequest& request) const {
    if (request.method != "GET" && request.method != "HEAD") {
      return HttpResponse::text(405, "only GET and HEAD are allowed\n")
          .header("Allow", "GET, HEAD");
    }
    const Resolved resolved = resolve(request.path);
    if (resolved.status == 301) {
      return HttpResponse::text(301, "").header("Location", resolved.redirect_to);
    }
    if (resolved.status != 200) return HttpResponse::text(resolved.status, status_text(resolved));
    return serve(resolved.file, request);
  }

 private:
  static fs::path canonical_root(const fs::path& root) {
    std::error_code ec;
    fs::path canonical = fs::canonical(root, ec);
    if (ec || !fs::is_directory(canonical)) {
      throw Error("static files: root '" + root.string() + "' is not a directory");
    }
    return canonical;
  }

  static std::string status_text(const Resolved& resolved) {
    return resolved.status == 403 ? "forbidden\n" : "not found\n";
  }

  Resolved resolve(const std::string& url_path) const {
    const std::optional<fs::path> relative = relative_path_from_url(url_path);
    if (!relative) return Resolved::refused(403);
    std::error_code ec;
    fs::path candidate = fs::weakly_canonical(root_ / *relative, ec);
    if (ec) return Resolved::refused(404);
    if (!is_inside(candidate, root_)) return Resolved::refused(403);
    const fs::file_status status = fs::status(candidate, ec);
    if (ec || !fs::exists(status)) return Resolved::refused(404);
    if (fs::is_directory(status)) {
      if (url_path.back() != '/') return Resolved::redirect(url_path + "/");
      candidate /= "index.html";
      if (!fs::is_regular_file(candidate, ec)) return Resolved::refused(404);
    }
    if (!fs::is_regular_file(candidate, ec)) return Resolved::refused(403);
    return Resolved::found(candidate);
  }

  static HttpResponse serve(const fs::path& file, const HttpRequest& request) {
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0) return HttpResponse::text(404, "not found\n");
    const std::string etag = etag_of(info);
    const auto modified = std::chrono::system_clock::from_time_t(info.st_mtim.tv_sec);
    HttpResponse response;
    response.header("ETag", etag).header("Last-Modified", format_http_date(modified));
    response.header("Cache-Control", "no-cache");  // always revalidate: validators make it cheap
    if (not_modified(request, etag, modified)) {
      response.status = 304;
      return response;
    }
    response.header("Content-Type", content_type_for(file));
    if (!read_file(file, response.body)) return HttpResponse::text(403, "forbidden\n");
    return response;
  }

  // Size and modification time (to the nanosecond) identify a version well
  // enough, and cost a stat() instead of reading the file.
  static std::string etag_of(const struct stat& info) {
    char text[64];
    std::snprintf(text, sizeof text, "\"%llx-%llx.%lx\"",
                  static_cast<unsigned long long>(info.st_size),
                  static_cast<unsigned long long>(info.st_mtim.tv_sec),
                  static_cast<long>(info.st_mtim.tv_nsec));
    return text;
  }

  // RFC 9110 13.2.2: If-None-Match wins over If-Modified-Since.
  static bool not_modified(const HttpRequest& request, const std::string& etag,
                           std::chrono::system_clock::time_point modified) {
    const auto none_match = request.headers.find("if-none-match");
    if (none_match != request.headers.end()) return etag_matches(none_match->second, etag);
    const auto since = request.headers.find("if-modified-since");
    if (since == request.headers.end()) return false;
    const auto since_time = parse_http_date(since->second);
    return since_time && modified <= *since_time;
  }

  // Weak comparison, as If-None-Match asks: W/"x" matches "x".
  static bool etag_matches(const std::string& list, const std::string& etag) {
    std::istringstream items(list);
    std::string item;
    while (std::getline(items, item, ',')) {
      const size_t begin = item.find_first_not_of(" \t");
      if (begin == std::string::npos) continue;
      item = item.substr(begin, item.find_last_not_of(" \t") + 1 - begin);
      if (item.rfind("W/", 0) == 0) item = item.substr(2);
      if (item == "*" || item == etag) return true;
    }
    return false;
  }

  static bool read_file(const fs::path& file, std::string& body) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return false;
    std::ostringstream content;
    content << in.rdbuf();
    body = std::move(content).str();
    return true;
  }

  fs::path root_;
};

}  // namespace

std::string content_type_for(const fs::path& file) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/markdown; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".xml", "application/xml"},
      {".pdf", "application/pdf"},
  };
  std::string extension = file.extension().string();
  for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto it = kTypes.find(extension);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

HttpHandler static_files_handler(fs::path root) {
  return StaticFiles(std::move(root));
}

}  // namespace twinflow
