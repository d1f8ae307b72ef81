// BinaryCopyReader: the rows of `COPY (SELECT ...) TO STDOUT (FORMAT binary)`,
// read through libpq on a connection of its own.
//
// A server's first load reads every vector of a model: as text (real[] out
// through float4out, back in through from_chars) that took about 20 s at
// 1M × 256, half of it in the database's formatting and half in parsing.
// In COPY's binary format a vector is its floats, big-endian, behind a small
// header, and a field is decoded with a byte swap. libpqxx 6.4 offers no
// binary COPY, hence libpq. One statement: one snapshot for all its rows.
//
// COPY takes no parameters: values in the query go as literal() makes them.
// Errors are Error, naming `what` (the caller's description of the read).
// Internal to store/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

typedef struct pg_conn PGconn;

namespace twinflow {

class BinaryCopyReader {
 public:
  // Connects; throws Error when it cannot.
  BinaryCopyReader(const std::string& conninfo, std::string what);
  ~BinaryCopyReader();
  BinaryCopyReader(const BinaryCopyReader&) = delete;
  BinaryCopyReader& operator=(const BinaryCopyReader&) = delete;

  // `value` as an SQL string literal, quoted and escaped for this connection.
  std::string literal(std::string_view value);
  // Starts `COPY (select) TO STDOUT (FORMAT binary)`.
  void start(const std::string& select);
  // The next row's fields, each a view of its bytes valid until the next
  // call (a NULL field: a null data()). False after the last row, once the
  // COPY is known to have succeeded. Throws Error on a failed COPY or a
  // malformed stream.
  bool next(std::vector<std::string_view>& fields);

 private:
  [[noreturn]] void fail(const std::string& why);
  void release();

  PGconn* connection_ = nullptr;
  std::string what_;
  char* row_ = nullptr;  // the current row, libpq's buffer
  bool header_read_ = false;
  bool done_ = false;  // the COPY ended and succeeded
};

// Decoders of binary COPY fields (big-endian); throw Error on a field of the
// wrong size or shape.
int64_t copy_int8(std::string_view field);
uint32_t copy_uint4(std::string_view field);  // int4, xid
// A one-dimensional real[] of exactly `dimension` non-null elements.
void copy_float4_array(std::string_view field, int dimension, float* out);

}  // namespace twinflow
