// Tests of HttpServer and static_files_handler: real requests over loopback
// with libcurl, so the server is seen exactly as the crawler and browsers see it.
#include "http/http_server.h"
#include "tests/support/raw_http.h"
#include "tests/support/scratch_dir.h"

#include <curl/curl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "http/static_files.h"
#include "util/error.h"

namespace twinflow {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Reply {
  long status = 0;
  std::string body;
  size_t body_bytes = 0;                       // counted even when not kept
  std::map<std::string, std::string> headers;  // lower-case names
  long new_connections = 0;                    // 0: an existing connection was reused

  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A minimal blocking client; one instance keeps its connection alive between calls.
class Client {
 public:
  Client() : curl_(curl_easy_init()) {}
  ~Client() { curl_easy_cleanup(curl_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Set keep_body=false for huge bodies: only their size is counted.
  Reply request(const std::string& url, const std::vector<std::string>& headers = {},
                const std::string* post_body = nullptr, bool keep_body = true) {
    Reply reply;
    BodySink sink{&reply, keep_body};
    curl_slist* header_list = nullptr;
    for (const std::string& header : headers)
      header_list = curl_slist_append(header_list, header.c_str());
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, header_list);
    curl_easy_setopt(curl_, CURLOPT_PATH_AS_IS, 1L);  // send "/../" as written
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Client::on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &Client::on_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &reply);
    if (post_body) {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, post_body->data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(post_body->size()));
    } else {
      curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    }
    const CURLcode code = curl_easy_perform(curl_);
    curl_slist_free_all(header_list);
    if (code != CURLE_OK) throw Error(std::string("request failed: ") + curl_easy_strerror(code));
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &reply.new_connections);
    return reply;
  }

 private:
  struct BodySink {
    Reply* reply;
    bool keep;
  };

  static size_t on_body(char* data, size_t, size_t size, void* user) {
    auto* sink = static_cast<BodySink*>(user);
    sink->reply->body_bytes += size;
    if (sink->keep) sink->reply->body.append(data, size);
    return size;
  }

  static size_t on_header(char* data, size_t, size_t size, void* user) {
    const std::string line(data, size);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const size_t begin = line.find_first_not_of(' ', colon + 1);
      const size_t end = line.find_last_not_of("\r\n");
      static_cast<Reply*>(user)->headers[name] =
          begin == std::string::npos || end < begin ? "" : line.substr(begin, end + 1 - begin);
    }
    return size;
  }

  CURL* curl_;
};

Reply get(const std::string& url, const std::vector<std::string>& headers = {}) {
  return Client().request(url, headers);
}

// A started server around `handler`.
std::unique_ptr<HttpServer> serve(HttpHandler handler, HttpServerOptions options = {}) {
  auto server = std::make_unique<HttpServer>(std::move(handler), std::move(options));
  server->start();
  return server;
}

TEST(HttpServer, PassesRequestPartsToTheHandler) {
  HttpRequest seen;
  auto server = serve([&](const HttpRequest& request) {
    seen = request;
    return HttpResponse::text(200, "hello").header("X-Test", "yes");
  });
  const Reply reply = get(server->base_url() + "/a%20b/c?x=1&y=two%20words", {"X-Custom: Value"});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "hello");
  EXPECT_EQ(reply.header("x-test"), "yes");
  EXPECT_EQ(reply.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/a%20b/c?x=1&y=two%20words");
  EXPECT_EQ(seen.path, "/a b/c");
  EXPECT_EQ(seen.query, "x=1&y=two%20words");
  EXPECT_EQ(seen.header("x-custom"), "Value");
  EXPECT_EQ(seen.remote.rfind("127.0.0.1:", 0), 0u) << seen.remote;
  EXPECT_EQ(server->requests_served(), 1u);
}

TEST(HttpServer, HandlerStatusReachesTheClient) {
  auto server = serve([](const HttpRequest&) { return HttpResponse::text(404, "no such page\n"); });
  const Reply reply = get(server->base_url() + "/missing");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.body, "no such page\n");
}

TEST(HttpServer, BindsLoopbackOnAnEphemeralPort) {
  HttpServer server([](const HttpRequest&) { return HttpResponse::text(200, "x"); });
  EXPECT_EQ(server.port(), 0);
  server.start();
  EXPECT_NE(server.port(), 0);
  EXPECT_EQ(server.base_url(), "http://127.0.0.1:" + std::to_string(server.port()));
}

TEST(HttpServer, RefusesAnAddressItCannotBind) {
  HttpServer first([](const HttpRequest&) { return HttpResponse::text(200, "x"); });
  first.start();
  HttpServerOptions options;
  options.bind = "127.0.0.1:" + std::to_string(first.port());
  HttpServer second([](const HttpRequest&) { return HttpResponse::text(200, "x"); }, options);
  EXPECT_THROW(second.start(), Error);
  options.bind = "no-port-here";
  HttpServer third([](const HttpRequest&) { return HttpResponse::text(200, "x"); }, options);
  EXPECT_THROW(third.start(), Error);
}

TEST(HttpServer, KeepsTheConnectionAlive) {
  std::vector<std::string> remotes;
  std::mutex mutex;
  auto server = serve([&](const HttpRequest& request) {
    std::lock_guard lock(mutex);
    remotes.push_back(request.remote);
    return HttpResponse::text(200, "ok");
  });
  Client client;
  EXPECT_EQ(client.request(server->base_url() + "/1").new_connections, 1);
  EXPECT_EQ(client.request(server->base_url() + "/2").new_connections, 0);
  EXPECT_EQ(client.request(server->base_url() + "/3").new_connections, 0);
  ASSERT_EQ(remotes.size(), 3u);
  EXPECT_EQ(remotes[0], remotes[2]);
}

TEST(HttpServer, RejectsAnOversizedBodyWith413) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  auto server = serve(
      [](const HttpRequest& request) {
        return HttpResponse::text(200, std::to_string(request.body.size()));
      },
      options);
  const std::string small(1000, 'a');
  const std::string large(5000, 'b');
  EXPECT_EQ(Client().request(server->base_url() + "/upload", {}, &small).body, "1000");
  EXPECT_EQ(Client().request(server->base_url() + "/upload", {}, &large).status, 413);
  // Without "Expect: 100-continue" the client sends everything at once: the
  // server must still get its 413 across before closing.
  const std::string huge(8 << 20, 'c');
  EXPECT_EQ(Client().request(server->base_url() + "/upload", {"Expect:"}, &huge).status, 413);
  EXPECT_EQ(Client().request(server->base_url() + "/upload", {}, &small).status, 200);
}

TEST(HttpServer, ReadsABodySentAfter100Continue) {
  HttpServerOptions options;
  options.max_body_bytes = 4 << 20;
  auto server = serve(
      [](const HttpRequest& request) {
        return HttpResponse::text(200, std::to_string(request.body.size()));
      },
      options);
  const std::string body(2 << 20, 'x');
  const Reply reply =
      Client().request(server->base_url() + "/upload", {"Expect: 100-continue"}, &body);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, std::to_string(body.size()));
}

TEST(HttpServer, HandlerExceptionBecomes500AndServingGoesOn) {
  auto server = serve([](const HttpRequest& request) -> HttpResponse {
    if (request.path == "/throw") throw std::runtime_error("the handler broke");
    return HttpResponse::text(200, "fine");
  });
  const Reply failed = get(server->base_url() + "/throw");
  EXPECT_EQ(failed.status, 500);
  EXPECT_NE(failed.body.find("the handler broke"), std::string::npos);
  EXPECT_EQ(get(server->base_url() + "/ok").body, "fine");
}

TEST(HttpServer, DelayedResponseDoesNotBlockOtherConnections) {
  std::promise<void> slow_arrived;
  HttpServerOptions options;
  options.threads = 1;  // a sleeping handler would stall everything
  auto server = serve(
      [&](const HttpRequest& request) {
        HttpResponse response = HttpResponse::text(200, request.path);
        if (request.path == "/slow") {
          response.delay = 2s;
          slow_arrived.set_value();
        }
        return response;
      },
      options);
  std::atomic<bool> slow_done{false};
  std::thread slow_client([&] {
    EXPECT_EQ(get(server->base_url() + "/slow").body, "/slow");
    slow_done = true;
  });
  slow_arrived.get_future().wait();
  EXPECT_EQ(get(server->base_url() + "/fast").body, "/fast");
  EXPECT_FALSE(slow_done) << "the fast request waited for the slow one";
  slow_client.join();
  EXPECT_TRUE(slow_done);
}

TEST(HttpServer, StreamsFiftyMegabytesChunked) {
  constexpr size_t kChunk = 64 << 10;
  constexpr size_t kChunks = 800;  // 52,428,800 bytes
  auto server = serve([](const HttpRequest&) {
    HttpResponse response;
    response.header("Content-Type", "application/octet-stream");
    auto sent = std::make_shared<size_t>(0);
    response.stream = [sent](std::string& chunk) {
      chunk.assign(kChunk, static_cast<char>('a' + *sent % 26));
      return ++*sent < kChunks;
    };
    return response;
  });
  const Reply reply = Client().request(server->base_url() + "/big", {}, nullptr, false);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("transfer-encoding"), "chunked");
  EXPECT_EQ(reply.body_bytes, kChunk * kChunks);
}

TEST(HttpServer, StreamThatHasNothingYetIsAskedAgain) {
  auto server = serve([](const HttpRequest&) {
    HttpResponse response;
    response.header("Content-Type", "text/event-stream");
    auto calls = std::make_shared<int>(0);
    response.stream = [calls](std::string& chunk) {
      ++*calls;
      if (*calls < 4) return true;  // nothing yet
      chunk = "data: event " + std::to_string(*calls) + "\n\n";
      return *calls < 6;
    };
    return response;
  });
  const Reply reply = get(server->base_url() + "/events");
  EXPECT_EQ(reply.header("content-type"), "text/event-stream");
  EXPECT_EQ(reply.body, "data: event 4\n\ndata: event 5\n\ndata: event 6\n\n");
}

TEST(HttpServer, ThrowingStreamTruncatesTheResponse) {
  auto server = serve([](const HttpRequest&) {
    HttpResponse response;
    auto calls = std::make_shared<int>(0);
    response.stream = [calls](std::string& chunk) -> bool {
      if (++*calls > 1) throw std::runtime_error("stream broke");
      chunk = "first";
      return true;
    };
    return response;
  });
  EXPECT_THROW(get(server->base_url() + "/broken"), Error);  // curl sees a cut chunked body
  EXPECT_EQ(server->requests_served(), 1u);
}

TEST(HttpServer, StopClosesTheServer) {
  auto server = serve([](const HttpRequest&) { return HttpResponse::text(200, "x"); });
  const std::string url = server->base_url() + "/";
  EXPECT_EQ(get(url).status, 200);
  server->stop();
  EXPECT_THROW(get(url), Error);
}

TEST(UrlDecode, DecodesEscapesAndKeepsMalformedOnes) {
  EXPECT_EQ(url_decode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(url_decode("a+b"), "a+b");
  EXPECT_EQ(url_decode("a+b", true), "a b");
  EXPECT_EQ(url_decode("100%"), "100%");
  EXPECT_EQ(url_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(url_decode("%2e%2E"), "..");
}

TEST(ParseQuery, SplitsAndDecodesPairs) {
  const auto query = parse_query("a=1&b=x%20y&c&&d=e+f&a=2");
  EXPECT_EQ(query.size(), 4u);
  EXPECT_EQ(query.at("a"), "2");
  EXPECT_EQ(query.at("b"), "x y");
  EXPECT_EQ(query.at("c"), "");
  EXPECT_EQ(query.at("d"), "e f");
}

TEST(HttpDate, FormatsAndParsesAllThreeForms) {
  const auto time = std::chrono::system_clock::from_time_t(784111777);
  EXPECT_EQ(format_http_date(time), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), time);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), time);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), time);
  EXPECT_FALSE(parse_http_date("yesterday").has_value());
  EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT").has_value());
}

class StaticFilesTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_.write("site/index.html", "<h1>home</h1>");
    dir_.write("site/style.css", "body{}");
    dir_.write("site/app.js", "let x;");
    dir_.write("site/data.json", "{}");
    dir_.write("site/docs/index.html", "<h1>docs</h1>");
    dir_.write("site/empty/readme.txt", "no index here");
    dir_.write("secret.txt", "TOP SECRET");
    fs::create_symlink(dir_.path() / "secret.txt", dir_.path() / "site" / "escape.txt");
    fs::create_symlink(dir_.path() / "site" / "style.css", dir_.path() / "site" / "alias.css");
    server_ = serve(static_files_handler(dir_.path() / "site"));
  }

  std::string url(const std::string& path) const { return server_->base_url() + path; }

  ScratchDir dir_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(StaticFilesTest, ServesFilesWithTheirContentTypes) {
  const Reply css = get(url("/style.css"));
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.body, "body{}");
  EXPECT_EQ(css.header("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(get(url("/app.js")).header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(get(url("/data.json")).header("content-type"), "application/json");
  EXPECT_EQ(get(url("/empty/readme.txt")).header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(get(url("/alias.css")).body, "body{}");  // a symlink inside the root is fine
  EXPECT_EQ(content_type_for("logo.SVG"), "image/svg+xml");
  EXPECT_EQ(content_type_for("logo.png"), "image/png");
  EXPECT_EQ(content_type_for("blob.bin"), "application/octet-stream");
}

TEST_F(StaticFilesTest, ServesIndexHtmlForDirectories) {
  const Reply home = get(url("/"));
  EXPECT_EQ(home.body, "<h1>home</h1>");
  EXPECT_EQ(home.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(get(url("/docs/")).body, "<h1>docs</h1>");
  const Reply redirect = get(url("/docs"));
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(redirect.header("location"), "/docs/");
  EXPECT_EQ(get(url("/empty/")).status, 404);
  EXPECT_EQ(get(url("/nothing.html")).status, 404);
}

TEST_F(StaticFilesTest, RejectsPathsOutsideTheRoot) {
  for (const char* path : {"/../secret.txt", "/%2e%2e/secret.txt", "/docs/%2E%2E/%2e%2e/secret.txt",
                           "/docs/..%2fsecret.txt", "/..%2f..%2f..%2fetc/passwd", "/escape.txt",
                           "/a%00b", "/..\\secret.txt"}) {
    const Reply reply = get(url(path));
    EXPECT_TRUE(reply.status == 403 || reply.status == 404) << path << " -> " << reply.status;
    EXPECT_EQ(reply.body.find("TOP SECRET"), std::string::npos) << path;
  }
  EXPECT_EQ(get(url("/escape.txt")).status, 403);
  EXPECT_EQ(get(url("//etc/passwd")).status, 404);  // stays inside the root
}

TEST_F(StaticFilesTest, AllowsOnlyGetAndHead) {
  const std::string body = "x";
  const Reply post = Client().request(url("/style.css"), {}, &body);
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow"), "GET, HEAD");
}

TEST_F(StaticFilesTest, AnswersIfNoneMatchWith304) {
  const Reply first = get(url("/style.css"));
  const std::string etag = first.header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(etag.front(), '"');  // strong
  const Reply again = get(url("/style.css"), {"If-None-Match: " + etag});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(get(url("/style.css"), {"If-None-Match: \"other\", " + etag}).status, 304);
  EXPECT_EQ(get(url("/style.css"), {"If-None-Match: \"other\""}).status, 200);

  // A changed file gets a new ETag.
  std::this_thread::sleep_for(10ms);
  dir_.write("site/style.css", "body{color:red}");
  const Reply changed = get(url("/style.css"), {"If-None-Match: " + etag});
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.body, "body{color:red}");
  EXPECT_NE(changed.header("etag"), etag);
}

TEST_F(StaticFilesTest, AnswersIfModifiedSinceWith304) {
  const Reply first = get(url("/index.html"));
  const std::string last_modified = first.header("last-modified");
  ASSERT_TRUE(parse_http_date(last_modified).has_value()) << last_modified;
  EXPECT_EQ(get(url("/index.html"), {"If-Modified-Since: " + last_modified}).status, 304);
  EXPECT_EQ(get(url("/index.html"), {"If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT"}).status,
            200);
  EXPECT_EQ(get(url("/index.html"), {"If-Modified-Since: garbage"}).status, 200);
}

TEST(StaticFiles, RefusesARootThatIsNotADirectory) {
  EXPECT_THROW(static_files_handler("/nonexistent/twinflow/root"), Error);
}

}  // namespace
}  // namespace twinflow

// ---- Issue 17: hostile requests and unsafe responses (raw sockets) ----

namespace twinflow {
namespace {

HttpResponse echo_path(const HttpRequest& request) {
  return HttpResponse::text(200, request.method + " " + request.path + " [" + request.body + "]");
}

TEST(HttpServerGuards, AControlCharacterInAResponseHeaderBecomes500) {
  for (const std::string& value :
       {std::string("x\r\nSet-Cookie: pwned=1"), std::string("a\nb"), std::string("a\rb"),
        std::string("nul\0here", 8), std::string("del\x7f"), std::string("bell\x07")}) {
    auto server = serve([&](const HttpRequest&) {
      return HttpResponse::text(200, "body\n").header("X-Name", value);
    });
    bool closed = false;
    const std::string reply = raw_exchange(
        server->port(), "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", &closed);
    EXPECT_EQ(raw_status(reply), 500) << reply;
    EXPECT_EQ(reply.find("Set-Cookie"), std::string::npos) << reply;
    EXPECT_EQ(reply.find("X-Name"), std::string::npos) << reply;
  }
  // A tab is allowed in a value; a name with a space is not a name.
  auto server = serve([](const HttpRequest& r) {
    return HttpResponse::text(200, "ok\n").header(r.path == "/tab" ? "X-Tab" : "X Bad", "a\tb");
  });
  EXPECT_EQ(get(server->base_url() + "/tab").header("x-tab"), "a\tb");
  EXPECT_EQ(get(server->base_url() + "/name").status, 500);
}

TEST(HttpServerGuards, AttachmentDispositionEncodesAnyName) {
  EXPECT_EQ(attachment_disposition("a.txt"),
            "attachment; filename=\"a.txt\"; filename*=UTF-8''a.txt");
  EXPECT_EQ(attachment_disposition("x\r\nSet-Cookie: p=1"),
            "attachment; filename=\"x__Set-Cookie: p=1\"; "
            "filename*=UTF-8''x%0D%0ASet-Cookie%3A%20p%3D1");
  EXPECT_EQ(attachment_disposition("a\"b\\c%.txt"),
            "attachment; filename=\"a_b_c_.txt\"; filename*=UTF-8''a%22b%5Cc%25.txt");
  EXPECT_EQ(attachment_disposition("\xC3\xA9"),
            "attachment; filename=\"__\"; filename*=UTF-8''%C3%A9");
  EXPECT_TRUE(is_safe_header_value(attachment_disposition("\r\n\0\x7f")));
  EXPECT_EQ(attachment_disposition(""), "attachment; filename=\"download\"; filename*=UTF-8''");
}

TEST(HttpServerGuards, OnlyChunkedIsATransferCodingAndItExcludesContentLength) {
  auto server = serve(echo_path);
  const uint16_t port = server->port();
  struct Probe {
    std::string name, framing;
    int status;
  };
  const std::string second = "GET /second HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  for (const Probe& probe : std::vector<Probe>{
           {"xchunked + CL 0", "Transfer-Encoding: xchunked\r\nContent-Length: 0\r\n", 400},
           {"CL 0 + xchunked", "Content-Length: 0\r\nTransfer-Encoding: xchunked\r\n", 400},
           {"xchunked", "Transfer-Encoding: xchunked\r\n", 501},
           {"gzip", "Transfer-Encoding: gzip\r\n", 501},
           {"chunked, gzip", "Transfer-Encoding: chunked, gzip\r\n", 501},
           {"gzip, chunked", "Transfer-Encoding: gzip, chunked\r\n", 501},
           {"chunked twice", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400},
           {"chunked + CL", "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n", 400},
           {"two CL", "Content-Length: 0\r\nContent-Length: 0\r\n", 400},
           {"CL list", "Content-Length: 0, 0\r\n", 400},
           {"CL +0", "Content-Length: +0\r\n", 400},
           {"CL -1", "Content-Length: -1\r\n", 400},
       }) {
    bool closed = false;
    const std::string reply = raw_exchange(
        port, "POST /first HTTP/1.1\r\nHost: 127.0.0.1\r\n" + probe.framing + "\r\n" + second,
        &closed);
    EXPECT_EQ(raw_status(reply), probe.status) << probe.name << ":\n" << reply;
    EXPECT_EQ(raw_response_count(reply), 1) << probe.name << ":\n" << reply;
    EXPECT_EQ(reply.find("/second"), std::string::npos) << probe.name;
    EXPECT_TRUE(closed) << probe.name << ": the connection stayed open";
  }
  // Chunked itself, in any case, still works, and so does the next request.
  const std::string reply =
      raw_exchange(port,
                   "POST /a HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: "
                   "Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                   "GET /b HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(raw_response_count(reply), 2) << reply;
  EXPECT_NE(reply.find("POST /a [abc]"), std::string::npos) << reply;
  EXPECT_NE(reply.find("GET /b []"), std::string::npos) << reply;
}

TEST(HttpServerGuards, HostMustNameThisServer) {
  auto server = serve(echo_path);
  auto status_for = [&](const std::string& host_lines, const std::string& version = "1.1") {
    return raw_status(raw_exchange(server->port(), "GET / HTTP/" + version + "\r\n" + host_lines +
                                                       "Connection: close\r\n\r\n"));
  };
  const std::string port = std::to_string(server->port());
  for (const std::string& host :
       std::vector<std::string>{"127.0.0.1", "127.0.0.1:" + port, "localhost", "LOCALHOST:" + port,
                                "localhost.", "127.0.0.2:80", "[::1]", "[::1]:" + port})
    EXPECT_EQ(status_for("Host: " + host + "\r\n"), 200) << host;
  for (const std::string& host : std::vector<std::string>{
           std::string("evil.example"), "evil.example:" + port,
           std::string("127.0.0.1.evil.example"), std::string("localhost.evil.example"),
           std::string("10.1.2.3"), std::string("[::2]"), std::string("127.0.0.1:port"),
           std::string("::1"), std::string("")})
    EXPECT_EQ(status_for("Host: " + host + "\r\n"), 421) << host;
  EXPECT_EQ(status_for(""), 400);         // HTTP/1.1 without Host
  EXPECT_EQ(status_for("", "1.0"), 200);  // HTTP/1.0 may omit it
  EXPECT_EQ(status_for("Host: localhost\r\nHost: evil.example\r\n"), 400);

  HttpServerOptions options;
  options.allowed_hosts = split_host_list(" twin.lan, Dash.Example ,");
  auto allowing = serve(echo_path, options);
  auto allowed_status = [&](const std::string& host) {
    return raw_status(raw_exchange(
        allowing->port(), "GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"));
  };
  EXPECT_EQ(allowed_status("twin.lan:8080"), 200);
  EXPECT_EQ(allowed_status("dash.example"), 200);
  EXPECT_EQ(allowed_status("other.lan"), 421);
}

TEST(HttpServerGuards, JsonMediaTypeIsExact) {
  EXPECT_TRUE(is_json_content_type("application/json"));
  EXPECT_TRUE(is_json_content_type("Application/JSON ; charset=utf-8"));
  EXPECT_TRUE(is_json_content_type("application/json;charset=utf-8"));
  EXPECT_FALSE(is_json_content_type("application/jsonx"));
  EXPECT_FALSE(is_json_content_type("application/json-patch+json"));
  EXPECT_FALSE(is_json_content_type("text/plain; application/json"));
  EXPECT_FALSE(is_json_content_type(""));
}

TEST(HttpServerGuards, ManyIdleSocketsFromOneClientDoNotBlockARequest) {
  auto server = serve(echo_path);  // 64 per client by default
  std::vector<RawSocket> idle;
  for (int i = 0; i < 300; ++i) {
    idle.emplace_back(server->port());
    ASSERT_GE(idle.back().fd(), 0) << i;
  }
  Reply reply = get(server->base_url() + "/normal");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "GET /normal []");
  // The oldest idle ones were closed to make room: the first socket sees EOF.
  bool closed = false;
  idle.front().read_until_close(std::chrono::seconds(5), &closed);
  EXPECT_TRUE(closed);
}

TEST(HttpServerGuards, IdleConnectionsAreClosedAfterTheReadTimeout) {
  HttpServerOptions options;
  options.read_timeout = 1s;
  auto server = serve(echo_path, options);
  RawSocket fresh(server->port());  // never sends anything
  RawSocket kept(server->port());   // one request, then idle
  ASSERT_TRUE(kept.send_all("GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  EXPECT_EQ(raw_status(kept.read_response(5s)), 200);
  bool closed = false;
  fresh.read_until_close(10s, &closed);
  EXPECT_TRUE(closed);
  kept.read_until_close(10s, &closed);
  EXPECT_TRUE(closed);
}

TEST(HttpServerGuards, BeyondTheTotalLimitTheOldestIdleConnectionIsClosed) {
  HttpServerOptions options;
  options.max_connections = 8;
  options.max_connections_per_client = 1000;
  auto server = serve(echo_path, options);
  std::vector<RawSocket> idle;
  for (int i = 0; i < 20; ++i) idle.emplace_back(server->port());
  Reply reply = get(server->base_url() + "/still");
  EXPECT_EQ(reply.status, 200);
  bool closed = false;
  idle.front().read_until_close(std::chrono::seconds(5), &closed);
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace twinflow
