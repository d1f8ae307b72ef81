#include "store/embedded_postgres.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "store/embedded_pg_os.h"
#include "util/error.h"
#include "util/sha256.h"

namespace twinflow {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace embedded_pg;

namespace {

constexpr const char* kPort = "5432";
constexpr const char* kSocketName = ".s.PGSQL.5432";
constexpr const char* kSuperuser = "twinflow";
constexpr const char* kServerUserWhenRoot = "postgres";
// sun_path holds 108 bytes; keep clear of the limit so a later, longer
// socket name (another port) still fits.
constexpr size_t kMaxSocketPath = 100;
// Output of a failed command or the server log tail, as shown in an Error.
constexpr size_t kMaxShownOutput = 8192;
constexpr auto kReadyTimeout = std::chrono::seconds(60);
constexpr const char* kNotFound =
    "PostgreSQL server not found: install it with `apt-get install postgresql`, or set "
    "TWINFLOW_DATABASE_URL";

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string tail(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  return "..." + text.substr(text.size() - max);
}

// ---- Paths --------------------------------------------------------------

// Absolute, symlinks of existing parts resolved, so that every spelling of a
// home maps to the same socket directory.
fs::path normalise_home(const fs::path& home) {
  std::error_code ec;
  fs::path absolute = fs::absolute(home, ec);
  if (ec) throw Error("cannot tell where twinflow home " + home.string() + " is: " + ec.message());
  fs::path out = fs::weakly_canonical(absolute, ec);
  if (ec) out = absolute.lexically_normal();
  if (!out.has_filename() && out.has_parent_path() && out != out.root_path())
    out = out.parent_path();
  return out;
}

// libpq reads a comma in host= as a list of hosts, quoted or not, so such a
// directory cannot be named in a conninfo string.
fs::path choose_socket_dir(const fs::path& home, const fs::path& pg_dir) {
  fs::path local = pg_dir / "run";
  std::string socket = (local / kSocketName).string();
  if (socket.size() <= kMaxSocketPath && socket.find(',') == std::string::npos) return local;
  return fs::path("/tmp") / ("twinflow-pg-" + sha256_hex(home.string()).substr(0, 12));
}

// pg_ctl builds a /bin/sh command line with -D and -l inside double quotes
// and does not escape them, so these characters would be interpreted.
void check_quotable_by_pg_ctl(const fs::path& path) {
  if (path.string().find_first_of("\"$`\\\n") != std::string::npos)
    throw Error("the path " + path.string() +
                " contains a character pg_ctl cannot quote (\" $ ` \\ or a newline): choose "
                "another TWINFLOW_HOME");
}

// Single-quotes for /bin/sh, which parses pg_ctl's -o string.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Quotes a value of a libpq key=value conninfo string when it needs it.
std::string conninfo_quote(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \t\n'\\") == std::string::npos) return s;
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

bool has_server_programs(const fs::path& dir) {
  return is_executable_file(dir / "initdb") && is_executable_file(dir / "pg_ctl") &&
         is_executable_file(dir / "postgres");
}

// "15" -> {15}, "9.6" -> {9, 6}; empty when the name is not a version.
std::vector<int> parse_version(const std::string& name) {
  std::vector<int> parts;
  std::istringstream in(name);
  std::string part;
  while (std::getline(in, part, '.')) {
    if (part.empty() || part.size() > 6 ||
        part.find_first_not_of("0123456789") != std::string::npos)
      return {};
    parts.push_back(std::stoi(part));
  }
  return parts;
}

// The newest Debian-style installation, /usr/lib/postgresql/VERSION/bin.
std::optional<fs::path> newest_debian_bindir() {
  std::optional<fs::path> best;
  std::vector<int> best_version;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    std::vector<int> version = parse_version(entry.path().filename().string());
    if (version.empty() || !has_server_programs(entry.path() / "bin")) continue;
    if (!best || version > best_version) {
      best = entry.path() / "bin";
      best_version = version;
    }
  }
  return best;
}

std::optional<fs::path> bindir_on_path() {
  std::istringstream path(env_or_empty("PATH"));
  std::string dir;
  while (std::getline(path, dir, ':'))
    if (!dir.empty() && has_server_programs(dir)) return fs::path(dir);
  return std::nullopt;
}

// The data directory's major version, e.g. "15"; empty before initdb.
std::string cluster_version(const fs::path& data_dir) {
  return read_first_line(data_dir / "PG_VERSION");
}

std::string read_from(const fs::path& path, std::uintmax_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(static_cast<std::streamoff>(offset));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void touch(const fs::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw SystemError("cannot create " + path.string(), errno);
  ::close(fd);
}

std::uintmax_t size_or_zero(const fs::path& path) {
  std::error_code ec;
  std::uintmax_t size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

// ---- Connections --------------------------------------------------------

bool accepts_connections(const std::string& conninfo) {
  return ::PQping(conninfo.c_str()) == PQPING_OK;
}

bool is_duplicate_database(const pqxx::sql_error& e) {
  // 42P04 duplicate_database; 23505 when two CREATE DATABASE race on the catalog.
  return e.sqlstate() == "42P04" || e.sqlstate() == "23505";
}

}  // namespace

// Who runs the server, and how we run PostgreSQL's programs as that user.
struct EmbeddedPostgres::Launcher {
  std::string user;
  UserIds ids;
  fs::path runuser;  // empty: run the programs directly
  fs::path bindir;

  std::vector<std::string> argv(const std::string& program,
                                const std::vector<std::string>& args) const {
    std::vector<std::string> out;
    if (!runuser.empty()) out = {runuser.string(), "-u", user, "--"};
    out.push_back((bindir / program).string());
    out.insert(out.end(), args.begin(), args.end());
    return out;
  }
};

EmbeddedPostgres::EmbeddedPostgres(EmbeddedPostgresOptions options)
    : home_(normalise_home(options.home.empty() ? default_twinflow_home() : options.home)),
      pg_dir_(home_ / "pg"),
      socket_dir_(choose_socket_dir(home_, pg_dir_)),
      durable_(options.durable),
      requested_bindir_(options.bindir.empty() ? env_or_empty("TWINFLOW_PG_BINDIR")
                                               : options.bindir) {}

std::string EmbeddedPostgres::conninfo(const std::string& dbname) const {
  return "host=" + conninfo_quote(socket_dir_.string()) + " port=" + kPort +
         " dbname=" + conninfo_quote(dbname) + " user=" + kSuperuser;
}

bool EmbeddedPostgres::postmaster_alive() const {
  return is_postmaster_of(read_lock_file_pid(data_dir() / "postmaster.pid"), data_dir());
}

bool EmbeddedPostgres::is_running() const {
  PidFile pid_file = read_postmaster_pid_file(data_dir());
  return pid_file.ready && is_postmaster_of(pid_file.pid, data_dir()) &&
         is_unix_socket(socket_dir_ / kSocketName);
}

std::string EmbeddedPostgres::ensure_running() {
  // The common case, on every CLI invocation: a few small reads and stats.
  // A test connection would cost a backend start (~2-20 ms), and the
  // caller's own connection comes right after anyway.
  if (is_running() && ::access(database_marker().c_str(), F_OK) == 0) return conninfo();
  check_quotable_by_pg_ctl(pg_dir_);
  Launcher server = launcher();
  prepare_directories(server);
  FileLock lock(pg_dir_ / "lock");
  if (cluster_version(data_dir()).empty()) initialise_cluster(server);
  start_or_wait(server);
  create_database_if_missing();
  return conninfo();
}

void EmbeddedPostgres::stop() {
  if (!postmaster_alive()) return;
  Launcher server = launcher();
  FileLock lock(pg_dir_ / "lock");
  if (!postmaster_alive()) return;
  std::vector<std::string> argv =
      server.argv("pg_ctl", {"-D", data_dir().string(), "-m", "fast", "-w", "-t", "60", "stop"});
  CommandResult result = run_command(argv, pg_dir_, kMaxShownOutput);
  if (!result.ok() && postmaster_alive())
    throw Error("cannot stop the PostgreSQL server of " + data_dir().string() + " (" +
                describe_wait_status(result.status) + "): " + command_line(argv) + "\n" +
                result.output);
}

EmbeddedPostgres::Launcher EmbeddedPostgres::launcher() const {
  Launcher out;
  out.bindir = find_bindir();
  if (::geteuid() != 0) {
    out.ids = {::geteuid(), ::getegid()};
    return out;
  }
  std::optional<UserIds> ids = lookup_user(kServerUserWhenRoot);
  if (!ids)
    throw Error(
        "twinflow runs as root, and PostgreSQL refuses to run as root, so the embedded server "
        "runs as the unprivileged user `postgres`, which does not exist: create it (e.g. "
        "`useradd --system --user-group postgres`), or set TWINFLOW_DATABASE_URL");
  out.user = kServerUserWhenRoot;
  out.ids = *ids;
  out.runuser = find_runuser();
  return out;
}

std::string EmbeddedPostgres::find_bindir() const {
  if (!requested_bindir_.empty()) {
    if (has_server_programs(requested_bindir_)) return requested_bindir_;
    throw Error(std::string(kNotFound) + " (no initdb, pg_ctl and postgres in " +
                requested_bindir_ + ")");
  }
  // A cluster can only be run by the major version that created it.
  std::string version = cluster_version(data_dir());
  fs::path matching = fs::path("/usr/lib/postgresql") / version / "bin";
  if (!version.empty() && has_server_programs(matching)) return matching.string();
  if (auto dir = newest_debian_bindir()) return dir->string();
  if (auto dir = bindir_on_path()) return dir->string();
  throw Error(std::string(kNotFound) +
              " (looked in /usr/lib/postgresql/*/bin and on PATH for initdb)");
}

void EmbeddedPostgres::prepare_directories(const Launcher& server) const {
  std::error_code ec;
  fs::create_directories(home_, ec);
  if (ec) throw Error("cannot create twinflow home " + home_.string() + ": " + ec.message());
  if (!server.runuser.empty()) let_others_traverse(home_, server.user);
  make_private_dir(pg_dir_, server.ids);
  make_private_dir(pg_dir_ / "log", server.ids);
  make_private_dir(socket_dir_, server.ids);
}

void EmbeddedPostgres::initialise_cluster(const Launcher& server) const {
  // initdb works in a staging directory that is renamed when complete, so an
  // interrupted initdb never leaves something that looks like a cluster.
  fs::path staging = pg_dir_ / "data.init";
  std::error_code ec;
  fs::remove_all(staging, ec);
  fs::remove(database_marker(), ec);  // it spoke of an earlier cluster
  if (fs::exists(data_dir(), ec) && !fs::is_empty(data_dir(), ec))
    throw Error(data_dir().string() +
                " is not empty but holds no PostgreSQL cluster (no PG_VERSION): move it away");
  fs::remove(data_dir(), ec);
  std::vector<std::string> args = {"-D", staging.string(), "-U", kSuperuser, "-E", "UTF8"};
  // trust is safe: only the server's user (and root) can reach the socket.
  for (const char* flag :
       {"--locale=C.UTF-8", "--auth-local=trust", "--auth-host=reject", "--no-instructions"})
    args.push_back(flag);
  if (!durable_) args.push_back("--no-sync");
  std::vector<std::string> argv = server.argv("initdb", args);
  CommandResult result = run_command(argv, pg_dir_, kMaxShownOutput);
  if (!result.ok())
    throw Error("initdb failed for " + data_dir().string() + " (" +
                describe_wait_status(result.status) + "): " + command_line(argv) + "\n" +
                result.output);
  if (::rename(staging.c_str(), data_dir().c_str()) != 0)
    throw SystemError("cannot rename " + staging.string() + " to " + data_dir().string(), errno);
}

void EmbeddedPostgres::start_or_wait(const Launcher& server) const {
  std::string info = conninfo("postgres");
  auto deadline = Clock::now() + kReadyTimeout;
  // A live postmaster that does not answer is starting up, recovering from a
  // crashed backend, or shutting down: wait for it rather than start another.
  while (postmaster_alive()) {
    if (accepts_connections(info)) return;
    if (Clock::now() > deadline)
      throw Error("the PostgreSQL server of " + data_dir().string() +
                  " is running but has not accepted connections on " + socket_dir_.string() +
                  " for " + std::to_string(kReadyTimeout.count()) + " s; see " +
                  log_file().string());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  remove_stale_lock_files();
  start_server(server);
}

// PostgreSQL treats a lock file whose pid answers kill(pid, 0) as in use; a
// zombie postmaster, or another process that got its pid, does. We hold our
// flock and have checked that no postmaster of ours runs, so they are stale.
// (Old backends still attached to shared memory are caught separately: the
// server checks its shared memory segment, keyed on the data directory.)
void EmbeddedPostgres::remove_stale_lock_files() const {
  for (const fs::path& lock :
       {data_dir() / "postmaster.pid", socket_dir_ / (std::string(kSocketName) + ".lock")}) {
    pid_t pid = read_lock_file_pid(lock);
    if (pid > 0 && !is_postmaster_of(pid, data_dir()) && ::unlink(lock.c_str()) != 0 &&
        errno != ENOENT)
      throw SystemError("cannot remove stale lock file " + lock.string(), errno);
  }
}

std::string EmbeddedPostgres::server_options() const {
  // -k takes a list of directories; double quotes make ours exactly one.
  std::string options = "-k " + shell_quote("\"" + socket_dir_.string() + "\"") +
                        " -c listen_addresses='' -p " + kPort;
  if (!durable_) options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
  return options;
}

void EmbeddedPostgres::start_server(const Launcher& server) const {
  check_quotable_by_pg_ctl(log_file());
  std::vector<std::string> argv =
      server.argv("pg_ctl", {"-D", data_dir().string(), "-l", log_file().string(), "-w", "-t", "60",
                             "-o", server_options(), "start"});
  constexpr int kAttempts = 20;
  for (int attempt = 1;; ++attempt) {
    std::uintmax_t log_start = size_or_zero(log_file());
    CommandResult result = run_command(argv, pg_dir_, kMaxShownOutput);
    if (result.ok()) return;
    std::string log = read_from(log_file(), log_start);
    // After a kill -9 of the postmaster, its children take a moment to notice
    // and let go of the shared memory the new server wants.
    if (attempt < kAttempts && log.find("is still in use") != std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      continue;
    }
    throw Error("cannot start the PostgreSQL server of " + data_dir().string() + " (" +
                describe_wait_status(result.status) + "): " + command_line(argv) + "\n" +
                result.output + "server log " + log_file().string() + ":\n" +
                tail(log, kMaxShownOutput));
  }
}

void EmbeddedPostgres::create_database_if_missing() const {
  try {
    pqxx::connection conn(conninfo("postgres"));
    pqxx::nontransaction tx(conn);
    if (tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", kSuperuser).empty()) {
      try {
        tx.exec(std::string("CREATE DATABASE ") + tx.quote_name(kSuperuser));
      } catch (const pqxx::sql_error& e) {
        if (!is_duplicate_database(e)) throw;  // else someone else got there first
      }
    }
  } catch (const pqxx::failure& e) {
    throw Error("cannot create the database twinflow in the PostgreSQL cluster " +
                data_dir().string() + ": " + e.what());
  }
  touch(database_marker());
}

fs::path default_twinflow_home() {
  if (std::string home = env_or_empty("TWINFLOW_HOME"); !home.empty()) return home;
  // The XDG spec says to ignore a relative XDG_DATA_HOME.
  if (std::string xdg = env_or_empty("XDG_DATA_HOME"); !xdg.empty() && xdg[0] == '/')
    return fs::path(xdg) / "twinflow";
  std::string home = env_or_empty("HOME");
  if (home.empty()) {
    std::vector<char> buf(16384);
    struct passwd pw;
    struct passwd* found = nullptr;
    if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found)
      home = pw.pw_dir;
  }
  if (home.empty())
    throw Error("cannot tell where twinflow should keep its data: set TWINFLOW_HOME");
  return fs::path(home) / ".local" / "share" / "twinflow";
}

}  // namespace twinflow
