#include "objstore/key.h"

#include <gtest/gtest.h>

namespace rwmeta::objstore {
namespace {

TEST(KeyTest, DirectoryPrefix) {
  EXPECT_EQ(DirectoryPrefix(""), "");
  EXPECT_EQ(DirectoryPrefix("/"), "");
  EXPECT_EQ(DirectoryPrefix("dir"), "dir/");
  EXPECT_EQ(DirectoryPrefix("dir/"), "dir/");
  EXPECT_EQ(DirectoryPrefix("dir//"), "dir/");
  EXPECT_EQ(DirectoryPrefix("a/b"), "a/b/");
}

TEST(KeyTest, JoinKey) {
  EXPECT_EQ(JoinKey("", "manifest.json"), "manifest.json");
  EXPECT_EQ(JoinKey("backup", "manifest.json"), "backup/manifest.json");
  EXPECT_EQ(JoinKey("backup/", "manifest.json"), "backup/manifest.json");
  EXPECT_EQ(JoinKey("hummock_001", "checkpoint/0"), "hummock_001/checkpoint/0");
  EXPECT_EQ(JoinKey("dir", ""), "dir/");
}

}  // namespace
}  // namespace rwmeta::objstore
