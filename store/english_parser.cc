// The default text search parser's state machine (see english_parser.h).
#include "store/english_parser.h"

#include <wchar.h>
#include <wctype.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string_view>

namespace twinflow::english_parser {

// clang-format off
// ---- Parser states, in wparser_def.c order ----------------------------------
enum St : uint8_t {
  Base, NumWord, AsciiWord, Word, UInt, SIntFirst, SInt, Space, UDecFirst, UDec, DecFirst, Dec,
  VerVersion, SVerVersion, VersionFirst, Version, MantFirst, MantSign, Mant, EntFirst, Ent,
  EntNumFirst, EntNum, EntHexFirst, EntHex, EntEnd, TagFirst, XMLBegin, TagCloseFirst, TagName,
  TagBeginEnd, Tag, TagEscK, TagEscKK, TagBackSl, TagEnd, CommFirst, CommLast, Comm,
  CloseCommFirst, CloseCommLast, CommEnd, HostFirstDomain, HostDomainSecond, HostDomain,
  PortFirst, Port, HostFirstAN, Host, Email, FileFirst, FileTwiddle, PathFirst, PathFirstFirst,
  PathSecond, File, FileNext, URLPathFirst, URLPathStart, URLPath, FURL, ProtoFirst, ProtoSecond,
  ProtoEnd, HAsciiWordFirst, HAsciiWord, HWordFirst, HWord, HNumWordFirst, HNumWord,
  HDigitLookahead, ParseHyphen, ParseHyphenHyphen, HWordPart, HAsciiWordPart, HNumWordPart,
  HUInt, Null
};

// Character tests (the p_is* functions); cANY ends every list (isclass NULL).
enum Cls : uint8_t {
  cANY, cEOF, cEQ, cALPHA, cASCLET, cDIGIT, cALNUM, cNOTALNUM, cSPACE, cXDIGIT, cSPECIAL, cURL,
  cIGNORE, cSTOPHOST, cHOST, cURLPATH
};
// Action flags (A_*).
enum : uint8_t { NX = 0, BG = 1, PP = 2, PS = 4, RR = 8, CL = 16, MG = 32, CA = 64 };
// Special handlers.
enum : uint8_t { spNone, spTags, spFURL, spHyphen, spVer };

struct Item {
  uint8_t cls;
  char c;
  uint8_t flags;
  uint8_t to;
  uint8_t type = 0;
  uint8_t special = spNone;
};

constexpr Item kBase[] = {{cEOF,0,NX,Null},{cEQ,'<',PS,TagFirst},{cIGNORE,0,NX,Space},
  {cASCLET,0,NX,AsciiWord},{cALPHA,0,NX,Word},{cDIGIT,0,NX,UInt},{cEQ,'-',PS,SIntFirst},
  {cEQ,'+',PS,SIntFirst},{cEQ,'&',PS,EntFirst},{cEQ,'~',PS,FileTwiddle},{cEQ,'/',PS,FileFirst},
  {cEQ,'.',PS,PathFirstFirst},{cANY,0,NX,Space}};
constexpr Item kNumWord[] = {{cEOF,0,BG,Base,NUMWORD},{cALNUM,0,NX,NumWord},
  {cSPECIAL,0,NX,NumWord},{cEQ,'@',PS,Email},{cEQ,'/',PS,FileFirst},{cEQ,'.',PS,FileNext},
  {cEQ,'-',PS,HNumWordFirst},{cANY,0,BG,Base,NUMWORD}};
constexpr Item kAsciiWord[] = {{cEOF,0,BG,Base,ASCIIWORD},{cASCLET,0,NX,Null},
  {cEQ,'.',PS,HostFirstDomain},{cEQ,'.',PS,FileNext},{cEQ,'-',PS,HostFirstAN},
  {cEQ,'-',PS,HAsciiWordFirst},{cEQ,'_',PS,HostFirstAN},{cEQ,'@',PS,Email},
  {cEQ,':',PS,ProtoFirst},{cEQ,'/',PS,FileFirst},{cDIGIT,0,PS,Host},{cDIGIT,0,NX,NumWord},
  {cALPHA,0,NX,Word},{cSPECIAL,0,NX,Word},{cANY,0,BG,Base,ASCIIWORD}};
constexpr Item kWord[] = {{cEOF,0,BG,Base,WORD_T},{cALPHA,0,NX,Null},{cSPECIAL,0,NX,Null},
  {cDIGIT,0,NX,NumWord},{cEQ,'-',PS,HWordFirst},{cANY,0,BG,Base,WORD_T}};
constexpr Item kUInt[] = {{cEOF,0,BG,Base,UNSIGNEDINT},{cDIGIT,0,NX,Null},
  {cEQ,'.',PS,HostFirstDomain},{cEQ,'.',PS,UDecFirst},{cEQ,'e',PS,MantFirst},
  {cEQ,'E',PS,MantFirst},{cEQ,'-',PS,HostFirstAN},{cEQ,'_',PS,HostFirstAN},{cEQ,'@',PS,Email},
  {cASCLET,0,PS,Host},{cALPHA,0,NX,NumWord},{cSPECIAL,0,NX,NumWord},{cEQ,'/',PS,FileFirst},
  {cANY,0,BG,Base,UNSIGNEDINT}};
constexpr Item kSIntFirst[] = {{cEOF,0,PP,Null},{cDIGIT,0,NX|CL,SInt},{cANY,0,PP,Null}};
constexpr Item kSInt[] = {{cEOF,0,BG,Base,SIGNEDINT},{cDIGIT,0,NX,Null},{cEQ,'.',PS,DecFirst},
  {cEQ,'e',PS,MantFirst},{cEQ,'E',PS,MantFirst},{cANY,0,BG,Base,SIGNEDINT}};
constexpr Item kSpace[] = {{cEOF,0,BG,Base,SPACE},{cEQ,'<',BG,Base,SPACE},{cIGNORE,0,NX,Null},
  {cEQ,'-',BG,Base,SPACE},{cEQ,'+',BG,Base,SPACE},{cEQ,'&',BG,Base,SPACE},
  {cEQ,'/',BG,Base,SPACE},{cNOTALNUM,0,NX,Space},{cANY,0,BG,Base,SPACE}};
constexpr Item kUDecFirst[] = {{cEOF,0,PP,Null},{cDIGIT,0,CL,UDec},{cANY,0,PP,Null}};
constexpr Item kUDec[] = {{cEOF,0,BG,Base,DECIMAL_T},{cDIGIT,0,NX,UDec},
  {cEQ,'.',PS,VersionFirst},{cEQ,'e',PS,MantFirst},{cEQ,'E',PS,MantFirst},
  {cANY,0,BG,Base,DECIMAL_T}};
constexpr Item kDecFirst[] = {{cEOF,0,PP,Null},{cDIGIT,0,CL,Dec},{cANY,0,PP,Null}};
constexpr Item kDec[] = {{cEOF,0,BG,Base,DECIMAL_T},{cDIGIT,0,NX,Dec},{cEQ,'.',PS,VerVersion},
  {cEQ,'e',PS,MantFirst},{cEQ,'E',PS,MantFirst},{cANY,0,BG,Base,DECIMAL_T}};
constexpr Item kVerVersion[] = {{cEOF,0,PP,Null},{cDIGIT,0,RR,SVerVersion,0,spVer},
  {cANY,0,PP,Null}};
constexpr Item kSVerVersion[] = {{cEOF,0,PP,Null},{cDIGIT,0,BG|CA,UInt,SPACE},{cANY,0,NX,Null}};
constexpr Item kVersionFirst[] = {{cEOF,0,PP,Null},{cDIGIT,0,CL,Version},{cANY,0,PP,Null}};
constexpr Item kVersion[] = {{cEOF,0,BG,Base,VERSIONNUMBER},{cDIGIT,0,NX,Version},
  {cEQ,'.',PS,VersionFirst},{cANY,0,BG,Base,VERSIONNUMBER}};
constexpr Item kMantFirst[] = {{cEOF,0,PP,Null},{cDIGIT,0,CL,Mant},{cEQ,'+',NX,MantSign},
  {cEQ,'-',NX,MantSign},{cANY,0,PP,Null}};
constexpr Item kMantSign[] = {{cEOF,0,PP,Null},{cDIGIT,0,CL,Mant},{cANY,0,PP,Null}};
constexpr Item kMant[] = {{cEOF,0,BG,Base,SCIENTIFIC},{cDIGIT,0,NX,Mant},
  {cANY,0,BG,Base,SCIENTIFIC}};
constexpr Item kEntFirst[] = {{cEOF,0,PP,Null},{cEQ,'#',NX,EntNumFirst},{cASCLET,0,NX,Ent},
  {cEQ,':',NX,Ent},{cEQ,'_',NX,Ent},{cANY,0,PP,Null}};
constexpr Item kEnt[] = {{cEOF,0,PP,Null},{cALNUM,0,NX,Ent},{cEQ,':',NX,Ent},{cEQ,'_',NX,Ent},
  {cEQ,'.',NX,Ent},{cEQ,'-',NX,Ent},{cEQ,';',NX,EntEnd},{cANY,0,PP,Null}};
constexpr Item kEntNumFirst[] = {{cEOF,0,PP,Null},{cEQ,'x',NX,EntHexFirst},
  {cEQ,'X',NX,EntHexFirst},{cDIGIT,0,NX,EntNum},{cANY,0,PP,Null}};
constexpr Item kEntNum[] = {{cEOF,0,PP,Null},{cDIGIT,0,NX,EntNum},{cEQ,';',NX,EntEnd},
  {cANY,0,PP,Null}};
constexpr Item kEntHexFirst[] = {{cEOF,0,PP,Null},{cXDIGIT,0,NX,EntHex},{cANY,0,PP,Null}};
constexpr Item kEntHex[] = {{cEOF,0,PP,Null},{cXDIGIT,0,NX,EntHex},{cEQ,';',NX,EntEnd},
  {cANY,0,PP,Null}};
constexpr Item kEntEnd[] = {{cANY,0,BG|CL,Base,XMLENTITY}};
constexpr Item kTagFirst[] = {{cEOF,0,PP,Null},{cEQ,'/',PS,TagCloseFirst},{cEQ,'!',PS,CommFirst},
  {cEQ,'?',PS,XMLBegin},{cASCLET,0,PS,TagName},{cEQ,':',PS,TagName},{cEQ,'_',PS,TagName},
  {cANY,0,PP,Null}};
constexpr Item kXMLBegin[] = {{cEOF,0,PP,Null},{cEQ,'x',NX,Tag},{cANY,0,PP,Null}};
constexpr Item kTagCloseFirst[] = {{cEOF,0,PP,Null},{cASCLET,0,NX,TagName},{cANY,0,PP,Null}};
constexpr Item kTagName[] = {{cEOF,0,PP,Null},{cEQ,'/',NX,TagBeginEnd},
  {cEQ,'>',NX,TagEnd,0,spTags},{cSPACE,0,NX,Tag,0,spTags},{cALNUM,0,NX,Null},{cEQ,':',NX,Null},
  {cEQ,'_',NX,Null},{cEQ,'.',NX,Null},{cEQ,'-',NX,Null},{cANY,0,PP,Null}};
constexpr Item kTagBeginEnd[] = {{cEOF,0,PP,Null},{cEQ,'>',NX,TagEnd},{cANY,0,PP,Null}};
constexpr Item kTag[] = {{cEOF,0,PP,Null},{cEQ,'>',NX,TagEnd,0,spTags},{cEQ,'\'',NX,TagEscK},
  {cEQ,'"',NX,TagEscKK},{cASCLET,0,NX,Null},{cDIGIT,0,NX,Null},{cEQ,'=',NX,Null},
  {cEQ,'-',NX,Null},{cEQ,'_',NX,Null},{cEQ,'#',NX,Null},{cEQ,'/',NX,Null},{cEQ,':',NX,Null},
  {cEQ,'.',NX,Null},{cEQ,'&',NX,Null},{cEQ,'?',NX,Null},{cEQ,'%',NX,Null},{cEQ,'~',NX,Null},
  {cSPACE,0,NX,Null,0,spTags},{cANY,0,PP,Null}};
constexpr Item kTagEscK[] = {{cEOF,0,PP,Null},{cEQ,'\\',PS,TagBackSl},{cEQ,'\'',NX,Tag},
  {cANY,0,NX,TagEscK}};
constexpr Item kTagEscKK[] = {{cEOF,0,PP,Null},{cEQ,'\\',PS,TagBackSl},{cEQ,'"',NX,Tag},
  {cANY,0,NX,TagEscKK}};
constexpr Item kTagBackSl[] = {{cEOF,0,PP,Null},{cANY,0,MG,Null}};
constexpr Item kTagEnd[] = {{cANY,0,BG|CA,Base,TAG_T}};
constexpr Item kCommFirst[] = {{cEOF,0,PP,Null},{cEQ,'-',NX,CommLast},{cEQ,'D',NX,Tag},
  {cEQ,'d',NX,Tag},{cANY,0,PP,Null}};
constexpr Item kCommLast[] = {{cEOF,0,PP,Null},{cEQ,'-',NX,Comm},{cANY,0,PP,Null}};
constexpr Item kComm[] = {{cEOF,0,PP,Null},{cEQ,'-',NX,CloseCommFirst},{cANY,0,NX,Null}};
constexpr Item kCloseCommFirst[] = {{cEOF,0,PP,Null},{cEQ,'-',NX,CloseCommLast},
  {cANY,0,NX,Comm}};
constexpr Item kCloseCommLast[] = {{cEOF,0,PP,Null},{cEQ,'-',NX,Null},{cEQ,'>',NX,CommEnd},
  {cANY,0,NX,Comm}};
constexpr Item kCommEnd[] = {{cANY,0,BG|CA,Base,TAG_T}};
constexpr Item kHostFirstDomain[] = {{cEOF,0,PP,Null},{cASCLET,0,NX,HostDomainSecond},
  {cDIGIT,0,NX,Host},{cANY,0,PP,Null}};
constexpr Item kHostDomainSecond[] = {{cEOF,0,PP,Null},{cASCLET,0,NX,HostDomain},
  {cDIGIT,0,PS,Host},{cEQ,'-',PS,HostFirstAN},{cEQ,'_',PS,HostFirstAN},
  {cEQ,'.',PS,HostFirstDomain},{cEQ,'@',PS,Email},{cANY,0,PP,Null}};
constexpr Item kHostDomain[] = {{cEOF,0,BG|CA,Base,HOST},{cASCLET,0,NX,HostDomain},
  {cDIGIT,0,PS,Host},{cEQ,':',PS,PortFirst},{cEQ,'-',PS,HostFirstAN},{cEQ,'_',PS,HostFirstAN},
  {cEQ,'.',PS,HostFirstDomain},{cEQ,'@',PS,Email},{cDIGIT,0,PP,Null},
  {cSTOPHOST,0,BG|CA,URLPathStart,HOST},{cEQ,'/',PS,FURL},{cANY,0,BG|CA,Base,HOST}};
constexpr Item kPortFirst[] = {{cEOF,0,PP,Null},{cDIGIT,0,NX,Port},{cANY,0,PP,Null}};
constexpr Item kPort[] = {{cEOF,0,BG|CA,Base,HOST},{cDIGIT,0,NX,Port},
  {cSTOPHOST,0,BG|CA,URLPathStart,HOST},{cEQ,'/',PS,FURL},{cANY,0,BG|CA,Base,HOST}};
constexpr Item kHostFirstAN[] = {{cEOF,0,PP,Null},{cDIGIT,0,NX,Host},{cASCLET,0,NX,Host},
  {cANY,0,PP,Null}};
constexpr Item kHost[] = {{cEOF,0,PP,Null},{cDIGIT,0,NX,Host},{cASCLET,0,NX,Host},
  {cEQ,'@',PS,Email},{cEQ,'.',PS,HostFirstDomain},{cEQ,'-',PS,HostFirstAN},
  {cEQ,'_',PS,HostFirstAN},{cANY,0,PP,Null}};
constexpr Item kEmail[] = {{cSTOPHOST,0,PP,Null},{cHOST,0,BG|CA,Base,EMAIL},{cANY,0,PP,Null}};
constexpr Item kFileFirst[] = {{cEOF,0,PP,Null},{cASCLET,0,NX,File},{cDIGIT,0,NX,File},
  {cEQ,'.',NX,PathFirst},{cEQ,'_',NX,File},{cEQ,'~',PS,FileTwiddle},{cANY,0,PP,Null}};
constexpr Item kFileTwiddle[] = {{cEOF,0,PP,Null},{cASCLET,0,NX,File},{cDIGIT,0,NX,File},
  {cEQ,'_',NX,File},{cEQ,'/',NX,FileFirst},{cANY,0,PP,Null}};
constexpr Item kPathFirst[] = {{cEOF,0,PP,Null},{cASCLET,0,NX,File},{cDIGIT,0,NX,File},
  {cEQ,'_',NX,File},{cEQ,'.',NX,PathSecond},{cEQ,'/',NX,FileFirst},{cANY,0,PP,Null}};
constexpr Item kPathFirstFirst[] = {{cEOF,0,PP,Null},{cEQ,'.',NX,PathSecond},
  {cEQ,'/',NX,FileFirst},{cANY,0,PP,Null}};
constexpr Item kPathSecond[] = {{cEOF,0,BG|CL,Base,FILEPATH},{cEQ,'/',NX|PS,FileFirst},
  {cEQ,'/',BG|CL,Base,FILEPATH},{cSPACE,0,BG|CL,Base,FILEPATH},{cANY,0,PP,Null}};
constexpr Item kFile[] = {{cEOF,0,BG,Base,FILEPATH},{cASCLET,0,NX,File},{cDIGIT,0,NX,File},
  {cEQ,'.',PS,FileNext},{cEQ,'_',NX,File},{cEQ,'-',NX,File},{cEQ,'/',PS,FileFirst},
  {cANY,0,BG,Base,FILEPATH}};
constexpr Item kFileNext[] = {{cEOF,0,PP,Null},{cASCLET,0,CL,File},{cDIGIT,0,CL,File},
  {cEQ,'_',CL,File},{cANY,0,PP,Null}};
constexpr Item kURLPathFirst[] = {{cEOF,0,PP,Null},{cURL,0,NX,URLPath},{cANY,0,PP,Null}};
constexpr Item kURLPathStart[] = {{cANY,0,NX,URLPath}};
constexpr Item kURLPath[] = {{cEOF,0,BG,Base,URLPATH},{cURL,0,NX,URLPath},
  {cANY,0,BG,Base,URLPATH}};
constexpr Item kFURL[] = {{cEOF,0,PP,Null},{cURLPATH,0,BG|CA,Base,URL_T,spFURL},
  {cANY,0,PP,Null}};
constexpr Item kProtoFirst[] = {{cEOF,0,PP,Null},{cEQ,'/',NX,ProtoSecond},{cANY,0,PP,Null}};
constexpr Item kProtoSecond[] = {{cEOF,0,PP,Null},{cEQ,'/',NX,ProtoEnd},{cANY,0,PP,Null}};
constexpr Item kProtoEnd[] = {{cANY,0,BG|CA,Base,PROTOCOL}};
constexpr Item kHAsciiWordFirst[] = {{cEOF,0,PP,Null},{cASCLET,0,NX,HAsciiWord},
  {cALPHA,0,NX,HWord},{cDIGIT,0,NX,HDigitLookahead},{cANY,0,PP,Null}};
constexpr Item kHAsciiWord[] = {{cEOF,0,BG|CA,ParseHyphen,ASCIIHWORD,spHyphen},
  {cASCLET,0,NX,HAsciiWord},{cALPHA,0,NX,HWord},{cSPECIAL,0,NX,HWord},{cDIGIT,0,NX,HNumWord},
  {cEQ,'-',PS,HAsciiWordFirst},{cANY,0,BG|CA,ParseHyphen,ASCIIHWORD,spHyphen}};
constexpr Item kHWordFirst[] = {{cEOF,0,PP,Null},{cALPHA,0,NX,HWord},
  {cDIGIT,0,NX,HDigitLookahead},{cANY,0,PP,Null}};
constexpr Item kHWord[] = {{cEOF,0,BG|CA,ParseHyphen,HWORD,spHyphen},{cALPHA,0,NX,HWord},
  {cSPECIAL,0,NX,HWord},{cDIGIT,0,NX,HNumWord},{cEQ,'-',PS,HWordFirst},
  {cANY,0,BG|CA,ParseHyphen,HWORD,spHyphen}};
constexpr Item kHNumWordFirst[] = {{cEOF,0,PP,Null},{cALPHA,0,NX,HNumWord},
  {cDIGIT,0,NX,HDigitLookahead},{cANY,0,PP,Null}};
constexpr Item kHNumWord[] = {{cEOF,0,BG|CA,ParseHyphen,NUMHWORD,spHyphen},
  {cALNUM,0,NX,HNumWord},{cSPECIAL,0,NX,HNumWord},{cEQ,'-',PS,HNumWordFirst},
  {cANY,0,BG|CA,ParseHyphen,NUMHWORD,spHyphen}};
constexpr Item kHDigitLookahead[] = {{cEOF,0,PP,Null},{cDIGIT,0,NX,HDigitLookahead},
  {cALPHA,0,NX,HNumWord},{cSPECIAL,0,NX,HNumWord},{cANY,0,PP,Null}};
constexpr Item kParseHyphen[] = {{cEOF,0,RR,Base},{cASCLET,0,NX,HAsciiWordPart},
  {cALPHA,0,NX,HWordPart},{cDIGIT,0,PS,HUInt},{cEQ,'-',PS,ParseHyphenHyphen},{cANY,0,RR,Base}};
constexpr Item kParseHyphenHyphen[] = {{cEOF,0,PP,Null},{cALNUM,0,BG|CL,ParseHyphen,SPACE},
  {cSPECIAL,0,BG|CL,ParseHyphen,SPACE},{cANY,0,PP,Null}};
constexpr Item kHWordPart[] = {{cEOF,0,BG,Base,PARTHWORD},{cALPHA,0,NX,HWordPart},
  {cSPECIAL,0,NX,HWordPart},{cDIGIT,0,NX,HNumWordPart},{cANY,0,BG,ParseHyphen,PARTHWORD}};
constexpr Item kHAsciiWordPart[] = {{cEOF,0,BG,Base,ASCIIPARTHWORD},
  {cASCLET,0,NX,HAsciiWordPart},{cALPHA,0,NX,HWordPart},{cSPECIAL,0,NX,HWordPart},
  {cDIGIT,0,NX,HNumWordPart},{cANY,0,BG,ParseHyphen,ASCIIPARTHWORD}};
constexpr Item kHNumWordPart[] = {{cEOF,0,BG,Base,NUMPARTHWORD},{cALNUM,0,NX,HNumWordPart},
  {cSPECIAL,0,NX,HNumWordPart},{cANY,0,BG,ParseHyphen,NUMPARTHWORD}};
constexpr Item kHUInt[] = {{cEOF,0,PP,Null},{cDIGIT,0,NX,Null},{cALPHA,0,CL,HNumWordPart},
  {cSPECIAL,0,CL,HNumWordPart},{cANY,0,PP,Null}};

constexpr const Item* kActions[] = {kBase, kNumWord, kAsciiWord, kWord, kUInt, kSIntFirst, kSInt,
  kSpace, kUDecFirst, kUDec, kDecFirst, kDec, kVerVersion, kSVerVersion, kVersionFirst, kVersion,
  kMantFirst, kMantSign, kMant, kEntFirst, kEnt, kEntNumFirst, kEntNum, kEntHexFirst, kEntHex,
  kEntEnd, kTagFirst, kXMLBegin, kTagCloseFirst, kTagName, kTagBeginEnd, kTag, kTagEscK,
  kTagEscKK, kTagBackSl, kTagEnd, kCommFirst, kCommLast, kComm, kCloseCommFirst, kCloseCommLast,
  kCommEnd, kHostFirstDomain, kHostDomainSecond, kHostDomain, kPortFirst, kPort, kHostFirstAN,
  kHost, kEmail, kFileFirst, kFileTwiddle, kPathFirst, kPathFirstFirst, kPathSecond, kFile,
  kFileNext, kURLPathFirst, kURLPathStart, kURLPath, kFURL, kProtoFirst, kProtoSecond, kProtoEnd,
  kHAsciiWordFirst, kHAsciiWord, kHWordFirst, kHWord, kHNumWordFirst, kHNumWord,
  kHDigitLookahead, kParseHyphen, kParseHyphenHyphen, kHWordPart, kHAsciiWordPart,
  kHNumWordPart, kHUInt};
static_assert(sizeof(kActions) / sizeof(kActions[0]) == Null);
// clang-format on

// ---- Character classes -------------------------------------------------------
enum : uint8_t { fAlpha = 1, fDigit = 2, fSpace = 4, fXdigit = 8, fSpecial = 16, fUrl = 32 };

constexpr std::array<uint8_t, 128> make_ascii_table() {
  std::array<uint8_t, 128> t{};
  for (int c = 0; c < 128; ++c) {
    uint8_t f = 0;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) f |= fAlpha;
    if (c >= '0' && c <= '9') f |= fDigit | fXdigit;
    if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) f |= fXdigit;
    if (c == ' ' || (c >= '\t' && c <= '\r')) f |= fSpace;
    if (c > 0x20 && c < 0x7f &&
        std::string_view("\"<>\\^`{|}").find(static_cast<char>(c)) == std::string_view::npos)
      f |= fUrl;
    t[c] = f;
  }
  return t;
}
constexpr std::array<uint8_t, 128> kAsciiClass = make_ascii_table();

// Spacing combining marks wparser_def.c treats as word characters.
constexpr uint16_t kStrangeLetters[] = {
    0x0903, 0x093E, 0x093F, 0x0940, 0x0949, 0x094A, 0x094B, 0x094C, 0x0982, 0x0983, 0x09BE, 0x09BF,
    0x09C0, 0x09C7, 0x09C8, 0x09CB, 0x09CC, 0x09D7, 0x0A03, 0x0A3E, 0x0A3F, 0x0A40, 0x0A83, 0x0ABE,
    0x0ABF, 0x0AC0, 0x0AC9, 0x0ACB, 0x0ACC, 0x0B02, 0x0B03, 0x0B3E, 0x0B40, 0x0B47, 0x0B48, 0x0B4B,
    0x0B4C, 0x0B57, 0x0BBE, 0x0BBF, 0x0BC1, 0x0BC2, 0x0BC6, 0x0BC7, 0x0BC8, 0x0BCA, 0x0BCB, 0x0BCC,
    0x0BD7, 0x0C01, 0x0C02, 0x0C03, 0x0C41, 0x0C42, 0x0C43, 0x0C44, 0x0C82, 0x0C83, 0x0CBE, 0x0CC0,
    0x0CC1, 0x0CC2, 0x0CC3, 0x0CC4, 0x0CC7, 0x0CC8, 0x0CCA, 0x0CCB, 0x0CD5, 0x0CD6, 0x0D02, 0x0D03,
    0x0D3E, 0x0D3F, 0x0D40, 0x0D46, 0x0D47, 0x0D48, 0x0D4A, 0x0D4B, 0x0D4C, 0x0D57, 0x0D82, 0x0D83,
    0x0DCF, 0x0DD0, 0x0DD1, 0x0DD8, 0x0DD9, 0x0DDA, 0x0DDB, 0x0DDC, 0x0DDD, 0x0DDE, 0x0DDF, 0x0DF2,
    0x0DF3, 0x0F3E, 0x0F3F, 0x0F7F, 0x102B, 0x102C, 0x1031, 0x1038, 0x103B, 0x103C, 0x1056, 0x1057,
    0x1062, 0x1063, 0x1064, 0x1067, 0x1068, 0x1069, 0x106A, 0x106B, 0x106C, 0x106D, 0x1083, 0x1084,
    0x1087, 0x1088, 0x1089, 0x108A, 0x108B, 0x108C, 0x108F, 0x17B6, 0x17BE, 0x17BF, 0x17C0, 0x17C1,
    0x17C2, 0x17C3, 0x17C4, 0x17C5, 0x17C7, 0x17C8, 0x1923, 0x1924, 0x1925, 0x1926, 0x1929, 0x192A,
    0x192B, 0x1930, 0x1931, 0x1933, 0x1934, 0x1935, 0x1936, 0x1937, 0x1938, 0x19B0, 0x19B1, 0x19B2,
    0x19B3, 0x19B4, 0x19B5, 0x19B6, 0x19B7, 0x19B8, 0x19B9, 0x19BA, 0x19BB, 0x19BC, 0x19BD, 0x19BE,
    0x19BF, 0x19C0, 0x19C8, 0x19C9, 0x1A19, 0x1A1A, 0x1A1B, 0x1B04, 0x1B35, 0x1B3B, 0x1B3D, 0x1B3E,
    0x1B3F, 0x1B40, 0x1B41, 0x1B43, 0x1B44, 0x1B82, 0x1BA1, 0x1BA6, 0x1BA7, 0x1BAA, 0x1C24, 0x1C25,
    0x1C26, 0x1C27, 0x1C28, 0x1C29, 0x1C2A, 0x1C2B, 0x1C34, 0x1C35, 0xA823, 0xA824, 0xA827, 0xA880,
    0xA881, 0xA8B4, 0xA8B5, 0xA8B6, 0xA8B7, 0xA8B8, 0xA8B9, 0xA8BA, 0xA8BB, 0xA8BC, 0xA8BD, 0xA8BE,
    0xA8BF, 0xA8C0, 0xA8C1, 0xA8C2, 0xA8C3, 0xA952, 0xA953, 0xAA2F, 0xAA30, 0xAA33, 0xAA34, 0xAA4D};

// The C.UTF-8 locale the database runs under (null if missing: then
// non-ASCII characters are classified as PostgreSQL does under "C": letters).
struct Locale {
  locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  wctype_t combining = loc ? wctype_l("combining", loc) : 0;
};
const Locale& c_utf8() {
  static const Locale l;
  return l;
}

uint8_t classify_wide(uint32_t cp) {
  const Locale& l = c_utf8();
  if (!l.loc) return fAlpha;
  uint8_t f = 0;
  if (iswalpha_l(cp, l.loc)) f |= fAlpha;
  if (iswdigit_l(cp, l.loc)) f |= fDigit;
  if (iswspace_l(cp, l.loc)) f |= fSpace;
  if (iswxdigit_l(cp, l.loc)) f |= fXdigit;
  if ((cp >= 0xA0 && l.combining && iswctype_l(cp, l.combining, l.loc)) ||
      (cp <= 0xFFFF && std::binary_search(std::begin(kStrangeLetters), std::end(kStrangeLetters),
                                          static_cast<uint16_t>(cp))))
    f |= fSpecial;
  return f;
}

// Classes of the BMP, computed on first use (per thread: no locking).
uint8_t classify_cp(uint32_t cp) {
  if (cp > 0xFFFF) return classify_wide(cp);
  thread_local std::unique_ptr<uint8_t[]> cache;
  if (!cache) cache.reset(new uint8_t[0x10000]());
  uint8_t& slot = cache[cp];
  if (!slot) slot = classify_wide(cp) | 0x80;
  return slot & 0x7f;
}

int decode(const unsigned char* p, size_t n, uint32_t& cp) {
  const unsigned char b = p[0];
  int len;
  uint32_t min;
  if (b < 0x80) {
    cp = b;
    return 1;
  } else if (b >= 0xC2 && b < 0xE0) {
    len = 2, cp = b & 0x1F, min = 0x80;
  } else if (b >= 0xE0 && b < 0xF0) {
    len = 3, cp = b & 0x0F, min = 0x800;
  } else if (b >= 0xF0 && b < 0xF5) {
    len = 4, cp = b & 0x07, min = 0x10000;
  } else {
    cp = 0xFFFFFFFF;
    return 1;
  }
  if (n < static_cast<size_t>(len)) return cp = 0xFFFFFFFF, 1;
  for (int i = 1; i < len; ++i) {
    if ((p[i] & 0xC0) != 0x80) return cp = 0xFFFFFFFF, 1;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return cp = 0xFFFFFFFF, 1;
  return len;
}

locale_t c_utf8_locale() {
  return c_utf8().loc;
}

// p_ishost / p_isURLPath: parse from the current position with a fresh
// parser; on a token of `want_type` take it into the current token.
bool Parser::sub_parse(Pos& st, uint8_t start_state, uint8_t want_type) {
  Parser sub(s_ + st.posbyte, len_ - st.posbyte);
  if (start_state == Base) {
    sub.wanthost = true;
  } else {
    sub.stack_.push_back(sub.stack_.back());
    sub.stack_.back().state = start_state;
  }
  Token t;
  if (!sub.get(t) || t.type != want_type) return false;
  st.posbyte += t.len;
  st.lenbyte += t.len;
  st.lenchar += t.chars;
  st.charlen = sub.stack_.back().charlen;
  return true;
}

// The tests that depend on the character's class flags `f` alone.
bool class_test(uint8_t cls, uint8_t f) {
  switch (cls) {
    case cALPHA:
    case cASCLET:
      return f & fAlpha;
    case cDIGIT:
      return f & fDigit;
    case cALNUM:
      return f & (fAlpha | fDigit);
    case cNOTALNUM:
      return !(f & (fAlpha | fDigit));
    case cSPACE:
      return f & fSpace;
    case cXDIGIT:
      return f & fXdigit;
    case cSPECIAL:
      return f & fSpecial;
    case cURL:
      return f & fUrl;
  }
  return false;
}

bool Parser::test(const Item& it, uint8_t f, Pos& st) {
  switch (it.cls) {
    case cANY:
      return true;
    case cEOF:
      return st.charlen == 0;
    case cEQ:
      return st.charlen == 1 && s_[st.posbyte] == it.c;
    case cASCLET:
      return st.charlen == 1 && (f & fAlpha);
    case cIGNORE:
      return ignore_;
    case cSTOPHOST:
      if (!wanthost) return false;
      wanthost = false;
      return true;
    case cHOST:
      return sub_parse(st, Base, HOST);
    case cURLPATH:
      return sub_parse(st, URLPathFirst, URLPATH);
  }
  return class_test(it.cls, f);
}

// Where to start scanning a state's action list for an ASCII byte (or EOF,
// index 128), by the ignore flag: the first item that matches the byte or
// whose test depends on more than the byte (wanthost, sub-parses). Skipping
// the items before it is exact: they cannot match.
struct Dispatch {
  uint8_t first[Null][2][129];
  Dispatch() {
    for (int state = 0; state < Null; ++state)
      for (int ign = 0; ign < 2; ++ign)
        for (int b = 0; b <= 128; ++b) {
          const uint8_t f = b < 128 ? kAsciiClass[b] : 0;
          const Item* it = kActions[state];
          for (;; ++it) {
            const uint8_t c = it->cls;
            if (c == cANY || c == cSTOPHOST || c == cHOST || c == cURLPATH) break;
            if (c == cIGNORE ? ign != 0 : static_test(*it, b, f)) break;
          }
          first[state][ign][b] = static_cast<uint8_t>(it - kActions[state]);
        }
  }
  static bool static_test(const Item& it, int b, uint8_t f) {
    const bool eof = b == 128;
    switch (it.cls) {
      case cEOF:
        return eof;
      case cEQ:
        return !eof && b == static_cast<unsigned char>(it.c);
      case cNOTALNUM:
        return !eof && class_test(it.cls, f);
    }
    return class_test(it.cls, f);
  }
};
const Dispatch& dispatch() {
  static const Dispatch d;
  return d;
}

bool Parser::get(Token& out) {
  const Dispatch& d = dispatch();
  if (stack_.back().posbyte >= len_) return false;
  token_start_ = stack_.back().posbyte;
  stack_.back().pushed = nullptr;
  const Item* item = nullptr;
  const auto* u = reinterpret_cast<const unsigned char*>(s_);
  while (stack_.back().posbyte <= len_) {
    Pos& st = stack_.back();
    uint8_t f = 0;
    if (st.posbyte == len_) {
      st.charlen = 0;
    } else if (u[st.posbyte] < 0x80) {
      st.charlen = 1;
      f = kAsciiClass[u[st.posbyte]];
    } else {
      uint32_t cp;
      st.charlen = decode(u + st.posbyte, len_ - st.posbyte, cp);
      f = cp == 0xFFFFFFFF ? 0 : classify_cp(cp);
    }
    if (st.pushed) {
      item = st.pushed + 1;
      st.pushed = nullptr;
    } else if (st.charlen == 0) {
      item = kActions[st.state] + d.first[st.state][ignore_][128];
    } else if (st.charlen == 1 && u[st.posbyte] < 0x80) {
      item = kActions[st.state] + d.first[st.state][ignore_][u[st.posbyte]];
    } else {
      item = kActions[st.state];
    }
    while (!test(*item, f, st)) ++item;

    switch (item->special) {
      case spTags: {
        // SpecialTags: <script>/<style> contents are skipped.
        const std::string_view tok(s_ + token_start_, len_ - token_start_);
        auto starts = [&](std::string_view tag) {
          return tok.size() >= tag.size() && strncasecmp(tok.data(), tag.data(), tag.size()) == 0;
        };
        if (st.lenchar == 8 && starts("</script")) ignore_ = false;
        if (st.lenchar == 7 && starts("</style")) ignore_ = false;
        if (st.lenchar == 7 && starts("<script")) ignore_ = true;
        if (st.lenchar == 6 && starts("<style")) ignore_ = true;
        break;
      }
      case spFURL:
        wanthost = true;
        st.posbyte -= st.lenbyte;
        break;
      case spHyphen:
        st.posbyte -= st.lenbyte;
        break;
      case spVer:
        st.posbyte -= st.lenbyte;
        st.lenbyte = st.lenchar = 0;
        break;
    }
    const uint8_t flags = item->flags;
    if (flags & BG) {
      out.type = item->type;
      out.start = token_start_;
      out.len = st.lenbyte;
      out.chars = st.lenchar;
      st.lenbyte = st.lenchar = 0;
    }
    if (flags & PP) {
      stack_.pop_back();
    } else if (flags & PS) {
      st.pushed = item;
      Pos copy = st;
      copy.pushed = nullptr;
      stack_.push_back(copy);
    } else if (flags & CL) {
      stack_.erase(stack_.end() - 2);
    } else if (flags & CA) {
      stack_.erase(stack_.begin(), stack_.end() - 1);
    } else if (flags & MG) {
      Pos top = stack_.back();
      stack_.pop_back();
      Pos& prev = stack_.back();
      prev.posbyte = top.posbyte;
      prev.charlen = top.charlen;
      prev.lenbyte = top.lenbyte;
      prev.lenchar = top.lenchar;
    }
    Pos& now = stack_.back();
    if (item->to != Null) now.state = item->to;
    if ((flags & BG) || (now.posbyte >= len_ && !(flags & RR))) break;
    if (flags & (RR | PP)) continue;
    if (now.charlen) {
      now.posbyte += now.charlen;
      now.lenbyte += now.charlen;
      now.lenchar++;
    }
    // Shortcuts for runs the loop would step through one byte at a time with
    // no other effect: letters of an ASCII word, digits of a number, and
    // ASCII blanks that neither end the blank nor start something else.
    int p = now.posbyte;
    if (now.state == AsciiWord) {
      while (p < len_ && u[p] < 0x80 && (kAsciiClass[u[p]] & fAlpha)) ++p;
    } else if (now.state == UInt) {
      while (p < len_ && u[p] >= '0' && u[p] <= '9') ++p;
    } else if (now.state == Space) {
      while (p < len_ && u[p] < 0x80 && u[p] != '<' &&
             (ignore_ || (u[p] != '-' && u[p] != '+' && u[p] != '&' && u[p] != '/' &&
                          !(kAsciiClass[u[p]] & (fAlpha | fDigit)))))
        ++p;
    }
    now.lenbyte += p - now.posbyte;
    now.lenchar += p - now.posbyte;
    now.posbyte = p;
  }
  return item && (item->flags & BG);
}

}  // namespace twinflow::english_parser
