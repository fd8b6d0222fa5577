#include "rpc/utf8.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "proto/meta.pb.h"

namespace rwmeta::rpc {
namespace {

using ::rwmeta::testing::StatusIs;

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
