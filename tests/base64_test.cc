// util/base64.h: what it encodes reads back for every length and byte value,
// it agrees with RFC 4648's test vectors, and text that is not base64 (bad
// length, a stray character, padding anywhere but at the end, whitespace) is
// refused instead of read as zero bits, as OpenSSL's block decoder alone
// would.
#include "util/base64.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace twinflow {
namespace {

std::string decoded(std::string_view text) {
  std::vector<unsigned char> out(base64_size(text) + 2);
  if (!base64_decode(text, out.data())) return "<refused>";
  return std::string(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(base64_size(text)));
}

TEST(Base64, MatchesTheRfcVectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, text] : vectors) {
    EXPECT_EQ(base64_encode(plain), text);
    EXPECT_EQ(base64_size(text), plain.size()) << text;
    EXPECT_EQ(decoded(text), plain) << text;
  }
}

TEST(Base64, ReadsBackEveryLengthAndByte) {
  std::mt19937 random(7);
  for (size_t n = 0; n < 600; ++n) {
    std::string bytes(n, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    if (n == 256)
      for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>(i);
    const std::string text = base64_encode(bytes);
    EXPECT_EQ(text.find_first_of("\r\n"), std::string::npos);
    ASSERT_EQ(decoded(text), bytes) << n;
  }
}

TEST(Base64, RefusesWhatIsNotBase64) {
  for (const char* text : {"Zg", "Zg=", "Zm9vY", "Z===", "====", "Zg==Zg==", "Zm=v", "Zm9!",
                           " Zm9v", "Zm9v\n", "Zm\n9v", "Zm9vYg=\n"}) {
    EXPECT_EQ(decoded(text), "<refused>") << text;
  }
}

}  // namespace
}  // namespace twinflow
