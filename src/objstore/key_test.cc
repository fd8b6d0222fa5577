#include "objstore/key.h"

#include <gtest/gtest.h>

#include <cstdint>

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

TEST(KeyTest, NameInDirectory) {
  EXPECT_EQ(NameInDirectory("d", "d/12.data"), "12.data");
  EXPECT_EQ(NameInDirectory("d/", "d/checkpoint/0"), "checkpoint/0");
  EXPECT_EQ(NameInDirectory("", "cluster_id"), "cluster_id");
  EXPECT_EQ(NameInDirectory("d", "d/"), std::nullopt);  // the directory itself
  EXPECT_EQ(NameInDirectory("d", "dd/12.data"), std::nullopt);
  EXPECT_EQ(NameInDirectory("d", "e/12.data"), std::nullopt);
  EXPECT_EQ(NameInDirectory("d", "d"), std::nullopt);
}

TEST(KeyTest, NumberedNamesRoundTrip) {
  for (uint64_t n : {uint64_t{0}, uint64_t{7}, uint64_t{12}, UINT64_MAX}) {
    EXPECT_EQ(ParseNumberedName(NumberedName(n, ".data"), ".data"), n) << n;
    EXPECT_EQ(ParseNumberedName(NumberedName(n, ""), ""), n) << n;
  }
  EXPECT_EQ(NumberedName(12, ".snapshot"), "12.snapshot");
}

TEST(KeyTest, NumberedNamesRejectEveryOtherSpelling) {
  for (std::string_view name :
       {"007.data", "00.data", "+7.data", "-7.data", " 7.data", "7 .data", ".data", "data", "",
        "12.data.tmp", "12.dat", "1x.data", "18446744073709551616.data", "0x1f.data"}) {
    EXPECT_EQ(ParseNumberedName(name, ".data"), std::nullopt) << name;
  }
  EXPECT_EQ(ParseNumberedName("12", ".data"), std::nullopt);
  EXPECT_EQ(ParseNumberedName("", ""), std::nullopt);
  EXPECT_EQ(ParseNumberedName("01", ""), std::nullopt);
}

}  // namespace
}  // namespace rwmeta::objstore
