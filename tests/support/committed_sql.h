// A statement run the way another process would: on a connection of its own,
// committed before the call returns (tests of what a reader sees next).
#pragma once

#include <pqxx/pqxx>
#include <string>

namespace twinflow {

inline void exec_committed(const std::string& conninfo, const std::string& statement) {
  pqxx::connection c(conninfo);
  pqxx::work tx(c);
  tx.exec(statement);
  tx.commit();
}

}  // namespace twinflow
