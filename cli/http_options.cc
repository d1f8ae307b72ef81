// Shared HTTP server options (http_options.h).
#include "cli/http_options.h"

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "http/http_server.h"

namespace twinflow {

void add_http_guard_options(CLI::App* cmd, HttpGuardArgs& args) {
  cmd->add_option("--allowed-hosts", args.allowed_hosts,
                  "Host names this server answers for besides its address, localhost and "
                  "loopback (comma-separated; also TWINFLOW_ALLOWED_HOSTS; '*': any)");
  cmd->add_option("--max-connections-per-client", args.max_connections_per_client,
                  "Open connections one client address may hold (beyond: its oldest idle one "
                  "is closed)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--max-connections", args.max_connections,
                  "Open connections in all (0: the file descriptor limit less a reserve)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
}

void apply_http_guard_options(const HttpGuardArgs& args, HttpServerOptions& options) {
  options.allowed_hosts = split_host_list(args.allowed_hosts);
  if (const char* env = std::getenv("TWINFLOW_ALLOWED_HOSTS"))
    for (std::string& host : split_host_list(env)) options.allowed_hosts.push_back(host);
  options.max_connections_per_client = args.max_connections_per_client;
  options.max_connections = args.max_connections;
}

}  // namespace twinflow
