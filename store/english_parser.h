// The default text search parser of PostgreSQL 15 (wparser_def.c), ported to
// C++ for store/english_analyzer.h: text in, tokens with their wparser_def.c
// type out, in the server's order. Internal to store/.
//
// The port keeps the same states, the same ordered action lists, the same
// push/pop/clear/merge semantics and the same recursive sub-parses for hosts
// (e-mail) and URL paths, so tokens, token types and their order agree.
// Character classes are those of the server's wide-character path under
// lc_ctype C.UTF-8 (PostgreSQL 15 does not treat C.UTF-8 as "C"): glibc's
// iswalpha/iswdigit/iswspace/iswxdigit/towlower in the C.UTF-8 locale.
// Known differences from the server:
//  - p_isspecial (zero display width or Indic "strange letter") uses glibc's
//    "combining" class instead of PostgreSQL's own combining-character table;
//    they differ only for rare non-letter marks (spacing combining marks that
//    glibc does not call alphabetic).
//  - Invalid UTF-8 (which PostgreSQL refuses to store) separates words.
//  - A NUL byte (which PostgreSQL text cannot hold) separates words.
#pragma once

#include <locale.h>

#include <cstddef>
#include <cstdint>
#include <vector>

// Named, not anonymous: the store builds as one unity file, where these short
// names would meet other files' helpers.
namespace twinflow::english_parser {

// clang-format off
// ---- Token types (wparser_def.c numbering) ----------------------------------
enum : uint8_t {
  ASCIIWORD = 1, WORD_T, NUMWORD, EMAIL, URL_T, HOST, SCIENTIFIC, VERSIONNUMBER, NUMPARTHWORD,
  PARTHWORD, ASCIIPARTHWORD, SPACE, TAG_T, PROTOCOL, NUMHWORD, ASCIIHWORD, HWORD, URLPATH,
  FILEPATH, DECIMAL_T, SIGNEDINT, UNSIGNEDINT, XMLENTITY
};
// clang-format on

struct Item;  // one action of a state (english_parser.cc)

struct Token {
  uint8_t type = 0;  // the enum above
  int start = 0;     // byte offset in the text
  int len = 0;       // bytes
  int chars = 0;     // characters
};

class Parser {
 public:
  Parser(const char* s, int len) : s_(s), len_(len) { stack_.push_back(Pos{}); }

  // TParserGet: the next token; false at the end.
  bool get(Token& out);

  bool wanthost = false;

 private:
  struct Pos {
    int posbyte = 0, charlen = 0, lenbyte = 0, lenchar = 0;
    uint8_t state = 0;  // Base
    const Item* pushed = nullptr;
  };
  bool test(const Item& it, uint8_t flags, Pos& st);
  bool sub_parse(Pos& st, uint8_t start_state, uint8_t want_type);

  const char* s_;
  int len_;
  bool ignore_ = false;
  int token_start_ = 0;
  std::vector<Pos> stack_;
};

// Decodes one UTF-8 character at p (n > 0 bytes left): its code point and
// length; invalid or truncated sequences give length 1 and cp 0xFFFFFFFF.
int decode(const unsigned char* p, size_t n, uint32_t& cp);

// The C.UTF-8 locale the database runs under, or null if the machine lacks it
// (then non-ASCII characters are letters, as PostgreSQL has them under "C").
locale_t c_utf8_locale();

}  // namespace twinflow::english_parser
