#include "rpc/address.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace rwmeta::rpc {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ParseListenAddressTest, AcceptsHostPortForms) {
  ASSERT_OK_AND_ASSIGN(HostPort v4, ParseListenAddress("127.0.0.1:5690"));
  EXPECT_EQ(v4.host, "127.0.0.1");
  EXPECT_EQ(v4.port, 5690);
  EXPECT_EQ(v4.ToString(), "127.0.0.1:5690");

  ASSERT_OK_AND_ASSIGN(HostPort any, ParseListenAddress("0.0.0.0:0"));
  EXPECT_EQ(any.port, 0);

  ASSERT_OK_AND_ASSIGN(HostPort v6, ParseListenAddress("[::1]:65535"));
  EXPECT_EQ(v6.host, "[::1]");
  EXPECT_EQ(v6.port, 65535);

  ASSERT_OK_AND_ASSIGN(HostPort name, ParseListenAddress("meta-0.rwmeta_svc:5690"));
  EXPECT_EQ(name.host, "meta-0.rwmeta_svc");
}

TEST(ParseListenAddressTest, RefusesMalformedAddresses) {
  EXPECT_THAT(ParseListenAddress(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseListenAddress("127.0.0.1"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no port")));
  EXPECT_THAT(ParseListenAddress(":5690"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no host")));
  EXPECT_THAT(ParseListenAddress("127.0.0.1:"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no port")));
  EXPECT_THAT(ParseListenAddress("127.0.0.1:65536"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("out of range")));
  EXPECT_THAT(ParseListenAddress("127.0.0.1:99999999999999999999"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("out of range")));
  EXPECT_THAT(ParseListenAddress("127.0.0.1:-1"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a number")));
  EXPECT_THAT(ParseListenAddress("bad host:1"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("\"bad host:1\"")));
  EXPECT_THAT(ParseListenAddress("[::1:1"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseListenAddress("[zz]:1"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseListenAddress("http://127.0.0.1:5690"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ParseMetaAddressTest, AcceptsWithAndWithoutHttpScheme) {
  for (const char* text : {"http://127.0.0.1:5690", "127.0.0.1:5690", "HTTP://127.0.0.1:5690/"}) {
    ASSERT_OK_AND_ASSIGN(HostPort addr, ParseMetaAddress(text));
    EXPECT_EQ(addr.ToString(), "127.0.0.1:5690") << text;
  }
}

TEST(ParseMetaAddressTest, RefusesTlsOtherSchemesPathsAndPortZero) {
  EXPECT_THAT(ParseMetaAddress("https://127.0.0.1:5690"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("TLS")));
  EXPECT_THAT(ParseMetaAddress("grpc://127.0.0.1:5690"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unsupported scheme \"grpc\"")));
  EXPECT_THAT(ParseMetaAddress("http://127.0.0.1:5690/api"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("path")));
  EXPECT_THAT(ParseMetaAddress("http://127.0.0.1:0"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("port 0")));
  EXPECT_THAT(ParseMetaAddress("http://"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ParseMetaAddressTest, ErrorQuotesTheAddressWithoutItsPassword) {
  Result<HostPort> r = ParseMetaAddress("http://admin:hunter2@127.0.0.1:5690");
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, Not(HasSubstr("hunter2"))));
}

}  // namespace
}  // namespace rwmeta::rpc
