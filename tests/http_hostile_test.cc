// The HTTP probes of the chaos suite (issue 17, items 5 to 8): request
// smuggling, Host headers of other origins, response header injection,
// lookalike JSON media types and hundreds of idle sockets, sent over raw
// sockets on 127.0.0.1 to the real `twinflow web` and the real
// `twinflow serve`, as processes. Each probe prints what it got, so CI logs
// keep the figures.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "store/run_ledger.h"
#include "tests/support/raw_http.h"
#include "tests/support/spawn_process.h"
#include "tests/web_test_support.h"

namespace fs = std::filesystem;

namespace twinflow {
namespace {

using namespace std::chrono_literals;
const std::string kToken = "hostile-test-token-0123456789";
constexpr auto kAnswerTimeout = 5s;  // the failure mode of "not answered"

// A server process started with `argv`; its port read from the URL it
// prints (`url_pattern`'s first group). SIGTERM and reaped when destroyed.
class ServerProcess {
 public:
  ServerProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                const fs::path& log, const std::string& url_pattern)
      : log_(log) {
    pid_ = spawn_with_files(argv, env, log.string(), log.string());
    const std::regex pattern(url_pattern);
    for (int i = 0; i < 600 && pid_ > 0 && port_ == 0; ++i) {
      std::smatch m;
      const std::string text = read_file(log);
      if (std::regex_search(text, m, pattern))
        port_ = static_cast<uint16_t>(std::stoi(m[1]));
      else
        std::this_thread::sleep_for(50ms);
    }
  }
  ~ServerProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  uint16_t port() const { return port_; }  // 0: it did not start
  std::string log() const { return read_file(log_); }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// `twinflow web` or `twinflow serve`, optionally under a file limit.
struct Target {
  std::string name;    // for the figures
  std::string probe;   // a GET path answered 200
  std::string action;  // a POST path that takes a JSON body
};

const Target kWeb{"web", "/api/v1/info", "/api/v1/runs/1/cancel"};
const Target kServe{"serve", "/health", "/rag"};

class HttpHostileTest : public TwinflowTest {
 protected:
  std::unique_ptr<ServerProcess> start(const Target& target,
                                       const std::vector<std::string>& extra = {},
                                       int file_limit = 0) {
    std::vector<std::string> argv;
    if (file_limit > 0)  // the limit is set in a shell that then becomes twinflow
      argv = {"/bin/sh", "-c", "ulimit -n " + std::to_string(file_limit) + " && exec \"$@\"", "sh"};
    argv.push_back(TWINFLOW_BINARY);
    argv.push_back(target.name);
    for (const char* a : {"--bind", "127.0.0.1:0"}) argv.push_back(a);
    argv.insert(argv.end(), extra.begin(), extra.end());
    std::vector<std::string> env = twinflow_env();
    env.push_back("TWINFLOW_WEB_TOKEN=" + kToken);
    const std::string pattern = target.name == "web"
                                    ? "listening on http://127\\.0\\.0\\.1:([0-9]+)"
                                    : "POST http://127\\.0\\.0\\.1:([0-9]+)/rag";
    auto process = std::make_unique<ServerProcess>(
        argv, env, home / (target.name + std::to_string(++started_) + ".log"), pattern);
    EXPECT_NE(process->port(), 0) << process->log();
    return process;
  }

  static std::string get_request(const Target& target, const std::string& host = "127.0.0.1") {
    return "GET " + target.probe + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  }

  // Item 6: `Transfer-Encoding: xchunked` with `Content-Length: 0` and a
  // second request in the body. Answered once (400) and closed.
  void probe_smuggling(const Target& target, uint16_t port) {
    for (const std::string framing :
         {"Transfer-Encoding: xchunked\r\nContent-Length: 0\r\n", "Transfer-Encoding: xchunked\r\n",
          "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n"}) {
      bool closed = false;
      const std::string reply =
          raw_exchange(port,
                       "POST " + target.action + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + framing +
                           "\r\n" + "GET " + target.probe + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                       &closed, kAnswerTimeout);
      std::printf("[probe %s] smuggling (%s): status %d, %d response(s), %s\n", target.name.c_str(),
                  framing.substr(0, framing.find("\r\n")).c_str(), raw_status(reply),
                  raw_response_count(reply), closed ? "closed" : "left open");
      EXPECT_EQ(raw_response_count(reply), 1) << framing << reply;
      EXPECT_TRUE(raw_status(reply) == 400 || raw_status(reply) == 501) << reply;
      EXPECT_TRUE(closed) << framing;
    }
  }

  // Item 7: a rebinding page's Host gets 421; ours get answered.
  void probe_host(const Target& target, uint16_t port) {
    const int evil = raw_status(raw_exchange(port, get_request(target, "rebind.evil.example")));
    const int evil_port = raw_status(
        raw_exchange(port, get_request(target, "rebind.evil.example:" + std::to_string(port))));
    const int none = raw_status(
        raw_exchange(port, "GET " + target.probe + " HTTP/1.1\r\nConnection: close\r\n\r\n"));
    const int local = raw_status(raw_exchange(port, get_request(target, "localhost")));
    const int v6 =
        raw_status(raw_exchange(port, get_request(target, "[::1]:" + std::to_string(port))));
    std::printf(
        "[probe %s] Host rebind.evil.example: %d, with port: %d, none: %d, localhost: %d, "
        "[::1]: %d\n",
        target.name.c_str(), evil, evil_port, none, local, v6);
    EXPECT_EQ(evil, 421);
    EXPECT_EQ(evil_port, 421);
    EXPECT_EQ(none, 400);
    EXPECT_EQ(local, 200);
    EXPECT_EQ(v6, 200);
  }

  // Item 7: lookalike JSON media types get 415.
  void probe_content_type(const Target& target, uint16_t port) {
    for (const std::string type : {"application/jsonx", "application/json-patch+json"}) {
      const std::string body = "{\"query\": \"hello\"}";
      const std::string reply = raw_exchange(
          port, "POST " + target.action + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                    kToken + "\r\nContent-Type: " + type + "\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
      std::printf("[probe %s] Content-Type %s: %d\n", target.name.c_str(), type.c_str(),
                  raw_status(reply));
      EXPECT_EQ(raw_status(reply), 415) << reply;
    }
  }

  // Item 8: `sockets` idle connections from 127.0.0.1, then a normal request
  // must still be answered.
  void probe_idle_sockets(const Target& target, uint16_t port, int sockets) {
    std::vector<RawSocket> idle;
    int connected = 0;
    for (int i = 0; i < sockets; ++i) {
      idle.emplace_back(port);
      connected += idle.back().fd() >= 0;
    }
    RawSocket normal(port);
    ASSERT_GE(normal.fd(), 0);
    ASSERT_TRUE(normal.send_all(get_request(target)));
    const std::string reply = normal.read_response(kAnswerTimeout);
    int closed_by_server = 0;
    for (RawSocket& s : idle) {
      bool closed = false;
      s.read_until_close(0ms, &closed);
      closed_by_server += closed;
    }
    std::printf(
        "[probe %s] %d idle sockets (%d connected): normal request -> %d; %d idle closed "
        "by the server\n",
        target.name.c_str(), sockets, connected, raw_status(reply), closed_by_server);
    EXPECT_EQ(raw_status(reply), 200) << "a normal request was not answered within 5 s";
  }

  int started_ = 0;
};

TEST_F(HttpHostileTest, WebDashboardRefusesHostileRequests) {
  // An artifact holding a file whose name is a header injection (item 5).
  const int64_t run = execute(prepare_fresh_run(load(write_dag("web_ok", kOkDag)))).run_id;
  ASSERT_GT(run, 0);
  auto version = store->runs().find_artifact_version("web_ok.make.bundle", 1);
  ASSERT_TRUE(version);
  fs::permissions(version->uri, fs::perms::owner_all, fs::perm_options::add);
  std::ofstream(fs::path(version->uri) / "x\r\nSet-Cookie: pwned=1") << "payload\n";

  auto web = start(kWeb);
  ASSERT_NE(web->port(), 0);
  const std::string reply = raw_exchange(
      web->port(),
      "GET /api/v1/artifacts/web_ok.make.bundle/versions/1/files/x%0D%0ASet-Cookie:%20pwned=1 "
      "HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  const bool injected = reply.find("\r\nSet-Cookie:") != std::string::npos;
  std::printf("[probe web] download named x\\r\\nSet-Cookie: status %d, Set-Cookie header %s\n",
              raw_status(reply), injected ? "INJECTED" : "absent");
  EXPECT_EQ(raw_status(reply), 200) << reply;
  EXPECT_FALSE(injected) << reply;
  EXPECT_NE(reply.find("filename*=UTF-8''x%0D%0ASet-Cookie%3A%20pwned%3D1"), std::string::npos)
      << reply;

  probe_smuggling(kWeb, web->port());
  probe_host(kWeb, web->port());
  probe_content_type(kWeb, web->port());
  probe_idle_sockets(kWeb, web->port(), 300);
}

TEST_F(HttpHostileTest, RagServerRefusesHostileRequests) {
  auto serve = start(kServe);
  ASSERT_NE(serve->port(), 0);
  probe_smuggling(kServe, serve->port());
  probe_host(kServe, serve->port());
  probe_content_type(kServe, serve->port());
  probe_idle_sockets(kServe, serve->port(), 300);
}

TEST_F(HttpHostileTest, AllowedHostsAreAnswered) {
  auto web = start(kWeb, {"--allowed-hosts", "twin.lan,dash.example"});
  ASSERT_NE(web->port(), 0);
  EXPECT_EQ(raw_status(raw_exchange(web->port(), get_request(kWeb, "Twin.LAN:8080"))), 200);
  EXPECT_EQ(raw_status(raw_exchange(web->port(), get_request(kWeb, "other.lan"))), 421);
  auto serve = start(kServe, {"--allowed-hosts", "twin.lan"});
  ASSERT_NE(serve->port(), 0);
  EXPECT_EQ(raw_status(raw_exchange(serve->port(), get_request(kServe, "twin.lan"))), 200);
  EXPECT_EQ(raw_status(raw_exchange(serve->port(), get_request(kServe, "dash.example"))), 421);
}

// Item 8 at the file limit: 256 descriptors, 300 idle sockets, and no
// per-client limit to help; the server closes the oldest idle connections
// before it runs out and a normal request is answered.
TEST_F(HttpHostileTest, IdleSocketsUnderALowFileLimit) {
  for (const Target& target : {kWeb, kServe}) {
    auto server = start(target, {"--max-connections-per-client", "100000"}, 256);
    ASSERT_NE(server->port(), 0);
    probe_idle_sockets(target, server->port(), 300);
  }
}

}  // namespace
}  // namespace twinflow
