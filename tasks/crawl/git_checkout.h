// clone_repository: a shallow `git clone` in a subprocess, for the crawler's
// GitHub side.
//
// The crawler reads a repository's files, not its GitHub pages, so it runs
// the real git client: `git clone --depth 1` gets the newest tree without
// the history an LLM twin does not learn from. git runs in its own process
// group under a time limit, never prompts (GIT_TERMINAL_PROMPT=0, stdin from
// /dev/null), and its stderr is kept so a failure reads "git clone URL
// failed: repository not found" rather than an exit code.
//
// A token for private repositories travels only in the child's environment
// (GIT_CONFIG_COUNT / http.extraHeader): never on a command line that `ps`
// shows, never in an error message or a log. Credentials written into the URL
// itself are removed from every message too.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

namespace twinflow {

struct GitCloneOptions {
  std::chrono::seconds timeout{300};
  // Name of an environment variable holding a token (e.g. "GITHUB_TOKEN"),
  // sent as "Authorization: Bearer TOKEN". Empty, or the variable unset or
  // empty: clone without one, as public repositories need none.
  std::string token_env;
};

// Clones `url` (https://, file://, a path...) into `dest`, which must not
// exist or be an empty directory, and returns the HEAD commit id. Throws
// Error with the URL (credentials removed) and git's reason; a `dest` this
// call created is removed again on failure. A timeout kills git's process
// group.
std::string clone_repository(const std::string& url, const std::filesystem::path& dest,
                             const GitCloneOptions& options = {});

// https://github.com/owner/repo[.git][/tree/main/...][?query][#fragment]
// -> https://github.com/owner/repo.git. Throws Error for URLs that name no
// repository (another host, a profile, github.com/settings, ...).
std::string github_clone_url(const std::string& page_url);

// `url` with any "user:password@" removed, for messages.
std::string url_without_credentials(const std::string& url);

}  // namespace twinflow
