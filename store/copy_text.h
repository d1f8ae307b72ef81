// CopyText: rows for COPY ... FROM STDIN in PostgreSQL's text format, built
// in one buffer by the caller, and copy_rows, which sends such a buffer.
//
// libpqxx 6.4's stream_to converts and escapes every field of every row one
// character at a time, on the thread that holds the transaction. The chunk
// writer sends some 400 MB that way at 20,000 documents (chunk texts and
// BM25 postings), so it builds its rows here instead: text is escaped a run
// at a time, bytea goes as hex (which needs no escaping), and the rows can be
// built on another thread, before the transaction opens (docs/STEPS.md).
// Internal to store/.
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

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
  size_t rows() const { return rows_; }
  bool empty() const { return rows_ == 0; }
  void clear();
  void reserve(size_t bytes) { data_.reserve(bytes); }

 private:
  void separate();

  std::string data_;
  size_t rows_ = 0;
  bool row_open_ = false;
};

// COPY `table` (`columns`) FROM STDIN with `rows`' rows, in the transaction
// `tx`, sent in pieces of about a megabyte. Throws what libpqxx throws (a
// pqxx::sql_error when the database refuses a row).
void copy_rows(pqxx::work& tx, const std::string& table, const std::vector<std::string>& columns,
               const CopyText& rows);

}  // namespace twinflow
