// The folding table: ranges and mappings of the Unicode blocks that hold
// decorative letters and pictographs; see unicode_fold.h.
#include "tasks/text/unicode_fold.h"

namespace twinflow {

namespace {

using Action = CharFold::Action;

constexpr CharFold keep() {
  return {};
}
constexpr CharFold drop() {
  return {Action::kDrop, 0, {}};
}
constexpr CharFold space() {
  return {Action::kSpace, 0, {}};
}
constexpr CharFold pictograph() {
  return {Action::kPictograph, 0, {}};
}
constexpr CharFold map(char32_t cp) {
  return {Action::kMap, cp, {}};
}
constexpr CharFold expand(std::string_view text) {
  return {Action::kExpand, 0, text};
}

constexpr bool in(char32_t cp, char32_t lo, char32_t hi) {
  return cp >= lo && cp <= hi;
}

// Index 0..51 of a Latin alphabet laid out as A-Z then a-z.
constexpr char32_t latin52(char32_t index) {
  return index < 26 ? U'A' + index : U'a' + (index - 26);
}

// The Greek alphabets of the math block hold 58 characters each: capitals
// (with THETA SYMBOL where FINAL SIGMA would be), nabla, small letters, and
// seven symbol variants.
char32_t greek58(char32_t index) {
  static constexpr char32_t kTail[] = {0x2202, 0x03F5, 0x03D1, 0x03F0, 0x03D5, 0x03F1, 0x03D6};
  if (index < 25) return index == 17 ? 0x03F4 : 0x0391 + index;
  if (index == 25) return 0x2207;
  if (index < 51) return 0x03B1 + (index - 26);
  return kTail[index - 51];
}

// Mathematical Alphanumeric Symbols, U+1D400..U+1D7FF.
CharFold fold_math_alphanumeric(char32_t cp) {
  if (cp <= 0x1D6A3) return map(latin52((cp - 0x1D400) % 52));
  if (cp == 0x1D6A4) return map(U'i');  // italic dotless i
  if (cp == 0x1D6A5) return map(U'j');  // italic dotless j
  if (in(cp, 0x1D6A8, 0x1D7C9)) return map(greek58((cp - 0x1D6A8) % 58));
  if (cp == 0x1D7CA) return map(0x03DC);  // bold digamma
  if (cp == 0x1D7CB) return map(0x03DD);
  if (cp >= 0x1D7CE) return map(U'0' + (cp - 0x1D7CE) % 10);
  return keep();
}

// Letterlike Symbols that fill the holes of the math alphabets (the math block
// leaves e.g. SCRIPT CAPITAL B unassigned because U+212C already existed), so
// "fancy" text mixes both blocks.
CharFold fold_letterlike(char32_t cp) {
  switch (cp) {
    case 0x2102:
      return map(U'C');
    case 0x210A:
      return map(U'g');
    case 0x210B:
    case 0x210C:
    case 0x210D:
      return map(U'H');
    case 0x210E:
      return map(U'h');
    case 0x2110:
    case 0x2111:
      return map(U'I');
    case 0x2112:
      return map(U'L');
    case 0x2115:
      return map(U'N');
    case 0x2119:
      return map(U'P');
    case 0x211A:
      return map(U'Q');
    case 0x211B:
    case 0x211C:
    case 0x211D:
      return map(U'R');
    case 0x2124:
    case 0x2128:
      return map(U'Z');
    case 0x212C:
      return map(U'B');
    case 0x212D:
      return map(U'C');
    case 0x212F:
      return map(U'e');
    case 0x2130:
      return map(U'E');
    case 0x2131:
      return map(U'F');
    case 0x2133:
      return map(U'M');
    case 0x2134:
      return map(U'o');
    default:
      return keep();
  }
}

CharFold fold_ligature(char32_t cp) {
  switch (cp) {
    case 0xFB00:
      return expand("ff");
    case 0xFB01:
      return expand("fi");
    case 0xFB02:
      return expand("fl");
    case 0xFB03:
      return expand("ffi");
    case 0xFB04:
      return expand("ffl");
    case 0xFB05:
    case 0xFB06:
      return expand("st");
    default:
      return keep();
  }
}

// U+1F100..U+1F1FF: parenthesized, squared and negative letters read as
// letters; the rest (regional indicators that make flags, squared words such
// as U+1F197 OK) are emoji.
CharFold fold_enclosed_supplement(char32_t cp) {
  if (in(cp, 0x1F110, 0x1F129)) return map(U'A' + (cp - 0x1F110));
  if (in(cp, 0x1F130, 0x1F149)) return map(U'A' + (cp - 0x1F130));
  if (in(cp, 0x1F150, 0x1F169)) return map(U'A' + (cp - 0x1F150));
  if (in(cp, 0x1F170, 0x1F189)) return map(U'A' + (cp - 0x1F170));
  return pictograph();
}

// Format characters: invisible, and meaningless once text leaves its
// renderer. ZERO WIDTH NON-JOINER (U+200C) stays: Persian and Indic spelling
// depends on it.
bool is_format_char(char32_t cp) {
  return in(cp, 0x80, 0x9F) || cp == 0xAD || cp == 0x200B || in(cp, 0x200D, 0x200F) ||
         in(cp, 0x202A, 0x202E) || in(cp, 0x2060, 0x2064) || in(cp, 0x2066, 0x206F) ||
         cp == 0x20E3 || in(cp, 0xFE00, 0xFE0F) || cp == 0xFEFF || in(cp, 0xFFF9, 0xFFFC) ||
         in(cp, 0xE0000, 0xE007F) || in(cp, 0xE0100, 0xE01EF);
}

bool is_unicode_space(char32_t cp) {
  return cp == 0xA0 || cp == 0x1680 || in(cp, 0x2000, 0x200A) || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

// Pictographs below the U+1F000 planes: Misc Symbols, Dingbats and the few
// emoji scattered through Misc Technical and Misc Symbols and Arrows. Misc
// Technical keeps its keyboard symbols (U+2318 PLACE OF INTEREST SIGN is
// Command on a Mac keyboard), which technical writing uses.
bool is_bmp_pictograph(char32_t cp) {
  return in(cp, 0x2600, 0x27BF) || in(cp, 0x231A, 0x231B) || cp == 0x2328 || cp == 0x23CF ||
         in(cp, 0x23E9, 0x23F3) || in(cp, 0x23F8, 0x23FA) || in(cp, 0x2B05, 0x2B07) ||
         in(cp, 0x2B1B, 0x2B1C) || cp == 0x2B50 || cp == 0x2B55 || cp == 0x3030 || cp == 0x303D ||
         cp == 0x3297 || cp == 0x3299;
}

}  // namespace

CharFold fold_char(char32_t cp) {
  if (cp < 0x2000) {
    // Latin-1, Latin Extended, Greek, Cyrillic, Hebrew, Arabic, Indic...: all
    // kept apart from C1 controls, NO-BREAK SPACE and SOFT HYPHEN.
    if (cp <= 0xAD) {
      if (cp == 0xA0) return space();
      if (is_format_char(cp)) return drop();
    }
    if (cp == 0x1680) return space();
    return keep();
  }
  if (cp < 0x2100) {
    if (is_unicode_space(cp)) return space();
    if (cp == 0x2028 || cp == 0x2029) return map(U'\n');  // LINE/PARAGRAPH SEPARATOR
    if (is_format_char(cp)) return drop();
    return keep();
  }
  if (cp < 0x2150) return fold_letterlike(cp);
  if (in(cp, 0x24B6, 0x24CF)) return map(U'A' + (cp - 0x24B6));  // circled capitals
  if (in(cp, 0x24D0, 0x24E9)) return map(U'a' + (cp - 0x24D0));  // circled smalls
  if (is_bmp_pictograph(cp)) return pictograph();
  if (cp == 0x3000) return space();
  if (in(cp, 0xE000, 0xF8FF)) return pictograph();  // private use: icon-font glyphs
  if (in(cp, 0xFB00, 0xFB06)) return fold_ligature(cp);
  if (in(cp, 0xFF01, 0xFF5E)) return map(cp - 0xFEE0);  // fullwidth ASCII
  if (cp < 0x10000) return is_format_char(cp) ? drop() : keep();
  if (in(cp, 0x1D400, 0x1D7FF)) return fold_math_alphanumeric(cp);
  if (in(cp, 0x1F100, 0x1F1FF)) return fold_enclosed_supplement(cp);
  if (in(cp, 0x1F000, 0x1FAFF)) return pictograph();   // emoji and other pictographs
  if (in(cp, 0xF0000, 0x10FFFF)) return pictograph();  // supplementary private use
  return is_format_char(cp) ? drop() : keep();
}

}  // namespace twinflow
