#include "objstore/s3/s3_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "common/testing/status_matchers.h"

namespace rwmeta::objstore::s3 {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(S3ConfigFromUrlTest, S3TakesEverythingFromTheEnvironment) {
  ASSERT_OK_AND_ASSIGN(S3Config c,
                       S3ConfigFromUrl("s3://state-bucket/hummock/data/",
                                       Env({{"AWS_ACCESS_KEY_ID", "AKID"},
                                            {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                                            {"AWS_SESSION_TOKEN", "TOKEN"},
                                            {"AWS_REGION", "eu-west-3"},
                                            {"AWS_DEFAULT_REGION", "ignored"},
                                            {"AWS_ENDPOINT_URL", "http://127.0.0.1:9000"}})));
  EXPECT_EQ(c.bucket, "state-bucket");
  EXPECT_EQ(c.prefix, "hummock/data");
  EXPECT_EQ(c.credentials.access_key_id, "AKID");
  EXPECT_EQ(c.credentials.secret_access_key, "SECRET");
  EXPECT_EQ(c.credentials.session_token, "TOKEN");
  EXPECT_EQ(c.region, "eu-west-3");
  EXPECT_EQ(c.endpoint, "http://127.0.0.1:9000");
  EXPECT_FALSE(c.conditional_put);  // A custom endpoint: not assumed.
  EXPECT_EQ(c.display_url, "s3://state-bucket/hummock/data");
}

TEST(S3ConfigFromUrlTest, S3DefaultsAndPrecedence) {
  ASSERT_OK_AND_ASSIGN(S3Config plain, S3ConfigFromUrl("s3://b-1", Env({})));
  EXPECT_EQ(plain.region, "us-east-1");
  EXPECT_EQ(plain.endpoint, "");
  EXPECT_EQ(plain.prefix, "");
  EXPECT_TRUE(plain.conditional_put);  // AWS S3 honours If-None-Match / If-Match.
  EXPECT_EQ(plain.credentials.access_key_id, "");
  EXPECT_EQ(plain.display_url, "s3://b-1");

  ASSERT_OK_AND_ASSIGN(S3Config c,
                       S3ConfigFromUrl("s3://b-1?region=ap-south-1&conditional_put=false",
                                       Env({{"AWS_DEFAULT_REGION", "us-west-2"},
                                            {"AWS_ENDPOINT_URL", "http://generic:1"},
                                            {"AWS_ENDPOINT_URL_S3", "http://s3-specific:2"}})));
  EXPECT_EQ(c.region, "ap-south-1");
  EXPECT_EQ(c.endpoint, "http://s3-specific:2");
  EXPECT_FALSE(c.conditional_put);
  ASSERT_OK_AND_ASSIGN(
      S3Config d,
      S3ConfigFromUrl("s3://b-1", Env({{"AWS_DEFAULT_REGION", "us-west-2"}, {"AWS_REGION", ""}})));
  EXPECT_EQ(d.region, "us-west-2");  // Empty counts as unset.
}

TEST(S3ConfigFromUrlTest, MinioAsRisingWaveSpellsIt) {
  ASSERT_OK_AND_ASSIGN(
      S3Config c, S3ConfigFromUrl("minio://hummockadmin:hummock%2Fsecret@127.0.0.1:9301/hummock001",
                                  Env({{"AWS_ACCESS_KEY_ID", "ignored"}})));
  EXPECT_EQ(c.bucket, "hummock001");
  EXPECT_EQ(c.prefix, "");
  EXPECT_EQ(c.endpoint, "http://127.0.0.1:9301");
  EXPECT_EQ(c.credentials.access_key_id, "hummockadmin");
  EXPECT_EQ(c.credentials.secret_access_key, "hummock/secret");
  EXPECT_EQ(c.region, "us-east-1");
  EXPECT_FALSE(c.conditional_put);
  EXPECT_EQ(c.display_url, "minio://127.0.0.1:9301/hummock001");
  ASSERT_OK_AND_ASSIGN(S3Config p,
                       S3ConfigFromUrl("minio://k:s@h:1/b/x/y?conditional_put=true", Env({})));
  EXPECT_EQ(p.bucket, "b");
  EXPECT_EQ(p.prefix, "x/y");
  EXPECT_TRUE(p.conditional_put);
  EXPECT_EQ(p.display_url, "minio://h:1/b/x/y");
}

TEST(S3ConfigFromUrlTest, BadUrlsAreInvalidArgumentAndHideSecrets) {
  EXPECT_THAT(S3ConfigFromUrl("s3://k:hunter2@bucket", Env({})),
              StatusIs(StatusCode::kInvalidArgument, Not(HasSubstr("hunter2"))));
  EXPECT_THAT(S3ConfigFromUrl("s3://bucket:9000", Env({})),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("AWS_ENDPOINT_URL")));
  EXPECT_THAT(S3ConfigFromUrl("s3:///prefix", Env({})),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no bucket")));
  EXPECT_THAT(S3ConfigFromUrl("s3://b?region=", Env({})),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("region")));
  EXPECT_THAT(S3ConfigFromUrl("minio://k:hunter2@h:1/b?x=1", Env({})),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("unknown query parameter 'x'"), Not(HasSubstr("hunter2")))));
  EXPECT_THAT(S3ConfigFromUrl("gcs://b", Env({})), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace rwmeta::objstore::s3
