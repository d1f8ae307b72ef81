// clone_repository and github_clone_url; see git_checkout.h.
#include "tasks/crawl/git_checkout.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <regex>
#include <sstream>
#include <string_view>
#include <system_error>
#include <vector>

#include "process/subprocess.h"
#include "util/error.h"
#include "util/strings.h"

extern char** environ;

namespace twinflow {

namespace {

namespace fs = std::filesystem;

constexpr Millis kKillGrace{2000};
constexpr Millis kWaitSlice{1000};
constexpr std::chrono::seconds kRevParseTimeout{30};

// A file git's stderr goes to, removed when the clone is over.
class TempLog {
 public:
  TempLog() {
    std::string pattern = (fs::temp_directory_path() / "twinflow-git-XXXXXX").string();
    const int fd = mkstemp(pattern.data());
    if (fd < 0) throw SystemError("cannot create a temporary file for git's messages", errno);
    close(fd);
    path_ = pattern;
  }
  ~TempLog() { unlink(path_.c_str()); }
  TempLog(const TempLog&) = delete;
  TempLog& operator=(const TempLog&) = delete;

  const std::string& path() const { return path_; }
  std::string contents() const {
    std::ifstream in(path_, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

 private:
  std::string path_;
};

struct GitRun {
  ProcessResult result;
  std::string stdout_text;
  std::string stderr_text;
};

// Runs one git command to completion under a time limit.
GitRun run_git(const std::vector<std::string>& argv, const std::vector<std::string>& env,
               std::chrono::seconds timeout) {
  GitRun run;
  TempLog log;
  SubprocessSet set([&](uint64_t, std::string_view line) {
    run.stdout_text.append(line);
    run.stdout_text.push_back('\n');
  });
  ProcessSpec spec;
  spec.argv = argv;
  spec.env = env;
  spec.log_path = log.path();  // gets stderr (and a copy of stdout, which git keeps short)
  spec.timeout = std::chrono::duration_cast<Millis>(timeout);
  spec.kill_grace = kKillGrace;
  set.start(spec);
  std::vector<ProcessResult> done;
  while (done.empty()) done = set.wait(kWaitSlice);
  run.result = done.front();
  run.stderr_text = log.contents();
  return run;
}

// Our environment, with git told never to prompt and to speak English (its
// messages become our error messages), and the token, if any, as config.
std::vector<std::string> git_environment(const std::string& token) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (entry.starts_with("GIT_TERMINAL_PROMPT=") || entry.starts_with("GIT_CONFIG_COUNT=") ||
        entry.starts_with("GIT_CONFIG_KEY_") || entry.starts_with("GIT_CONFIG_VALUE_") ||
        entry.starts_with("LC_ALL=")) {
      continue;
    }
    env.emplace_back(entry);
  }
  env.emplace_back("GIT_TERMINAL_PROMPT=0");
  env.emplace_back("LC_ALL=C");
  if (!token.empty()) {
    env.emplace_back("GIT_CONFIG_COUNT=1");
    env.emplace_back("GIT_CONFIG_KEY_0=http.extraHeader");
    env.emplace_back("GIT_CONFIG_VALUE_0=Authorization: Bearer " + token);
  }
  return env;
}

std::string token_from(const std::string& env_name) {
  if (env_name.empty()) return "";
  const char* value = std::getenv(env_name.c_str());
  return value != nullptr ? value : "";
}

// git's reason for a failure: its first "fatal:" line, which names the cause
// ("repository '...' not found"), whereas the last line is often advice
// ("and the repository exists."); else its last line. The quoted URL is
// dropped, as the message names it already.
std::string git_reason(const std::string& stderr_text) {
  std::istringstream lines(stderr_text);
  std::string line, last, fatal;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    last = line;
    if (fatal.empty() && line.starts_with("fatal: ")) fatal = line.substr(7);
  }
  std::string reason = !fatal.empty() ? fatal : last;
  static const std::regex kQuotedRepository("repository '[^']*' ");
  reason = std::regex_replace(reason, kQuotedRepository, "repository ");
  return reason.empty() ? "no message from git" : reason;
}

std::string describe_failure(const ProcessResult& r, const GitRun& run,
                             std::chrono::seconds timeout) {
  switch (r.outcome) {
    case ProcessResult::Outcome::kExited:
      return git_reason(run.stderr_text) + " (exit code " + std::to_string(r.exit_code) + ")";
    case ProcessResult::Outcome::kTimedOut:
      return "timed out after " + std::to_string(timeout.count()) + " s";
    case ProcessResult::Outcome::kSignaled:
      return "killed by signal " + std::to_string(r.signal);
    case ProcessResult::Outcome::kTerminated:
      return "terminated";
    case ProcessResult::Outcome::kSpawnFailed:
      return r.error;
  }
  return "unknown outcome";
}

bool succeeded(const ProcessResult& r) {
  return r.outcome == ProcessResult::Outcome::kExited && r.exit_code == 0;
}

bool is_commit_id(std::string_view s) {
  if (s.size() != 40 && s.size() != 64) return false;
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string head_commit(const fs::path& repo, const std::vector<std::string>& env,
                        const std::string& shown_url) {
  const GitRun run =
      run_git({"git", "-C", repo.string(), "rev-parse", "HEAD"}, env, kRevParseTimeout);
  std::string id = run.stdout_text;
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  if (!succeeded(run.result) || !is_commit_id(id)) {
    throw Error("git clone " + shown_url + ": cannot read the HEAD commit: " +
                describe_failure(run.result, run, kRevParseTimeout));
  }
  return id;
}

// Removes what a failed clone left in a `dest` it created; leaves a `dest`
// that existed before alone but for what git wrote into it.
class DestinationGuard {
 public:
  explicit DestinationGuard(const fs::path& dest) : dest_(dest) {
    std::error_code ec;
    existed_ = fs::exists(dest_, ec);
  }
  ~DestinationGuard() {
    if (committed_) return;
    std::error_code ec;
    if (existed_) {
      for (const auto& entry : fs::directory_iterator(dest_, ec)) fs::remove_all(entry.path(), ec);
    } else {
      fs::remove_all(dest_, ec);
    }
  }
  DestinationGuard(const DestinationGuard&) = delete;
  DestinationGuard& operator=(const DestinationGuard&) = delete;
  void commit() { committed_ = true; }

 private:
  fs::path dest_;
  bool existed_ = false;
  bool committed_ = false;
};

void require_usable_destination(const fs::path& dest, const std::string& shown_url) {
  std::error_code ec;
  if (!fs::exists(dest, ec)) return;
  if (!fs::is_directory(dest, ec) || !fs::is_empty(dest, ec)) {
    throw Error("git clone " + shown_url + " into " + dest.string() +
                ": the destination exists and is not an empty directory");
  }
}

}  // namespace

std::string url_without_credentials(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const size_t host_start = scheme + 3;
  const size_t path_start = url.find_first_of("/?#", host_start);
  const size_t at = url.rfind('@', path_start == std::string::npos ? url.size() : path_start);
  if (at == std::string::npos || at < host_start) return url;
  return url.substr(0, host_start) + url.substr(at + 1);
}

std::string clone_repository(const std::string& url, const std::filesystem::path& dest,
                             const GitCloneOptions& options) {
  const std::string shown_url = url_without_credentials(url);
  require_usable_destination(dest, shown_url);
  const std::string token = token_from(options.token_env);
  const std::vector<std::string> env = git_environment(token);
  DestinationGuard guard(dest);
  // "--" keeps a URL or path that starts with '-' from being read as an option.
  GitRun run = run_git({"git", "clone", "--depth", "1", "--quiet", "--", url, dest.string()}, env,
                       options.timeout);
  if (!succeeded(run.result)) {
    std::string message =
        "git clone " + shown_url + " failed: " + describe_failure(run.result, run, options.timeout);
    replace_all(message, url, shown_url);
    replace_all(message, token, "***");
    throw Error(message);
  }
  std::string id = head_commit(dest, env, shown_url);
  guard.commit();
  return id;
}

std::string github_clone_url(const std::string& page_url) {
  // owner: letters, digits and single hyphens; repo: also '.' and '_'.
  static const std::regex kRepoPage(
      R"(^(?:https?://)?(?:www\.)?github\.com/([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/)"
      R"(([A-Za-z0-9._-]{1,100}?)(?:\.git)?(?:[/?#].*)?$)",
      std::regex::icase);
  // First path segments that are GitHub's own pages, not users.
  static const std::vector<std::string> kReserved = {
      "about",  "apps",   "blog",        "collections", "contact",       "explore",  "features",
      "issues", "login",  "marketplace", "new",         "notifications", "orgs",     "pricing",
      "pulls",  "search", "settings",    "sponsors",    "topics",        "trending", "users"};
  std::smatch m;
  if (!std::regex_match(page_url, m, kRepoPage)) {
    throw Error("not a GitHub repository URL: " + url_without_credentials(page_url) +
                " (expected https://github.com/OWNER/REPO)");
  }
  std::string owner = m[1].str();
  std::string lower_owner = owner;
  for (char& c : lower_owner) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string repo = m[2].str();
  if (std::find(kReserved.begin(), kReserved.end(), lower_owner) != kReserved.end() ||
      repo == "." || repo == "..") {
    throw Error("not a GitHub repository URL: " + url_without_credentials(page_url) +
                " (github.com/" + owner + " is a GitHub page, not a repository owner)");
  }
  return "https://github.com/" + owner + "/" + repo + ".git";
}

}  // namespace twinflow
