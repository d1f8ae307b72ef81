// `twinflow serve-files DIR`: serves a directory over HTTP on loopback until
// SIGINT or SIGTERM. The main job serves the bundled sample site with it so
// the crawl step fetches over real HTTP (ETags, 304s, robots.txt and all);
// people use it to try a crawler on saved pages.
#include <poll.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "cli/app_context.h"
#include "cli/commands.h"
#include "cli/http_options.h"
#include "cli/interrupt.h"
#include "http/static_files.h"

namespace twinflow {
namespace {

struct ServeFilesArgs {
  std::string root, bind = "127.0.0.1:0", port_file;
  HttpGuardArgs guards;
};

int serve_files(const ServeFilesArgs& args) {
  InterruptPipe interrupt;
  HttpServerOptions options;
  options.bind = args.bind;
  apply_http_guard_options(args.guards, options);
  HttpServer server(static_files_handler(args.root), options);
  server.start();
  std::cout << "serving " << args.root << " at " << server.base_url() << std::endl;
  if (!args.port_file.empty()) {
    // Written under a temporary name and renamed, so a reader never sees a
    // half-written port.
    const std::string temp = args.port_file + ".tmp";
    std::ofstream(temp) << server.port() << "\n";
    std::filesystem::rename(temp, args.port_file);
  }
  pollfd fd{interrupt.read_fd(), POLLIN, 0};
  while (!interrupt.interrupted()) poll(&fd, 1, -1);
  server.stop();
  return kExitOk;
}

}  // namespace

void add_serve_files_command(CLI::App& app, AppContext& /*ctx*/, int* exit_code) {
  auto* cmd =
      app.add_subcommand("serve-files", "Serve a directory over HTTP (loopback by default)");
  auto args = std::make_shared<ServeFilesArgs>();
  cmd->add_option("dir", args->root, "Directory to serve")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--bind", args->bind, "host:port to listen on; port 0 picks a free one")
      ->capture_default_str();
  add_http_guard_options(cmd, args->guards);
  cmd->add_option("--port-file", args->port_file, "Write the bound port to this file");
  cmd->callback([exit_code, args] { *exit_code = serve_files(*args); });
}

}  // namespace twinflow
