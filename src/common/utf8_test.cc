#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace rwmeta {
namespace {

TEST(IsValidUtf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("s3://backup_bucket"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9"));                // é
  EXPECT_TRUE(IsValidUtf8("\xE2\x82\xAC"));               // €
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));           // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));           // U+10FFFF
  EXPECT_TRUE(IsValidUtf8(std::string_view("a\0b", 3)));  // NUL is a code point
}

TEST(IsValidUtf8Test, RefusesMalformedText) {
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation byte
  EXPECT_FALSE(IsValidUtf8("caf\xC3"));           // truncated
  EXPECT_FALSE(IsValidUtf8("\xC3\x28"));          // bad continuation
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xF8\x88\x80\x80\x80"));
}

TEST(EscapeInvalidUtf8Test, KeepsWellFormedTextAndEscapesEveryOtherByte) {
  EXPECT_EQ(EscapeInvalidUtf8("caf\xC3\xA9 \xE2\x82\xAC"), "caf\xC3\xA9 \xE2\x82\xAC");
  EXPECT_EQ(EscapeInvalidUtf8("a\xFF"
                              "b"),
            "a\\xffb");
  EXPECT_EQ(EscapeInvalidUtf8("caf\xC3"), "caf\\xc3");              // truncated
  EXPECT_EQ(EscapeInvalidUtf8("\xC0\xAF/"), "\\xc0\\xaf/");         // overlong: both bytes
  EXPECT_EQ(EscapeInvalidUtf8("\xED\xA0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_TRUE(IsValidUtf8(EscapeInvalidUtf8("\xF4\x90\x80\x80\xFE")));
}

}  // namespace
}  // namespace rwmeta
