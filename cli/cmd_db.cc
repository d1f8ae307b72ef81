// `twinflow db migrate | status | stop | url`: the database's schema and the
// embedded cluster's life.
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "cli/app_context.h"
#include "cli/arg_checks.h"
#include "cli/commands.h"
#include "store/embedded_postgres.h"
#include "store/migrations.h"

namespace twinflow {

void add_db_command(CLI::App& app, AppContext& ctx, int* exit_code) {
  auto* db = app.add_subcommand("db", "Database: migrate, status, stop the embedded cluster");
  // Not require_subcommand(1): CLI11 would then answer `db bogus` with "a
  // subcommand is required". An unknown word lands in `unknown` instead.
  auto unknown = std::make_shared<std::string>();
  db->add_option("subcommand", *unknown, "migrate, status, stop or url");
  db->callback([db, unknown] {
    if (!db->get_subcommands().empty()) return;
    if (unknown->empty()) bad_argument("db", "say one of migrate, status, stop, url");
    bad_argument("db", "unknown subcommand '" + *unknown + "' (migrate, status, stop, url)");
  });
  db->add_subcommand("migrate", "Apply pending migrations")->callback([&ctx, exit_code] {
    Store store(ctx.database_url());
    int applied = store.migrate();
    std::cout << "applied " << applied << " migration" << (applied == 1 ? "" : "s") << "\n";
    *exit_code = kExitOk;
  });
  db->add_subcommand("status", "Show applied and pending migrations")->callback([&ctx, exit_code] {
    pqxx::connection connection(ctx.database_url());
    Migrator migrator(connection, embedded_migrations());
    auto states = migrator.status();
    if (ctx.json) {
      nlohmann::json doc = nlohmann::json::array();
      for (const auto& s : states)
        doc.push_back({{"version", s.version},
                       {"name", s.name},
                       {"applied", s.applied},
                       {"applied_at", s.applied_at},
                       {"checksum", s.checksum}});
      std::cout << doc.dump(2) << "\n";
    } else {
      std::cout << "database: "
                << (ctx.embedded_database() ? "embedded cluster in " + (ctx.home() / "pg").string()
                                            : std::string("TWINFLOW_DATABASE_URL"))
                << "\n";
      for (const auto& s : states)
        std::cout << "  " << s.name << "  " << (s.applied ? "applied " + s.applied_at : "pending")
                  << "\n";
    }
    *exit_code = kExitOk;
  });
  db->add_subcommand("stop", "Stop the embedded PostgreSQL cluster")->callback([&ctx, exit_code] {
    if (!ctx.embedded_database()) {
      std::cerr << "twinflow: TWINFLOW_DATABASE_URL is set; there is no embedded cluster to stop\n";
      *exit_code = kExitFailed;
      return;
    }
    EmbeddedPostgres cluster({ctx.home(), true, ""});
    cluster.stop();
    std::cout << "stopped the embedded cluster in " << (ctx.home() / "pg").string() << "\n";
    *exit_code = kExitOk;
  });
  db->add_subcommand("url", "Print the conninfo steps receive")->callback([&ctx, exit_code] {
    std::cout << ctx.database_url() << "\n";
    *exit_code = kExitOk;
  });
}

}  // namespace twinflow
