// The HTTP server options `twinflow web`, `serve` and `serve-files` share:
// --allowed-hosts (and TWINFLOW_ALLOWED_HOSTS) for the Host check, and the
// connection limits. See docs/CLI.md.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace twinflow {

struct HttpServerOptions;

struct HttpGuardArgs {
  std::string allowed_hosts;  // "a,b"
  int max_connections_per_client = 64;
  int max_connections = 0;  // 0: from the file descriptor limit
};

void add_http_guard_options(CLI::App* cmd, HttpGuardArgs& args);
// Sets them on `options`; the hosts are those of --allowed-hosts and of
// TWINFLOW_ALLOWED_HOSTS together.
void apply_http_guard_options(const HttpGuardArgs& args, HttpServerOptions& options);

}  // namespace twinflow
