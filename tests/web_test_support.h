// What the dashboard's tests share: the real `twinflow web` started as a
// subprocess (and stopped), HTTP requests with any method and headers, and
// seed DAGs that produce a succeeded run, a failed run and a crawled page
// carrying script payloads.
#pragma once

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "tests/support/spawn_process.h"
#include "tests/support/twinflow_fixture.h"

namespace twinflow {

struct WebReply {
  long status = 0;
  std::string body;
  std::string headers;
};

// One request with libcurl; `headers` as "Name: value".
inline WebReply web_request(const std::string& method, const std::string& url,
                            const std::vector<std::string>& headers = {},
                            const std::string& body = "") {
  WebReply reply;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  auto sink = +[](char* data, size_t size, size_t count, void* out) {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
  };
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);  // send ../ and %2e%2e as written
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, sink);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply.headers);
  if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  if (curl_easy_perform(curl) == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return reply;
}

// `twinflow web --bind 127.0.0.1:0` with the fixture's home and database, and
// TWINFLOW_WEB_TOKEN when `token` is not empty. The URL is read from what it
// prints. Stopped with SIGTERM when destroyed.
class WebProcess {
 public:
  WebProcess(const std::vector<std::string>& env_base, const std::filesystem::path& log,
             const std::string& token, const std::vector<std::string>& extra_args = {}) {
    std::vector<std::string> env = env_base;
    if (!token.empty()) env.push_back("TWINFLOW_WEB_TOKEN=" + token);
    std::vector<std::string> argv = {TWINFLOW_BINARY, "web", "--bind", "127.0.0.1:0"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    pid_ = spawn_with_files(argv, env, log.string(), log.string());
    const std::regex listening("listening on (http://127\\.0\\.0\\.1:[0-9]+)");
    for (int i = 0; i < 300 && pid_ > 0 && url_.empty(); ++i) {
      std::smatch m;
      const std::string text = read_file(log);
      if (std::regex_search(text, m, listening))
        url_ = m[1];
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~WebProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  WebProcess(const WebProcess&) = delete;
  WebProcess& operator=(const WebProcess&) = delete;

  // Empty when it did not start.
  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

// A DAG whose one step prints lines and writes a directory artifact.
inline const char* kOkDag = R"(name: web_ok
steps:
  - id: make
    outputs: [bundle]
    command: |
      echo "making the bundle"
      echo "loss 0.5"
      mkdir -p "$TWINFLOW_OUTPUT_DIR/bundle/sub"
      echo alpha > "$TWINFLOW_OUTPUT_DIR/bundle/a.txt"
      echo beta > "$TWINFLOW_OUTPUT_DIR/bundle/sub/b.txt"
  - id: use
    inputs: {bundle: make.bundle}
    outputs: [summary]
    command: |
      echo '{"metrics": {"loss": 0.9}, "step": 1}'
      echo '{"metrics": {"loss": 0.4}, "step": 2}'
      ls -R "$TWINFLOW_INPUT_BUNDLE" > "$TWINFLOW_OUTPUT_DIR/summary"
)";

// A DAG whose second step fails with exit code 3 after printing a line.
inline const char* kFailingDag = R"(name: web_failing
steps:
  - id: first
    outputs: [a]
    command: echo one > "$TWINFLOW_OUTPUT_DIR/a"
  - id: boom
    inputs: {a: first.a}
    command: echo "about to fail"; exit 3
)";

// A crawled page whose title and text carry markup that would run if a page
// rendered it as HTML (the extractor decodes the entities into that text).
inline const char* kXssTitle = "<script>window.__pwned=true</script> Hostile title";
inline std::string xss_page() {
  return "<!doctype html><html><head><title>&lt;script&gt;window.__pwned=true&lt;/script&gt; "
         "Hostile title</title></head><body><article><h1>&lt;script&gt;window.__pwned=true&lt;/"
         "script&gt; Hostile title</h1>"
         "<p>This paragraph carries an image payload: &lt;img src=x "
         "onerror=\"window.__pwned=true\"&gt; and more words so the extractor keeps it as the "
         "body of an article about retrieval and chunking.</p>"
         "<p>A second paragraph &lt;svg onload=\"window.__pwned=true\"&gt; closes it with enough "
         "text to count as an article body for the crawler.</p></article></body></html>";
}

}  // namespace twinflow
