// FsObjectStore behaviour beyond the conformance suite: what it does on disk, staging-file
// cleanup, sharing a directory between stores and processes, and errno mapping.
#include "objstore/fs/fs_object_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/testing/status_matchers.h"
#include "objstore/object_store_conformance.h"

namespace rwmeta::objstore {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> Keys(const std::vector<ObjectMeta>& metas) {
  std::vector<std::string> keys;
  for (const auto& m : metas) keys.push_back(m.key);
  return keys;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void WriteFile(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

// Sets the mtime of `path` to `age_s` seconds ago.
void Age(const std::string& path, int age_s) {
  struct timespec times[2];
  clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= age_s;
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

class FsObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, testing::MakeTempDir());
    root_ = dir_ + "/store";
  }
  void TearDown() override {
    // Undo permission changes so that cleanup works.
    ::chmod(root_.c_str(), 0755);
    testing::RemoveTempDir(dir_);
  }

  std::string dir_;
  std::string root_;
};

TEST_F(FsObjectStoreTest, OpenRequiresAbsolutePath) {
  EXPECT_THAT(FsObjectStore::Open("relative/dir"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(FsObjectStore::Open(""), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(FsObjectStoreTest, OpenCreatesRootAndNormalizesTrailingSlash) {
  ASSERT_OK_AND_ASSIGN(auto store, FsObjectStore::Open(root_ + "/deeper/"));
  EXPECT_TRUE(Exists(root_ + "/deeper"));
  EXPECT_EQ(store->root_dir(), root_ + "/deeper");
  EXPECT_EQ(store->DisplayUrl(), "fs://" + root_ + "/deeper");
}

TEST_F(FsObjectStoreTest, OpenOnAFileIsFailedPrecondition) {
  WriteFile(dir_ + "/file", "x");
  EXPECT_THAT(FsObjectStore::Open(dir_ + "/file"), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(FsObjectStoreTest, ObjectsAreFilesAndDeleteRemovesEmptyDirectories) {
  ASSERT_OK_AND_ASSIGN(auto store, FsObjectStore::Open(root_));
  ASSERT_OK(store->Put("a/b/c", "bytes"));
  std::ifstream in(root_ + "/a/b/c", std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "bytes");
  ASSERT_OK(store->Put("a/keep", "k"));
  ASSERT_OK(store->Delete("a/b/c"));
  EXPECT_FALSE(Exists(root_ + "/a/b"));
  EXPECT_TRUE(Exists(root_ + "/a/keep"));
  ASSERT_OK(store->Delete("a/keep"));
  EXPECT_FALSE(Exists(root_ + "/a"));
  EXPECT_TRUE(Exists(root_));
}

TEST_F(FsObjectStoreTest, ConcurrentDeletesEmptyingADirectoryAllSucceed) {
  ASSERT_OK_AND_ASSIGN(auto store, FsObjectStore::Open(root_));
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 4; ++i) ASSERT_OK(store->Put(fmt::format("d/{}", i), "x"));
    std::vector<Status> results(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] { results[i] = store->Delete(fmt::format("d/{}", i)); });
    }
    for (auto& t : threads) t.join();
    for (const Status& s : results) ASSERT_OK(s) << "round " << round;
    EXPECT_FALSE(Exists(root_ + "/d"));
  }
}

TEST_F(FsObjectStoreTest, ReservedPrefixIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(auto store, FsObjectStore::Open(root_));
  EXPECT_THAT(store->Put(".rwmeta/lock", "x"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("reserved")));
  EXPECT_THAT(store->Get(".rwmeta/lock"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store->Delete(".rwmeta"), StatusIs(StatusCode::kInvalidArgument));
  // Only the whole first segment is reserved.
  EXPECT_OK(store->Put(".rwmetax", "x"));
  EXPECT_OK(store->Put("d/.rwmeta", "x"));
  ASSERT_OK_AND_ASSIGN(auto list, store->List(""));
  EXPECT_THAT(Keys(list), ElementsAre(".rwmetax", "d/.rwmeta"));
}

TEST_F(FsObjectStoreTest, KeyThatWouldBeFileAndDirectoryIsFailedPrecondition) {
  ASSERT_OK_AND_ASSIGN(auto store, FsObjectStore::Open(root_));
  ASSERT_OK(store->Put("a", "file"));
  EXPECT_THAT(store->Put("a/b", "x"), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(store->Get("a/b"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(store->Put("d/e", "x"));
  EXPECT_THAT(store->Put("d", "x"), StatusIs(StatusCode::kFailedPrecondition));
  // A directory is not an object.
  EXPECT_THAT(store->Get("d"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store->Head("d"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store->OpenReader("d"), StatusIs(StatusCode::kNotFound));
  EXPECT_OK(store->Delete("d"));
  ASSERT_OK_AND_ASSIGN(auto list, store->List(""));
  EXPECT_THAT(Keys(list), ElementsAre("a", "d/e"));
  // The failed Puts left no staging files behind.
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/.rwmeta/tmp"));
}

TEST_F(FsObjectStoreTest, OverlongKeySegmentIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(auto store, FsObjectStore::Open(root_));
  std::string key = "dir/" + std::string(300, 'x');
  EXPECT_THAT(store->Put(key, "v"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store->Get(key), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store->Head(key), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(std::filesystem::is_empty(root_ + "/.rwmeta/tmp"));
}

TEST_F(FsObjectStoreTest, TwoStoresOnOneDirectorySeeEachOther) {
  ASSERT_OK_AND_ASSIGN(auto a, FsObjectStore::Open(root_));
  ASSERT_OK_AND_ASSIGN(auto b, FsObjectStore::Open(root_));
  ASSERT_OK(a->Put("shared/x", "from a"));
  ASSERT_OK_AND_ASSIGN(std::string v, b->Get("shared/x"));
  EXPECT_EQ(v, "from a");
  PutOptions create;
  create.if_none_match = true;
  EXPECT_THAT(b->Put("shared/x", "from b", create), StatusIs(StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(ObjectMeta ma, a->Head("shared/x"));
  ASSERT_OK_AND_ASSIGN(ObjectMeta mb, b->Head("shared/x"));
  EXPECT_EQ(ma.etag, mb.etag);
  PutOptions match;
  match.if_match_etag = ma.etag;
  ASSERT_OK(b->Put("shared/x", "from b", match));
  EXPECT_THAT(a->Put("shared/x", "from a again", match), StatusIs(StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(v, a->Get("shared/x"));
  EXPECT_EQ(v, "from b");
  ASSERT_OK(b->Delete("shared/x"));
  EXPECT_THAT(a->Get("shared/x"), StatusIs(StatusCode::kNotFound));
}

TEST_F(FsObjectStoreTest, CrashLeftStagingFileIsNotListedAndIsRemovedOnOpen) {
  ASSERT_OK_AND_ASSIGN(auto store, FsObjectStore::Open(root_));
  ASSERT_OK(store->Put("real", "r"));
  std::string tmp = root_ + "/.rwmeta/tmp";
  // What a process killed mid-write leaves: a staging file nobody holds locked.
  WriteFile(tmp + "/12345-0-deadbeef", "half an object");
  Age(tmp + "/12345-0-deadbeef", 3600);
  // A staging file that is old but whose writer is alive (holds the flock) must survive.
  WriteFile(tmp + "/live-old", "in flight");
  Age(tmp + "/live-old", 3600);
  int live_fd = ::open((tmp + "/live-old").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(live_fd, 0);
  ASSERT_EQ(::flock(live_fd, LOCK_EX | LOCK_NB), 0);
  // A brand-new unlocked one may be a writer between create and lock: it must survive too.
  WriteFile(tmp + "/young", "just created");

  ASSERT_OK_AND_ASSIGN(auto list, store->List(""));
  EXPECT_THAT(Keys(list), ElementsAre("real"));

  ASSERT_OK_AND_ASSIGN(auto reopened, FsObjectStore::Open(root_));
  EXPECT_FALSE(Exists(tmp + "/12345-0-deadbeef"));
  EXPECT_TRUE(Exists(tmp + "/live-old"));
  EXPECT_TRUE(Exists(tmp + "/young"));
  ::close(live_fd);
  ASSERT_OK_AND_ASSIGN(auto list2, reopened->List(""));
  EXPECT_THAT(Keys(list2), ElementsAre("real"));
}

TEST_F(FsObjectStoreTest, OpenWhileAnotherStoreWritesKeepsItsStagingFile) {
  ASSERT_OK_AND_ASSIGN(auto store, FsObjectStore::Open(root_));
  ASSERT_OK_AND_ASSIGN(auto writer, store->OpenWriter("obj"));
  ASSERT_OK(writer->Append("part"));
  // Make the staging file look old: only its lock protects it now.
  for (const auto& e : std::filesystem::directory_iterator(root_ + "/.rwmeta/tmp")) {
    Age(e.path().string(), 3600);
  }
  ASSERT_OK_AND_ASSIGN(auto other, FsObjectStore::Open(root_));
  ASSERT_OK(writer->Append("-rest"));
  ASSERT_OK(writer->Finish());
  ASSERT_OK_AND_ASSIGN(std::string v, other->Get("obj"));
  EXPECT_EQ(v, "part-rest");
}

TEST_F(FsObjectStoreTest, ConditionalPutIsSafeAcrossProcesses) {
  ASSERT_OK_AND_ASSIGN(auto store, FsObjectStore::Open(root_));
  ASSERT_OK(store->Put("counter", "0"));
  constexpr int kPerProcess = 25;
  // Read-modify-write with if_match until `n` increments succeed. Returns false on a non-Aborted
  // error.
  auto increment = [](FsObjectStore& s, int n) {
    for (int done = 0; done < n;) {
      auto meta = s.Head("counter");
      auto value = s.Get("counter");
      auto meta2 = s.Head("counter");
      if (!meta.ok() || !value.ok() || !meta2.ok()) return false;
      if (meta->etag != meta2->etag) continue;
      PutOptions o;
      o.if_match_etag = meta->etag;
      Status st = s.Put("counter", std::to_string(std::stoi(*value) + 1), o);
      if (st.ok()) {
        ++done;
      } else if (st.code() != StatusCode::kAborted) {
        return false;
      }
    }
    return true;
  };
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child opens its own store on the directory, as another process would.
    auto own = FsObjectStore::Open(root_);
    bool ok = own.ok() && increment(**own, kPerProcess);
    ::_exit(ok ? 0 : 1);
  }
  bool parent_ok = increment(*store, kPerProcess);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  EXPECT_TRUE(parent_ok);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
  ASSERT_OK_AND_ASSIGN(std::string v, store->Get("counter"));
  EXPECT_EQ(v, std::to_string(2 * kPerProcess));
}

TEST_F(FsObjectStoreTest, UnwritableDirectoryIsPermissionDenied) {
  ASSERT_OK_AND_ASSIGN(auto store, FsObjectStore::Open(root_));
  ASSERT_OK(store->Put("a/x", "x"));
  if (::geteuid() == 0) {
    // Root ignores permission bits: check from a child that drops to nobody. The temp directory
    // is 0700 and owned by root, so the child may not use it.
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(100);
      auto opened = FsObjectStore::Open(root_);
      ::_exit(static_cast<int>(opened.status().code()));
    }
    int wstatus = 0;
    ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFEXITED(wstatus));
    EXPECT_EQ(WEXITSTATUS(wstatus), static_cast<int>(StatusCode::kPermissionDenied));
    return;
  }
  ASSERT_EQ(::chmod((root_ + "/a").c_str(), 0555), 0);
  EXPECT_THAT(store->Put("a/y", "y"), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(store->Delete("a/x"), StatusIs(StatusCode::kPermissionDenied));
  ASSERT_EQ(::chmod((root_ + "/a").c_str(), 0755), 0);
}

}  // namespace
}  // namespace rwmeta::objstore
