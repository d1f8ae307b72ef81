#include "util/base64.h"

#include <openssl/evp.h>

#include <algorithm>

namespace twinflow {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  if (bytes.empty()) return out;
  // EVP_EncodeBlock takes an int length: encode in pieces of whole groups.
  constexpr size_t kPiece = size_t{3} << 28;
  size_t written = 0;
  for (size_t at = 0; at < bytes.size(); at += kPiece) {
    const size_t n = std::min(kPiece, bytes.size() - at);
    written += static_cast<size_t>(EVP_EncodeBlock(
        reinterpret_cast<unsigned char*>(out.data() + written),
        reinterpret_cast<const unsigned char*>(bytes.data() + at), static_cast<int>(n)));
  }
  out.resize(written);
  return out;
}

size_t base64_size(std::string_view text) {
  if (text.size() % 4 != 0) return 0;
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  return text.size() / 4 * 3 - pad;
}

bool base64_decode(std::string_view text, unsigned char* out) {
  if (text.size() % 4 != 0) return false;
  if (text.empty()) return true;
  // EVP_DecodeBlock skips whitespace around the text and reads '=' anywhere
  // as zero bits: only padding that ends the text is base64 here.
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  if (space(text.front()) || space(text.back())) return false;
  const size_t pad = text.size() / 4 * 3 - base64_size(text);
  if (text.find('=') < text.size() - pad) return false;
  constexpr size_t kPiece = size_t{4} << 28;  // whole groups, within an int
  for (size_t at = 0; at < text.size(); at += kPiece) {
    const size_t n = std::min(kPiece, text.size() - at);
    if (EVP_DecodeBlock(out + at / 4 * 3, reinterpret_cast<const unsigned char*>(text.data() + at),
                        static_cast<int>(n)) < 0)
      return false;
  }
  return true;
}

}  // namespace twinflow
