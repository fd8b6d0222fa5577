#include "rpc/utf8.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "proto/meta.pb.h"

namespace rwmeta::rpc {
namespace {

using ::rwmeta::testing::StatusIs;

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

TEST(CheckUtf8FieldsTest, NamesTheFirstBadFieldWithItsPath) {
  meta::GetClusterInfoResponse info;
  info.set_cluster_id("c1");
  info.add_listen_addresses()->set_address("127.0.0.1:5690");
  EXPECT_OK(CheckUtf8Fields(info));

  info.add_listen_addresses()->set_address("\xFF:1");
  EXPECT_THAT(CheckUtf8Fields(info),
              StatusIs(StatusCode::kInvalidArgument,
                       "field listen_addresses[1].address is not valid UTF-8"));

  meta::SetSystemParamResponse set;
  set.mutable_param()->set_value("ok");
  set.set_notice("\xC3");
  EXPECT_THAT(CheckUtf8Fields(set),
              StatusIs(StatusCode::kInvalidArgument, "field notice is not valid UTF-8"));
  set.set_notice("");
  set.mutable_param()->set_value("\xED\xA0\x80");
  EXPECT_THAT(CheckUtf8Fields(set),
              StatusIs(StatusCode::kInvalidArgument, "field param.value is not valid UTF-8"));
}

}  // namespace
}  // namespace rwmeta::rpc
