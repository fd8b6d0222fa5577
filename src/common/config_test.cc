#include "common/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "common/testing/status_matchers.h"

namespace rwmeta {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::HasSubstr;

Config MakeConfig() {
  return Config({
      {"meta.listen_addr", "--listen-addr", "RW_LISTEN_ADDR", "127.0.0.1:5690", "gRPC address"},
      {"meta.backend", "--backend", "RW_BACKEND", "sqlite", "meta store"},
      {"meta.etcd_endpoints", "--etcd-endpoints", "RW_ETCD_ENDPOINTS", std::nullopt, "etcd"},
      {"system.barrier_interval_ms", "", "", std::nullopt, "barrier"},
  });
}

TEST(ConfigTest, DefaultsApplyWhenNothingElseSetsAValue) {
  Config c = MakeConfig();
  EXPECT_EQ(c.Get("meta.listen_addr"), "127.0.0.1:5690");
  EXPECT_EQ(c.SourceOf("meta.listen_addr"), Config::Source::kDefault);
  EXPECT_EQ(c.Get("meta.etcd_endpoints"), std::nullopt);
}

TEST(ConfigTest, FlagsWinOverEnvWhichWinsOverFileWhichWinsOverDefaults) {
  Config c = MakeConfig();
  ASSERT_OK(c.SetFlag("meta.listen_addr", "0.0.0.0:1"));
  std::map<std::string, std::string> env{{"RW_LISTEN_ADDR", "0.0.0.0:2"}, {"RW_BACKEND", "etcd"}};
  c.LoadEnv([&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  ASSERT_OK(c.LoadTomlText(
      "[meta]\nlisten_addr = '0.0.0.0:3'\nbackend = 'sql'\netcd_endpoints = ['a:1', 'b:2']\n"
      "[system]\nbarrier_interval_ms = 250\n",
      "test.toml"));
  EXPECT_EQ(c.Get("meta.listen_addr"), "0.0.0.0:1");
  EXPECT_EQ(c.SourceOf("meta.listen_addr"), Config::Source::kFlag);
  EXPECT_EQ(c.Get("meta.backend"), "etcd");
  EXPECT_EQ(c.SourceOf("meta.backend"), Config::Source::kEnv);
  EXPECT_EQ(c.Get("meta.etcd_endpoints"), "a:1,b:2");
  EXPECT_EQ(c.Get("system.barrier_interval_ms"), "250");
  EXPECT_EQ(c.SourceOf("system.barrier_interval_ms"), Config::Source::kFile);
}

TEST(ConfigTest, UnknownKeysAndBadSyntaxAreErrors) {
  Config c = MakeConfig();
  EXPECT_THAT(c.LoadTomlText("[meta]\nlisten_adr = 'x'\n", "a.toml"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown key meta.listen_adr")));
  EXPECT_THAT(c.LoadTomlText("[meta\n", "b.toml"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("b.toml line 1")));
  EXPECT_THAT(c.LoadTomlText("[meta]\nbackend = { a = 1 }\n", "c.toml"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown key meta.backend.a")));
  EXPECT_THAT(c.SetFlag("nope", "1"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(c.LoadTomlFile("/nonexistent/rwmeta.toml"), StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace rwmeta
