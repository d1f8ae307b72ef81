// decode_html_bytes: turns the bytes of a saved page into UTF-8.
//
// Crawled pages are mostly UTF-8, but older blogs still declare (or silently
// use) windows-1252 / ISO-8859-1, and some servers send UTF-16. The rules,
// after the WHATWG encoding sniffing algorithm, simplified:
//   1. a byte order mark wins (UTF-8, UTF-16LE, UTF-16BE);
//   2. else a <meta charset> or <meta http-equiv=Content-Type> in the first
//      kilobytes; the Latin-1 family (latin1, iso-8859-1, us-ascii, cp1252...)
//      decodes as windows-1252, as browsers do, and iso-8859-15 as itself —
//      except that text declared Latin-1 which is entirely well-formed UTF-8
//      with some multi-byte sequences is UTF-8 mislabelled (real Latin-1 text
//      almost never forms valid UTF-8 sequences by accident);
//   3. else UTF-8 if the bytes are valid UTF-8, else windows-1252.
// Other declared encodings (Shift_JIS, GBK, KOI8-R...) are not supported and
// are read as UTF-8. Ill-formed UTF-8 becomes U+FFFD.
#pragma once

#include <string>
#include <string_view>

namespace twinflow {

std::string decode_html_bytes(std::string_view bytes);

// The charset label a page declares in a <meta> tag near its start, lower
// case, or "" when it declares none.
std::string sniff_meta_charset(std::string_view bytes);

}  // namespace twinflow
