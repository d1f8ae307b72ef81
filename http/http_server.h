// HttpServer: a small embeddable HTTP/1.1 server for twinflow's own needs.
//
// Test fixtures serve crawl pages and misbehaving endpoints with it, `twinflow
// serve-files` serves a directory, and the dashboard and the RAG REST API will
// sit on it. What they all need is a pure function from request to response
// (HttpHandler), with the socket work, keep-alive, limits and timeouts done
// once, here. Boost.Beast does the protocol; it stays in http_server.cc so that
// including this header costs nothing.
//
// Threading: `threads` I/O threads run every connection, each connection on
// its own strand. The handler runs on an I/O thread, so it should be quick; a
// deliberately slow answer says so with HttpResponse::delay (an asio timer, no
// thread held), and a long or live body (50 MB downloads, server-sent events)
// comes through HttpResponse::stream, one chunk at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace twinflow {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // raw, as sent: "/a%20b?x=1"
  std::string path;                            // percent-decoded, without the query: "/a b"
  std::string query;                           // raw, without '?': "x=1"
  std::map<std::string, std::string> headers;  // names in lower case; repeated ones joined by ", "
  std::string body;
  std::string remote;  // peer "address:port"

  // The header's value, or `fallback` when absent. `name` in lower case.
  const std::string& header(const std::string& name, const std::string& fallback = {}) const;
};

struct HttpResponse {
  int status = 200;
  // Sent as given (repeats allowed, e.g. Set-Cookie). Without a Content-Type,
  // a body is sent as "text/plain; charset=utf-8".
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Streaming: when set, `body` is ignored and the response is sent chunked.
  // The server calls `stream` repeatedly; it fills `next_chunk` and returns
  // false after the last one. It must not block: returning true with an empty
  // chunk means "nothing yet" (e.g. no new server-sent event), and the server
  // asks again after max(chunk_delay, 20 ms) without holding a thread.
  std::function<bool(std::string& next_chunk)> stream;
  std::chrono::milliseconds chunk_delay{0};  // pause between chunks (slow bodies)
  std::chrono::milliseconds delay{0};        // pause before sending anything (slow servers)

  HttpResponse& header(std::string name, std::string value);
  static HttpResponse text(int status, std::string body);
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  // "host:port" to listen on. Default: loopback only, an ephemeral port (see
  // HttpServer::port()). Listening on other interfaces must be asked for.
  std::string bind = "127.0.0.1:0";
  // I/O threads. At least 1.
  int threads = 2;
  // Larger request bodies get 413 and the connection is closed.
  size_t max_body_bytes = 1 << 20;
  // Request headers larger than this get 431.
  size_t max_header_bytes = 16 << 10;
  // Limit for reading one request (headers and body) and for each write; an
  // idle keep-alive connection is closed after it too.
  std::chrono::seconds read_timeout{30};

  // Host check (DNS rebinding): a request is answered only when its Host
  // names the address it arrived on, `localhost`, a loopback address
  // (127.0.0.0/8, [::1]) or one of `allowed_hosts` (names, compared without
  // case and without the port; "*" allows any Host). Otherwise 421; a
  // HTTP/1.1 request without Host, or with two, gets 400.
  bool check_host = true;
  std::vector<std::string> allowed_hosts;

  // Connection limits. One client address holds at most
  // `max_connections_per_client` connections, and the server at most
  // `max_connections` (0: its file descriptor limit less a reserve of
  // max(64, limit/8) for the database, logs and files). A new connection
  // beyond either limit closes the oldest idle one (waiting for a request)
  // of that client, or of anyone; when none is idle it gets 503 and is closed.
  int max_connections_per_client = 64;
  int max_connections = 0;
};

class HttpServer {
 public:
  explicit HttpServer(HttpHandler handler, HttpServerOptions options = {});
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads. Throws Error when the address
  // is malformed or cannot be bound. Call once.
  void start();
  // Closes the listener and every connection (responses in progress are cut
  // short) and joins the threads. Idempotent. Not from inside a handler
  // (it would join its own thread).
  void stop();

  uint16_t port() const;         // the bound port; 0 before start()
  std::string base_url() const;  // "http://127.0.0.1:PORT"
  uint64_t requests_served() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether `value` may be sent as a header field value: no control
// characters (CR, LF, NUL, the rest of C0 except HTAB, and DEL). The server
// answers 500 instead of sending a response whose header fails this.
bool is_safe_header_value(std::string_view value);

// `attachment; filename="a_b.txt"; filename*=UTF-8''a%22b.txt` (RFC 6266,
// RFC 8187): an ASCII fallback with `"`, `\`, controls and non-ASCII bytes
// replaced by '_', and the exact name percent-encoded as UTF-8.
std::string attachment_disposition(std::string_view filename);

// Whether a Content-Type names the media type application/json, with or
// without parameters ("application/json; charset=utf-8"), ignoring case:
// "application/jsonx" and "application/json-patch+json" do not.
bool is_json_content_type(std::string_view content_type);

// The Host check of HttpServerOptions::check_host: whether `host` (the Host
// header, "name[:port]" or "[v6]:port") names `local_address` (where the
// connection arrived, e.g. "127.0.0.1"), localhost, a loopback address or
// one of `allowed` (lower case; "*" allows all).
bool host_is_allowed(std::string_view host, std::string_view local_address,
                     const std::vector<std::string>& allowed);

// "a, b,,c " -> {"a", "b", "c"}: a comma-separated list, trimmed, without
// empty items (for --allowed-hosts and TWINFLOW_ALLOWED_HOSTS).
std::vector<std::string> split_host_list(std::string_view text);

// "%41+b" -> "A b" when plus_is_space (query strings), "A+b" otherwise (paths).
// A malformed escape is kept as it is.
std::string url_decode(std::string_view text, bool plus_is_space = false);
// "a=1&b=x%20y&c" -> {a: "1", b: "x y", c: ""}. A repeated key keeps its last value.
std::map<std::string, std::string> parse_query(std::string_view query);

// HTTP dates (RFC 9110 IMF-fixdate): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::chrono::system_clock::time_point time);
// Also reads the obsolete RFC 850 and asctime forms. Empty when `text` is not
// a date (callers then ignore the header, as RFC 9110 asks).
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

}  // namespace twinflow
