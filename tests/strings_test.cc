// Tests for util/strings.h's one_line: a library's multi-line message as one
// line of a log or an error.
#include "util/strings.h"

#include <gtest/gtest.h>

namespace twinflow {
namespace {

TEST(OneLine, LineBreaksAndTabsBecomeOneSpaceAndTheEndsAreTrimmed) {
  EXPECT_EQ(one_line("connection failed: No such file\n\tIs the server running?\n"),
            "connection failed: No such file Is the server running?");
  EXPECT_EQ(one_line("a\r\n\r\nb"), "a b");
  EXPECT_EQ(one_line("  keeps  inner  spaces \n"), "keeps  inner  spaces");
  EXPECT_EQ(one_line("\n \t\n"), "");
  EXPECT_EQ(one_line(""), "");
  EXPECT_EQ(one_line("caf\xc3\xa9\nna\xc3\xafve"), "caf\xc3\xa9 na\xc3\xafve");
}

}  // namespace
}  // namespace twinflow
