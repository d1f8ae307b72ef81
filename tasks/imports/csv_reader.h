// read_csv: RFC 4180 CSV, as data exports write it (LinkedIn's Shares.csv,
// Substack's posts.csv): fields separated by commas, records by CRLF or LF;
// a field in double quotes may hold commas, line breaks and doubled quotes
// (""). Lenient where exports are sloppy: a quote inside an unquoted field is
// kept as a character, short records are padded. An unterminated quoted field
// is an error naming the line where it began.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace twinflow {

struct CsvTable {
  std::vector<std::string> header;             // the first record
  std::vector<std::vector<std::string>> rows;  // each as wide as the header
  std::vector<size_t> row_lines;               // the line each row starts on (1-based)
  std::string error;                           // "" when the whole text was read
  bool ok() const { return error.empty(); }

  // The column named `name` (case-insensitive, surrounding blanks ignored), or -1.
  int column(std::string_view name) const;
  // The row's field in column `name`, or "" when there is no such column.
  const std::string& field(size_t row, std::string_view name) const;
};

// `text` must be UTF-8 (decode first); a UTF-8 byte order mark is skipped.
CsvTable read_csv(std::string_view text, size_t max_rows = 1000000);

}  // namespace twinflow
