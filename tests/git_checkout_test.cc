// Tests for tasks/crawl/git_checkout: real `git clone` processes against the
// sample repository (file://) and against a loopback HTTP server that plays a
// git host which answers 404 or never answers. They check the HEAD id, the
// shallow clone, error messages that name the URL and git's reason, that a
// token travels as an Authorization header yet never shows in an error, that
// a timeout kills git, and the GitHub URL helper.
#include "tasks/crawl/git_checkout.h"
#include "tests/support/scratch_dir.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "source_paths.h"  // TWINFLOW_SOURCE_DIR, TWINFLOW_BINARY (generated)
#include "util/error.h"

namespace twinflow {
namespace {

namespace fs = std::filesystem;

// stdout of a shell command, trailing newline removed.
std::string command_output(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[256];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  pclose(pipe);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

fs::path make_sample_repo(const fs::path& dest) {
  // A path join rather than string +: gcc 12 warns falsely (-Warray-bounds) on the latter.
  const std::string script = (fs::path(TWINFLOW_SOURCE_DIR) / "sample" / "make_repo.sh").string();
  EXPECT_EQ(command_output("bash '" + script + "' '" + dest.string() + "'"), dest.string());
  return dest;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no Error thrown)";
}

// A loopback HTTP server standing in for a git host: it records each request's
// head and either answers 404 or holds the connection open without a word.
class FakeGitHost {
 public:
  enum class Mode { kNotFound, kSilent };

  explicit FakeGitHost(Mode mode) : mode_(mode) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(listener_, 8) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeGitHost() {
    stop_ = true;
    thread_.join();
    for (int fd : clients_) close(fd);
    close(listener_);
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      clients_.push_back(client);
      const std::string head = read_head(client);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_ += head;
      }
      if (mode_ == Mode::kNotFound) {
        static constexpr char kResponse[] =
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n"
            "Connection: close\r\n\r\nNot Found\n";
        (void)!write(client, kResponse, sizeof kResponse - 1);
      }
    }
  }

  std::string read_head(int client) {
    std::string head;
    char buffer[1024];
    while (head.find("\r\n\r\n") == std::string::npos && !stop_) {
      pollfd p{client, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = read(client, buffer, sizeof buffer);
      if (n <= 0) break;
      head.append(buffer, static_cast<size_t>(n));
    }
    return head;
  }

  Mode mode_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::vector<int> clients_;
  std::mutex mutex_;
  std::string requests_;
};

TEST(GitCheckout, ClonesTheSampleRepositoryShallowly) {
  ScratchDir dir;
  const fs::path source = make_sample_repo(dir.path() / "source");
  const fs::path dest = dir.path() / "clone";
  const std::string head = clone_repository("file://" + source.string(), dest);
  EXPECT_EQ(head, command_output("git -C '" + source.string() + "' rev-parse HEAD"));
  EXPECT_EQ(head.size(), 40u);
  EXPECT_TRUE(fs::is_regular_file(dest / "chunkwise" / "chunk.py"));
  EXPECT_TRUE(fs::is_regular_file(dest / ".git" / "shallow"));
  EXPECT_EQ(command_output("git -C '" + dest.string() + "' rev-list --count HEAD"), "1");
}

TEST(GitCheckout, ClonesIntoAnExistingEmptyDirectory) {
  ScratchDir dir;
  const fs::path source = make_sample_repo(dir.path() / "source");
  fs::create_directory(dir.path() / "empty");
  EXPECT_EQ(clone_repository(source.string(), dir.path() / "empty").size(), 40u);
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "empty" / "README.md"));
}

TEST(GitCheckout, MissingRepositoryNamesTheUrlAndGitsReason) {
  ScratchDir dir;
  const std::string url = "file://" + (dir.path() / "no-such-repo").string();
  const std::string error = error_of([&] { clone_repository(url, dir.path() / "clone"); });
  EXPECT_EQ(error.rfind("git clone " + url + " failed: ", 0), 0u) << error;
  EXPECT_NE(error.find("does not appear to be a git repository"), std::string::npos) << error;
  EXPECT_FALSE(fs::exists(dir.path() / "clone"));
}

TEST(GitCheckout, NonEmptyDestinationIsRefusedAndLeftAlone) {
  ScratchDir dir;
  const fs::path source = make_sample_repo(dir.path() / "source");
  fs::create_directory(dir.path() / "busy");
  std::ofstream(dir.path() / "busy" / "keep.txt") << "mine\n";
  const std::string error =
      error_of([&] { clone_repository(source.string(), dir.path() / "busy"); });
  EXPECT_NE(error.find("not an empty directory"), std::string::npos) << error;
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "busy" / "keep.txt"));
}

TEST(GitCheckout, TokenIsSentAsHeaderButNeverShownInErrors) {
  ScratchDir dir;
  FakeGitHost host(FakeGitHost::Mode::kNotFound);
  setenv("TWINFLOW_TEST_GIT_TOKEN", "s3cr3t-t0ken-value", 1);
  GitCloneOptions options;
  options.token_env = "TWINFLOW_TEST_GIT_TOKEN";
  const std::string url = host.url("/ines/private-notes.git");
  const std::string error = error_of([&] { clone_repository(url, dir.path() / "clone", options); });
  unsetenv("TWINFLOW_TEST_GIT_TOKEN");
  EXPECT_EQ(error.rfind("git clone " + url + " failed: repository not found", 0), 0u) << error;
  EXPECT_EQ(error.find("s3cr3t"), std::string::npos) << error;
  EXPECT_NE(host.requests().find("Authorization: Bearer s3cr3t-t0ken-value\r\n"), std::string::npos)
      << host.requests();
  EXPECT_NE(host.requests().find("GET /ines/private-notes.git/info/refs"), std::string::npos);
}

TEST(GitCheckout, PasswordInTheUrlIsRemovedFromErrors) {
  ScratchDir dir;
  FakeGitHost host(FakeGitHost::Mode::kNotFound);
  const std::string url = host.url("/ines/notes.git");
  const std::string with_password = "http://ines:hunter2@" + url.substr(7);
  const std::string error = error_of([&] { clone_repository(with_password, dir.path() / "c"); });
  EXPECT_NE(error.find("git clone " + url + " failed"), std::string::npos) << error;
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
  EXPECT_EQ(url_without_credentials("https://x:y@github.com/a/b"), "https://github.com/a/b");
  EXPECT_EQ(url_without_credentials("https://github.com/a/b@c"), "https://github.com/a/b@c");
}

TEST(GitCheckout, TimeoutKillsGitAndSaysSo) {
  ScratchDir dir;
  FakeGitHost host(FakeGitHost::Mode::kSilent);
  GitCloneOptions options;
  options.timeout = std::chrono::seconds(1);
  const auto start = std::chrono::steady_clock::now();
  const std::string error =
      error_of([&] { clone_repository(host.url("/slow/repo.git"), dir.path() / "c", options); });
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_NE(error.find("failed: timed out after 1 s"), std::string::npos) << error;
  EXPECT_GE(took, std::chrono::seconds(1));
  EXPECT_FALSE(fs::exists(dir.path() / "c"));
}

TEST(GitCheckout, GithubPageUrlsBecomeCloneUrls) {
  EXPECT_EQ(github_clone_url("https://github.com/ines/chunkwise"),
            "https://github.com/ines/chunkwise.git");
  EXPECT_EQ(github_clone_url("https://github.com/ines/chunkwise.git"),
            "https://github.com/ines/chunkwise.git");
  EXPECT_EQ(github_clone_url("https://www.github.com/ines/chunkwise/tree/main/chunkwise?x=1"),
            "https://github.com/ines/chunkwise.git");
  EXPECT_EQ(github_clone_url("http://github.com/Ines-C/chunk.wise_2#readme"),
            "https://github.com/Ines-C/chunk.wise_2.git");
  EXPECT_EQ(github_clone_url("github.com/ines/chunkwise/"),
            "https://github.com/ines/chunkwise.git");
}

TEST(GitCheckout, NonRepositoryUrlsAreRejected) {
  for (const char* url :
       {"https://github.com/ines", "https://github.com/", "https://gitlab.com/ines/chunkwise",
        "https://github.com/settings/profile", "https://github.com/orgs/acme",
        "https://notgithub.com/ines/chunkwise", "https://github.com.evil.example/ines/x",
        "https://github.com/ines/..", "ftp://github.com/ines/chunkwise"}) {
    const std::string error = error_of([&] { github_clone_url(url); });
    EXPECT_EQ(error.rfind("not a GitHub repository URL: ", 0), 0u) << url << ": " << error;
  }
}

}  // namespace
}  // namespace twinflow
