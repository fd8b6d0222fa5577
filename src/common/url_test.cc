#include "common/url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "common/testing/status_matchers.h"

namespace rwmeta {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

TEST(ParseUrlTest, BareScheme) {
  ASSERT_OK_AND_ASSIGN(Url url, ParseUrl("memory"));
  EXPECT_EQ(url.scheme, "memory");
  EXPECT_EQ(url.host, "");
  EXPECT_EQ(url.path, "");
  EXPECT_FALSE(url.port.has_value());

  ASSERT_OK_AND_ASSIGN(Url isolated, ParseUrl("memory-isolated"));
  EXPECT_EQ(isolated.scheme, "memory-isolated");
}

TEST(ParseUrlTest, FsUrlHasEmptyHostAndAbsolutePath) {
  ASSERT_OK_AND_ASSIGN(Url url, ParseUrl("fs:///var/lib/rw%20data"));
  EXPECT_EQ(url.scheme, "fs");
  EXPECT_EQ(url.host, "");
  EXPECT_EQ(url.path, "/var/lib/rw data");
  EXPECT_TRUE(url.query.empty());
}

TEST(ParseUrlTest, SchemeIsLowerCased) {
  ASSERT_OK_AND_ASSIGN(Url url, ParseUrl("S3://Bucket/Prefix"));
  EXPECT_EQ(url.scheme, "s3");
  EXPECT_EQ(url.host, "Bucket");
  EXPECT_EQ(url.path, "/Prefix");
}

TEST(ParseUrlTest, S3WithoutPath) {
  ASSERT_OK_AND_ASSIGN(Url url, ParseUrl("s3://bucket"));
  EXPECT_EQ(url.host, "bucket");
  EXPECT_EQ(url.path, "");
}

TEST(ParseUrlTest, FullMinioUrlWithDecodedCredentials) {
  ASSERT_OK_AND_ASSIGN(Url url,
                       ParseUrl("minio://hummock%40admin:se%2Fcr%3At@127.0.0.1:9301/bkt/p"));
  EXPECT_EQ(url.scheme, "minio");
  EXPECT_EQ(url.user, "hummock@admin");
  EXPECT_EQ(url.password, "se/cr:t");
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, std::optional<uint16_t>(9301));
  EXPECT_EQ(url.path, "/bkt/p");
}

TEST(ParseUrlTest, UserWithoutPassword) {
  ASSERT_OK_AND_ASSIGN(Url url, ParseUrl("postgres://root@localhost:4566/dev"));
  EXPECT_EQ(url.user, "root");
  EXPECT_EQ(url.password, "");
  EXPECT_EQ(url.host, "localhost");
  EXPECT_EQ(url.port, std::optional<uint16_t>(4566));
  EXPECT_EQ(url.path, "/dev");
}

TEST(ParseUrlTest, PasswordWithRawAtUsesLastAt) {
  ASSERT_OK_AND_ASSIGN(Url url, ParseUrl("postgres://u:p@ss@h/db"));
  EXPECT_EQ(url.user, "u");
  EXPECT_EQ(url.password, "p@ss");
  EXPECT_EQ(url.host, "h");
}

TEST(ParseUrlTest, Ipv6HostAndPortBounds) {
  ASSERT_OK_AND_ASSIGN(Url url, ParseUrl("http://[::1]:65535/x"));
  EXPECT_EQ(url.host, "[::1]");
  EXPECT_EQ(url.port, std::optional<uint16_t>(65535));
  ASSERT_OK_AND_ASSIGN(Url zero, ParseUrl("http://127.0.0.1:0"));
  EXPECT_EQ(zero.port, std::optional<uint16_t>(0));
}

TEST(ParseUrlTest, QueryParameters) {
  ASSERT_OK_AND_ASSIGN(Url url, ParseUrl("s3://b/p?region=us-east-1&flag&&k%20x=a%2Bb+c&region=x"));
  EXPECT_EQ(url.path, "/p");
  EXPECT_THAT(url.query, ElementsAre(Pair("region", "us-east-1"), Pair("flag", ""),
                                     Pair("k x", "a+b+c"), Pair("region", "x")));
  EXPECT_EQ(url.QueryParam("region"), std::optional<std::string>("us-east-1"));
  EXPECT_EQ(url.QueryParam("flag"), std::optional<std::string>(""));
  EXPECT_EQ(url.QueryParam("missing"), std::nullopt);
}

TEST(ParseUrlTest, MalformedInputIsInvalidArgumentNamingTheProblem) {
  EXPECT_THAT(ParseUrl(""), StatusIs(StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(ParseUrl("://host"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("scheme")));
  EXPECT_THAT(ParseUrl("/abs/path"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("scheme")));
  EXPECT_THAT(ParseUrl("1fs:///x"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("scheme")));
  EXPECT_THAT(ParseUrl("fs:///a b"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("space")));
  EXPECT_THAT(ParseUrl(std::string_view("fs:///a\0b", 9)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("control")));
  EXPECT_THAT(ParseUrl("fs:///x#frag"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("fragment")));
  EXPECT_THAT(ParseUrl("fs:///x%2"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("path")));
  EXPECT_THAT(ParseUrl("fs:///x%zz"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("path")));
  EXPECT_THAT(ParseUrl("pg://u%:p@h"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("user")));
  EXPECT_THAT(ParseUrl("pg://u:p%g@h"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("password")));
  EXPECT_THAT(ParseUrl("s3://b?x=%"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("query")));
  EXPECT_THAT(ParseUrl("http://h:"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("port")));
  EXPECT_THAT(ParseUrl("http://h:65536"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("out of range")));
  EXPECT_THAT(ParseUrl("http://h:99999999999"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("port")));
  EXPECT_THAT(ParseUrl("http://h:-1"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("port")));
  EXPECT_THAT(ParseUrl("http://[::1"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("IPv6")));
  EXPECT_THAT(ParseUrl("http://[::1]x"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("IPv6")));
}

TEST(ParseUrlTest, ErrorsNeverQuoteThePassword) {
  // A raw '/' in the secret makes the "port" part of the secret: the error must not echo it.
  auto r = ParseUrl("minio://key:abc/def@host:9000/bucket");
  ASSERT_THAT(r, StatusIs(StatusCode::kInvalidArgument, HasSubstr("port")));
  EXPECT_THAT(r.status().message(), Not(HasSubstr("abc")));
  EXPECT_THAT(r.status().message(), Not(HasSubstr("def")));

  auto r2 = ParseUrl("pg://u:hunter2@h:bad");
  ASSERT_THAT(r2, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(r2.status().message(), Not(HasSubstr("hunter2")));
}

TEST(ParseUrlTest, RandomGarbageNeverCrashes) {
  std::mt19937 rng(20261124);
  const std::string alphabet = "abcz09:/@?#%[]&=+-.~ \x01\x7f\xff";
  std::uniform_int_distribution<size_t> len(0, 40);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    size_t n = len(rng);
    for (size_t j = 0; j < n; ++j) {
      s.push_back(i % 2 == 0 ? alphabet[pick(rng)] : static_cast<char>(byte(rng)));
    }
    Result<Url> r = ParseUrl(s);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << s;
    }
    std::string redacted = RedactUrl(s);
    Result<std::string> stripped = StripHummockPrefix(s);
    (void)redacted;
    stripped.IgnoreError();  // Only checking that it does not crash.
  }
}

TEST(RedactUrlTest, HidesPasswords) {
  EXPECT_EQ(RedactUrl("postgres://user:hunter2@host:5432/db"), "postgres://user:***@host:5432/db");
  EXPECT_EQ(RedactUrl("minio://hummockadmin:hummockadmin@127.0.0.1:9301/hummock001"),
            "minio://hummockadmin:***@127.0.0.1:9301/hummock001");
  EXPECT_EQ(RedactUrl("hummock+minio://key:secret@host/b"), "hummock+minio://key:***@host/b");
  EXPECT_EQ(RedactUrl("pg://u:p@ss@h/db"), "pg://u:***@h/db");
  EXPECT_EQ(RedactUrl("pg://u:@h"), "pg://u:***@h");
}

TEST(RedactUrlTest, HidesSecretWithRawSlash) {
  // AWS secret keys contain '/': strictly the authority ends there, but the secret must not leak.
  std::string redacted = RedactUrl("minio://AKIA:abc/def+ghi@host:9000/bucket");
  EXPECT_EQ(redacted, "minio://AKIA:***@host:9000/bucket");
}

TEST(RedactUrlTest, HidesSecretQueryParameters) {
  EXPECT_EQ(RedactUrl("s3://b?region=x&secret_access_key=abc&session_token=t&Password=p"),
            "s3://b?region=x&secret_access_key=***&session_token=***&Password=***");
}

TEST(RedactUrlTest, LeavesUrlsWithoutCredentialsUnchanged) {
  for (std::string_view u :
       {"memory", "memory-isolated", "fs:///var/lib/x", "fs:///a@b/c",
        "s3://bucket/prefix?region=x", "postgres://root@localhost:4566/dev", "http://[::1]:80/", "",
        "not a url at all", "@", ":", "://", "hummock+fs:///data"}) {
    EXPECT_EQ(RedactUrl(u), u);
  }
}

TEST(RedactUrlTest, GarbageWithCredentialsIsStillRedacted) {
  EXPECT_EQ(RedactUrl("user:pass@host"), "user:***@host");
  EXPECT_EQ(RedactUrl("x://a:b@"), "x://a:***@");
}

TEST(StripHummockPrefixTest, Strips) {
  ASSERT_OK_AND_ASSIGN(std::string fs, StripHummockPrefix("hummock+fs:///x"));
  EXPECT_EQ(fs, "fs:///x");
  ASSERT_OK_AND_ASSIGN(std::string mem, StripHummockPrefix("hummock+memory"));
  EXPECT_EQ(mem, "memory");
  ASSERT_OK_AND_ASSIGN(std::string minio, StripHummockPrefix("hummock+minio://k:s@h:9000/b"));
  EXPECT_EQ(minio, "minio://k:s@h:9000/b");
}

TEST(StripHummockPrefixTest, MissingPrefixIsInvalidArgument) {
  EXPECT_THAT(StripHummockPrefix("fs:///x"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("hummock+")));
  EXPECT_THAT(StripHummockPrefix(""), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(StripHummockPrefix("hummock"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(StripHummockPrefix("hummock+"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("missing")));
  auto r = StripHummockPrefix("minio://k:topsecret@h/b");
  ASSERT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(r.status().message(), Not(HasSubstr("topsecret")));
}

}  // namespace
}  // namespace rwmeta
