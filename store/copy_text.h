// CopyText: rows for COPY ... FROM STDIN in PostgreSQL's text format, built
// in a buffer by the caller, and CopyStream, which sends them.
//
// libpqxx 6.4's stream_to converts and escapes every field of every row one
// character at a time, on the thread that holds the transaction. The chunk
// writer sends some 400 MB that way at 20,000 documents (chunk texts and
// BM25 postings), so it builds its rows here instead: text is escaped a run
// at a time, bytea goes as hex (which needs no escaping), and the rows go to
// libpq 64 KB at a time, so the database reads one piece while the next is
// built (docs/STEPS.md).
// Internal to store/.
#pragma once

#include <cstdint>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

namespace pqxx {
class tablewriter;
}

namespace twinflow {

class CopyText {
 public:
  // One field each, in the order of the COPY's columns; end_row() after the
  // last field of a row.
  CopyText& text(std::string_view value);  // escaped: \ tab newline CR
  CopyText& integer(int64_t value);
  CopyText& bytea(std::string_view bytes);  // as \\x and two hex digits a byte
  CopyText& null();                         // \N
  void end_row();

  const std::string& data() const { return data_; }
  void clear();

 private:
  void separate();

  std::string data_;
  bool row_open_ = false;
};

// COPY `table` (`columns`) FROM STDIN in the transaction `tx`, its rows
// built in row() and sent 64 KB at a time, so that memory stays small
// however many rows there are. Nothing else may use the transaction until
// complete(). Throws what libpqxx throws (a pqxx::sql_error when the database
// refuses a row), from end_row() or complete().
class CopyStream {
 public:
  CopyStream(pqxx::work& tx, const std::string& table, const std::vector<std::string>& columns);
  ~CopyStream();
  CopyStream(const CopyStream&) = delete;
  CopyStream& operator=(const CopyStream&) = delete;

  // Where the next row's fields go; end_row() here, not on it.
  CopyText& row() { return pending_; }
  void end_row();
  // Sends the rows not yet sent and ends the COPY.
  void complete();

 private:
  void send();

  std::unique_ptr<pqxx::tablewriter> writer_;
  CopyText pending_;
};

}  // namespace twinflow
