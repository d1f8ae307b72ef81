#include "store/copy_text.h"

#include <array>
#include <charconv>
#include <pqxx/tablewriter>

#include "store/bytea_text.h"

namespace twinflow {
namespace {

// What a byte becomes in COPY's text format: itself (0) or a backslash and
// this letter.
constexpr std::array<char, 256> kEscapes = [] {
  std::array<char, 256> escapes{};
  escapes['\\'] = '\\';
  escapes['\t'] = 't';
  escapes['\n'] = 'n';
  escapes['\r'] = 'r';
  return escapes;
}();

// Rows are handed to libpq once about this many bytes have gathered: at 1 MB
// the clean step wrote 5-10% slower than at 64 KB (feature_bench).
constexpr size_t kPieceBytes = size_t{64} << 10;

}  // namespace

void CopyText::separate() {
  if (row_open_) data_.push_back('\t');
  row_open_ = true;
}

CopyText& CopyText::text(std::string_view value) {
  separate();
  size_t run = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char escape = kEscapes[static_cast<unsigned char>(value[i])];
    if (escape == 0) continue;
    data_.append(value.data() + run, i - run);
    data_.push_back('\\');
    data_.push_back(escape);
    run = i + 1;
  }
  data_.append(value.data() + run, value.size() - run);
  return *this;
}

CopyText& CopyText::integer(int64_t value) {
  separate();
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  data_.append(digits, end);
  return *this;
}

CopyText& CopyText::bytea(std::string_view bytes) {
  separate();
  data_.append("\\\\x");  // COPY's escaped backslash, then bytea's hex marker
  append_hex(data_, bytes);
  return *this;
}

CopyText& CopyText::null() {
  separate();
  data_.append("\\N");
  return *this;
}

void CopyText::end_row() {
  data_.push_back('\n');
  row_open_ = false;
}

void CopyText::clear() {
  data_.clear();
  row_open_ = false;
}

// libpqxx 6.4 has no public way to send rows already in COPY's format other
// than tablewriter, which it marks deprecated in favour of stream_to (which
// cannot: it escapes what it is given).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
CopyStream::CopyStream(pqxx::work& tx, const std::string& table,
                       const std::vector<std::string>& columns)
    : writer_(std::make_unique<pqxx::tablewriter>(tx, table, columns.begin(), columns.end())) {}
#pragma GCC diagnostic pop

CopyStream::~CopyStream() = default;

void CopyStream::end_row() {
  pending_.end_row();
  if (pending_.data().size() >= kPieceBytes) send();
}

void CopyStream::send() {
  const std::string& data = pending_.data();
  // write_raw_line adds the last row's newline back.
  if (!data.empty()) writer_->write_raw_line(data.substr(0, data.size() - 1));
  pending_.clear();
}

void CopyStream::complete() {
  send();
  writer_->complete();
}

}  // namespace twinflow
