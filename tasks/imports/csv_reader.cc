// RFC 4180 CSV. See csv_reader.h.
#include "tasks/imports/csv_reader.h"

#include <algorithm>
#include <cctype>

namespace twinflow {

namespace {

std::string normalized(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

int CsvTable::column(std::string_view name) const {
  const std::string wanted = normalized(name);
  for (size_t i = 0; i < header.size(); ++i)
    if (normalized(header[i]) == wanted) return static_cast<int>(i);
  return -1;
}

const std::string& CsvTable::field(size_t row, std::string_view name) const {
  static const std::string kEmpty;
  const int c = column(name);
  return c < 0 ? kEmpty : rows[row][static_cast<size_t>(c)];
}

CsvTable read_csv(std::string_view text, size_t max_rows) {
  CsvTable table;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::string> record;
  std::string field;
  size_t line = 1, record_line = 1, i = 0;
  bool any_field = false;
  auto end_record = [&]() {
    record.push_back(std::move(field));
    field.clear();
    if (table.header.empty() && table.rows.empty() && table.error.empty()) {
      table.header = std::move(record);
    } else if (!(record.size() == 1 && record[0].empty())) {  // blank lines are skipped
      record.resize(std::max(record.size(), table.header.size()));
      record.resize(table.header.size());
      table.rows.push_back(std::move(record));
      table.row_lines.push_back(record_line);
    }
    record.clear();
    any_field = false;
    record_line = line;
  };
  while (i < text.size()) {
    if (table.rows.size() >= max_rows) {
      table.error = "more than " + std::to_string(max_rows) + " rows";
      return table;
    }
    const char c = text[i];
    if (c == '"' && field.empty() && !any_field) {
      // A quoted field, up to the closing quote not followed by another.
      const size_t opened_at = line;
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        if (text[i] == '\n') ++line;
        field += text[i++];
      }
      if (!closed) {
        table.error = "line " + std::to_string(opened_at) + ": unterminated quoted field";
        return table;
      }
      any_field = true;
      continue;
    }
    if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      any_field = false;
      ++i;
      continue;
    }
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    if (c == '\n' || c == '\r') {
      ++line;
      ++i;
      end_record();
      continue;
    }
    field += c;
    ++i;
  }
  if (!field.empty() || !record.empty() || any_field) end_record();
  return table;
}

}  // namespace twinflow
