// EmbeddedPostgres: the private PostgreSQL cluster twinflow runs when the user
// has not pointed it at a server with TWINFLOW_DATABASE_URL.
//
// The cluster lives in $TWINFLOW_HOME/pg and listens only on a Unix socket in
// a directory that is private to the server's user, so local "trust"
// authentication is safe. Every twinflow process calls ensure_running(): the
// first one creates and starts the cluster, later ones find it running after
// a pid-file check and one connection. Processes coordinate through an flock
// on home/pg/lock, so any number of them may call it at once.
//
// PostgreSQL refuses to run as root, so when twinflow runs as root the server
// runs as the unprivileged user `postgres` (through runuser), which then owns
// home/pg.
#pragma once

#include <filesystem>
#include <string>

namespace twinflow {

struct EmbeddedPostgresOptions {
  // $TWINFLOW_HOME; the cluster lives in home/"pg". Empty: default_twinflow_home().
  std::filesystem::path home;
  // false (tests only): fsync, synchronous_commit and full_page_writes off, so
  // a crash of the machine can lose or corrupt data but everything is faster.
  bool durable = true;
  // Where initdb and pg_ctl are. Empty: $TWINFLOW_PG_BINDIR, else the
  // installation matching an existing cluster, else the newest
  // /usr/lib/postgresql/*/bin that has initdb, else initdb's directory on PATH.
  std::string bindir;
};

class EmbeddedPostgres {
 public:
  explicit EmbeddedPostgres(EmbeddedPostgresOptions options);

  // Runs initdb the first time, starts the server if it is not running
  // (also after a crash that left a stale postmaster.pid), creates the
  // database `twinflow` if missing, and returns a libpq conninfo string for
  // it. When the server already runs this only reads postmaster.pid and
  // checks the process and socket: well under a millisecond. Throws Error,
  // with initdb's or pg_ctl's output and the server log when they fail.
  std::string ensure_running();
  // True when postmaster.pid says "ready", names a live postmaster of our
  // data directory, and the socket exists. Does not connect.
  bool is_running() const;
  // Fast shutdown (pg_ctl stop -m fast); a no-op when the server is not running.
  void stop();

  // "host=SOCKET_DIR port=5432 dbname=DBNAME user=twinflow", values quoted
  // for libpq where needed.
  std::string conninfo(const std::string& dbname = "twinflow") const;

  const std::filesystem::path& home() const { return home_; }
  std::filesystem::path data_dir() const { return pg_dir_ / "data"; }
  std::filesystem::path log_file() const { return pg_dir_ / "log" / "postgres.log"; }
  // home/pg/run when the socket path fits in a sockaddr_un with room to
  // spare (and has no comma), else /tmp/twinflow-pg-<hash of home>.
  const std::filesystem::path& socket_dir() const { return socket_dir_; }
  // Written once the database `twinflow` exists, so that later calls need not
  // connect to find out; removed when initdb runs again.
  std::filesystem::path database_marker() const { return pg_dir_ / "database-created"; }

 private:
  struct Launcher;  // who runs the server and how to run its programs

  Launcher launcher() const;
  std::string find_bindir() const;
  void prepare_directories(const Launcher& launcher) const;
  void initialise_cluster(const Launcher& launcher) const;
  void start_or_wait(const Launcher& launcher) const;
  void start_server(const Launcher& launcher) const;
  std::string server_options() const;
  void remove_stale_lock_files() const;
  void create_database_if_missing() const;
  bool postmaster_alive() const;

  std::filesystem::path home_;
  std::filesystem::path pg_dir_;
  std::filesystem::path socket_dir_;
  bool durable_;
  std::string requested_bindir_;  // options.bindir, else $TWINFLOW_PG_BINDIR
};

// $TWINFLOW_HOME, else $XDG_DATA_HOME/twinflow, else ~/.local/share/twinflow.
std::filesystem::path default_twinflow_home();

}  // namespace twinflow
