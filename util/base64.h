// Base64 (RFC 4648, with padding, no line breaks) by OpenSSL's EVP block
// coder. The store keeps binary it reads often (IVF codes, migration 0030) as
// base64 text: PostgreSQL sends text as it is stored, while bytea's text
// form is hex the server writes at about 3 ns a byte.
#pragma once

#include <string>
#include <string_view>

namespace twinflow {

std::string base64_encode(std::string_view bytes);

// The bytes that `text` encodes; 0 unless it is base64 (a multiple of four
// characters, padding only at the end).
size_t base64_size(std::string_view text);

// Decodes `text` into `out`, which holds base64_size(text) bytes, plus two
// more of scratch (the decoder writes whole groups of three); false when
// `text` is not base64.
bool base64_decode(std::string_view text, unsigned char* out);

}  // namespace twinflow
