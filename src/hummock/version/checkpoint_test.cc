#include "hummock/version/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <xxhash.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/testing/status_matchers.h"
#include "hummock/version/version.h"
#include "objstore/fs/fs_object_store.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::hummock {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kName[] = "data/checkpoint/0";

SstableInfo Sst(uint64_t object_id, std::string smallest, std::string largest) {
  SstableInfo sst;
  sst.set_object_id(object_id);
  sst.set_sst_id(object_id + 1000);
  sst.set_smallest_key(std::move(smallest));
  sst.set_largest_key(std::move(largest));
  sst.set_file_size(4096 + object_id);
  sst.add_table_ids(1);
  sst.add_table_ids(2);
  sst.set_min_epoch(100);
  sst.set_max_epoch(200);
  sst.set_total_key_count(10);
  sst.set_stale_key_count(1);
  return sst;
}

// The fixed checkpoint behind testdata/checkpoint_v1.golden (format 1.0). Never change it: the
// golden file holds it as rwmeta wrote it before format 1.1.
HummockVersionCheckpoint FixedCheckpoint() {
  HummockVersion v;
  EXPECT_OK(ApplyDelta(&v, VersionDeltaBuilder(v)
                               .CommitEpoch(100, 2, {Sst(10, "a", "f"), Sst(11, "g", "m")}, {1, 2})
                               .CommitEpoch(100, 3, {Sst(12, "b", "c")}, {3})
                               .Build()));
  EXPECT_OK(ApplyDelta(
      &v, VersionDeltaBuilder(v).CommitEpoch(200, 2, {Sst(13, "c", "z")}, {1, 2}).Build()));
  EXPECT_OK(ApplyDelta(&v, VersionDeltaBuilder(v)
                               .Compact(2, {10, 11}, 1, {Sst(14, "a", "m")})
                               .SetSafeEpoch(100)
                               .Build()));
  HummockVersionCheckpoint cp;
  *cp.mutable_version() = v;
  cp.add_stale_object_ids(10);
  cp.add_stale_object_ids(11);
  return cp;
}

std::string Deterministic(const google::protobuf::Message& m) {
  return SerializeDeterministic(m).value();
}

// Recomputes the trailing checksum after a deliberate edit, to forge intact-looking objects.
std::string Reseal(std::string bytes) {
  bytes.resize(bytes.size() - kCheckpointTrailerSize);
  uint64_t sum = XXH64(bytes.data(), bytes.size(), 0);
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((sum >> (8 * i)) & 0xff));
  return bytes;
}

TEST(CheckpointTest, RoundTripBothCompressions) {
  HummockVersionCheckpoint cp = FixedCheckpoint();
  for (CheckpointCompression c : {CheckpointCompression::kNone, CheckpointCompression::kZstd}) {
    ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeCheckpoint(cp, c));
    EXPECT_EQ(bytes.substr(0, 4), "RWHC");
    EXPECT_EQ(static_cast<uint8_t>(bytes[8]), static_cast<uint8_t>(c));
    ASSERT_OK_AND_ASSIGN(HummockVersionCheckpoint back, DecodeCheckpoint(bytes, kName));
    EXPECT_EQ(Deterministic(back), Deterministic(cp));
    EXPECT_EQ(back.version().id(), 3u);
    EXPECT_THAT(back.stale_object_ids(), ElementsAre(10, 11));
    EXPECT_THAT(ObjectIds(back.version()), ElementsAre(12, 13, 14));
  }
}

TEST(CheckpointTest, EncodingIsDeterministic) {
  ASSERT_OK_AND_ASSIGN(std::string a, EncodeCheckpoint(FixedCheckpoint()));
  ASSERT_OK_AND_ASSIGN(std::string b, EncodeCheckpoint(FixedCheckpoint()));
  EXPECT_EQ(a, b);
}

std::string ReadGolden(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing golden file " << path;
  std::stringstream golden;
  golden << in.rdbuf();
  return golden.str();
}

std::string GoldenPath(const std::string& name) {
  return std::string(RWMETA_HUMMOCK_SOURCE_DIR) + "/version/testdata/" + name;
}

// The fixed checkpoint behind testdata/checkpoint_v1_1.golden: FixedCheckpoint's version after a
// commit of every table (all_tables_committed_epoch 300, leaving the entries of tables 1..3 at
// their older epochs) that also registers table 4.
HummockVersionCheckpoint FixedCheckpointV1_1() {
  HummockVersionCheckpoint cp = FixedCheckpoint();
  HummockVersion* v = cp.mutable_version();
  EXPECT_OK(ApplyDelta(v, VersionDeltaBuilder(*v)
                              .CommitEpochForAllTables(300, 2, {Sst(15, "d", "e")})
                              .CommitEpoch(300, 3, {}, {4})
                              .Build()));
  return cp;
}

// Objects of format 1.0 (written before all_tables_committed_epoch, every table's epoch in its
// entry) stay readable whatever the writer does now.
TEST(CheckpointTest, GoldenBytesV1_0StillDecode) {
  const std::string path = GoldenPath("checkpoint_v1.golden");
  const std::string golden = ReadGolden(path);
  ASSERT_GT(golden.size(), 8u);
  EXPECT_EQ(golden[6], 0) << "minor version 0";
  ASSERT_OK_AND_ASSIGN(HummockVersionCheckpoint decoded, DecodeCheckpoint(golden, path));
  EXPECT_EQ(Deterministic(decoded), Deterministic(FixedCheckpoint()))
      << "the golden checkpoint no longer decodes to the fixed checkpoint: the reader broke v1.0";
  const HummockVersion& v = decoded.version();
  EXPECT_EQ(v.all_tables_committed_epoch(), 0u);
  EXPECT_EQ(CommittedEpoch(v, 1), 200u);
  EXPECT_EQ(CommittedEpoch(v, 2), 200u);
  EXPECT_EQ(CommittedEpoch(v, 3), 100u);
}

// Fails (never rewrites) when the encoding changes. To accept an intended format change: bump the
// version in checkpoint.h, update docs/format/checkpoint.md, keep a golden file per version, and
// regenerate this one explicitly with RWMETA_UPDATE_GOLDEN=1.
TEST(CheckpointTest, GoldenBytesV1_1) {
  const std::string path = GoldenPath("checkpoint_v1_1.golden");
  ASSERT_OK_AND_ASSIGN(std::string encoded, EncodeCheckpoint(FixedCheckpointV1_1()));
  if (getenv("RWMETA_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << encoded;
    GTEST_SKIP() << "rewrote " << path << " (RWMETA_UPDATE_GOLDEN is set)";
  }
  const std::string golden = ReadGolden(path);
  ASSERT_OK_AND_ASSIGN(HummockVersionCheckpoint decoded, DecodeCheckpoint(golden, path));
  // Every table's epoch is in its entry, so a 1.0 reader, which ignores the new field, reads the
  // same epochs.
  const HummockVersion& v = decoded.version();
  EXPECT_EQ(v.all_tables_committed_epoch(), 300u);
  for (uint32_t table : {1u, 2u, 3u, 4u}) {
    EXPECT_EQ(v.state_table_info().at(table).committed_epoch(), 300u) << "table " << table;
    EXPECT_EQ(CommittedEpoch(v, table), CommittedEpoch(FixedCheckpointV1_1().version(), table));
  }
  HummockVersionCheckpoint materialized = FixedCheckpointV1_1();
  MaterializeCommittedEpochs(materialized.mutable_version());
  EXPECT_EQ(Deterministic(decoded), Deterministic(materialized))
      << "the golden checkpoint no longer decodes to the fixed checkpoint: the reader broke v1.1";
  EXPECT_TRUE(encoded == golden)
      << "checkpoint encoding changed (" << encoded.size() << " bytes now, golden " << golden.size()
      << "). If unintended, fix the writer. If intended: bump the format "
      << "version, document it in docs/format/checkpoint.md, add a new golden file, and regenerate "
      << "explicitly with RWMETA_UPDATE_GOLDEN=1. (A zstd upgrade can also change compressed "
      << "bytes; the decode check above is the compatibility guarantee.)";
}

TEST(CheckpointTest, EverySingleByteFlipIsDataLossNamingTheObject) {
  ASSERT_OK_AND_ASSIGN(std::string good, EncodeCheckpoint(FixedCheckpoint()));
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x01;
    EXPECT_THAT(DecodeCheckpoint(bad, kName),
                StatusIs(StatusCode::kDataLoss, HasSubstr("checkpoint object data/checkpoint/0")))
        << "byte " << i;
  }
}

TEST(CheckpointTest, SpecificCorruptions) {
  ASSERT_OK_AND_ASSIGN(std::string good, EncodeCheckpoint(FixedCheckpoint()));
  std::string magic = good;
  magic[0] = 'X';
  EXPECT_THAT(DecodeCheckpoint(magic, kName),
              StatusIs(StatusCode::kDataLoss, HasSubstr("bad magic")));
  std::string payload = good;
  payload[kCheckpointHeaderSize + 3] ^= 0x40;
  EXPECT_THAT(DecodeCheckpoint(payload, kName),
              StatusIs(StatusCode::kDataLoss, HasSubstr("checksum mismatch")));
  std::string checksum = good;
  checksum[good.size() - 1] ^= 0x80;
  EXPECT_THAT(DecodeCheckpoint(checksum, kName),
              StatusIs(StatusCode::kDataLoss, HasSubstr("checksum mismatch")));
  EXPECT_THAT(DecodeCheckpoint(good.substr(0, good.size() - 1), kName),
              StatusIs(StatusCode::kDataLoss, HasSubstr("truncated")));
  EXPECT_THAT(DecodeCheckpoint(good.substr(0, 20), kName),
              StatusIs(StatusCode::kDataLoss, HasSubstr("truncated")));
  EXPECT_THAT(DecodeCheckpoint("", kName), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(DecodeCheckpoint(good + "x", kName),
              StatusIs(StatusCode::kDataLoss, HasSubstr("trailing bytes")));
}

TEST(CheckpointTest, IntactButUndecodablePayloadIsDataLoss) {
  ASSERT_OK_AND_ASSIGN(std::string good,
                       EncodeCheckpoint(FixedCheckpoint(), CheckpointCompression::kNone));
  std::string bad = good;
  bad[kCheckpointHeaderSize] = '\xff';  // an invalid protobuf tag
  bad[kCheckpointHeaderSize + 1] = '\xff';
  EXPECT_THAT(DecodeCheckpoint(Reseal(bad), kName),
              StatusIs(StatusCode::kDataLoss, HasSubstr("not a HummockVersionCheckpoint")));
  ASSERT_OK_AND_ASSIGN(std::string zstd, EncodeCheckpoint(FixedCheckpoint()));
  zstd[kCheckpointHeaderSize] ^= 0x5a;  // zstd frame magic
  EXPECT_THAT(DecodeCheckpoint(Reseal(zstd), kName),
              StatusIs(StatusCode::kDataLoss, HasSubstr("does not decompress")));
}

TEST(CheckpointTest, UnknownMajorVersionOrCompressionIsUnimplemented) {
  ASSERT_OK_AND_ASSIGN(std::string good, EncodeCheckpoint(FixedCheckpoint()));
  std::string v2 = good;
  v2[4] = 2;
  EXPECT_THAT(DecodeCheckpoint(Reseal(v2), kName),
              StatusIs(StatusCode::kUnimplemented, HasSubstr("major version 2")));
  std::string minor = good;
  minor[6] = 9;  // a newer minor of v1 is still read
  EXPECT_OK(DecodeCheckpoint(Reseal(minor), kName));
  std::string compression = good;
  compression[8] = 7;
  EXPECT_THAT(DecodeCheckpoint(Reseal(compression), kName),
              StatusIs(StatusCode::kUnimplemented, HasSubstr("compression 7")));
}

TEST(CheckpointTest, WriteAndReadThroughMemoryStore) {
  objstore::MemoryObjectStore store;
  EXPECT_THAT(ReadCheckpoint(store, "hummock_001"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(WriteCheckpoint(store, "hummock_001", FixedCheckpoint()));
  ASSERT_OK_AND_ASSIGN(std::string raw, store.Get("hummock_001/checkpoint/0"));
  ASSERT_OK_AND_ASSIGN(HummockVersionCheckpoint back, ReadCheckpoint(store, "hummock_001"));
  EXPECT_EQ(Deterministic(back), Deterministic(FixedCheckpoint()));
  raw[raw.size() / 2] ^= 1;
  ASSERT_OK(store.Put("hummock_001/checkpoint/0", raw));
  EXPECT_THAT(ReadCheckpoint(store, "hummock_001"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("hummock_001/checkpoint/0")));
  EXPECT_EQ(CheckpointKey(""), "checkpoint/0");
  EXPECT_EQ(CheckpointKey("a/b/"), "a/b/checkpoint/0");
}

TEST(CheckpointTest, WriteAndReadThroughFsStore) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "rwmeta_checkpoint_XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  {
    ASSERT_OK_AND_ASSIGN(auto store, objstore::FsObjectStore::Open(tmpl));
    EXPECT_THAT(ReadCheckpoint(*store, "state_data"), StatusIs(StatusCode::kNotFound));
    ASSERT_OK(WriteCheckpoint(*store, "state_data", FixedCheckpoint()));
    HummockVersionCheckpoint newer = FixedCheckpoint();
    newer.add_stale_object_ids(99);
    ASSERT_OK(WriteCheckpoint(*store, "state_data", newer));  // replaces the old one
  }
  EXPECT_TRUE(std::filesystem::exists(tmpl + "/state_data/checkpoint/0"));
  {
    // A fresh store over the same directory, as after a restart.
    ASSERT_OK_AND_ASSIGN(auto store, objstore::FsObjectStore::Open(tmpl));
    ASSERT_OK_AND_ASSIGN(HummockVersionCheckpoint back, ReadCheckpoint(*store, "state_data"));
    EXPECT_THAT(back.stale_object_ids(), ElementsAre(10, 11, 99));
    EXPECT_EQ(back.version().id(), 3u);
  }
  std::filesystem::remove_all(tmpl);
}

// Deltas 1..4 from an empty version.
std::vector<HummockVersionDelta> FourDeltas() {
  std::vector<HummockVersionDelta> deltas;
  HummockVersion v;
  for (uint64_t i = 1; i <= 4; ++i) {
    HummockVersionDelta d =
        VersionDeltaBuilder(v).CommitEpoch(i * 100, 2, {Sst(i, "a", "b")}, {1}).Build();
    EXPECT_OK(ApplyDelta(&v, d));
    deltas.push_back(d);
  }
  return deltas;
}

TEST(RebuildVersionTest, AppliesOnlyDeltasAfterTheCheckpoint) {
  std::vector<HummockVersionDelta> deltas = FourDeltas();
  HummockVersion checkpoint;
  ASSERT_OK(ApplyDelta(&checkpoint, deltas[0]));
  ASSERT_OK(ApplyDelta(&checkpoint, deltas[1]));
  ASSERT_OK_AND_ASSIGN(HummockVersion v, RebuildVersion(checkpoint, deltas));
  EXPECT_EQ(v.id(), 4u);
  EXPECT_EQ(v.max_committed_epoch(), 400u);
  EXPECT_EQ(CommittedEpoch(v, 1), 400u);
  EXPECT_THAT(ObjectIds(v), ElementsAre(1, 2, 3, 4));
  ASSERT_OK_AND_ASSIGN(HummockVersion from_empty, RebuildVersion(HummockVersion(), deltas));
  EXPECT_EQ(Deterministic(from_empty), Deterministic(v));
  ASSERT_OK_AND_ASSIGN(HummockVersion none, RebuildVersion(checkpoint, {}));
  EXPECT_EQ(none.id(), 2u);
}

TEST(RebuildVersionTest, GapIsDataLossNamingTheMissingDelta) {
  std::vector<HummockVersionDelta> deltas = FourDeltas();
  HummockVersion checkpoint;
  ASSERT_OK(ApplyDelta(&checkpoint, deltas[0]));
  std::vector<HummockVersionDelta> gap = {deltas[0], deltas[2], deltas[3]};
  EXPECT_THAT(RebuildVersion(checkpoint, gap),
              StatusIs(StatusCode::kDataLoss, HasSubstr("version delta 2 is missing")));
  std::vector<HummockVersionDelta> unordered = {deltas[3], deltas[1]};
  EXPECT_THAT(RebuildVersion(checkpoint, unordered), StatusIs(StatusCode::kInvalidArgument));
}

// A meta store upgraded in place: a checkpoint and deltas from before all_tables_committed_epoch
// (every table listed in each commit), then deltas of today (no table listed).
TEST(RebuildVersionTest, DeltasListingEveryTableAndDeltasListingNoneRebuildTheSameEpochs) {
  const std::string path = GoldenPath("checkpoint_v1.golden");
  ASSERT_OK_AND_ASSIGN(HummockVersionCheckpoint old, DecodeCheckpoint(ReadGolden(path), path));
  HummockVersion v = old.version();
  std::vector<HummockVersionDelta> deltas;
  auto add = [&](const HummockVersionDelta& d) {
    ASSERT_OK(ApplyDelta(&v, d));
    deltas.push_back(d);
  };
  add(VersionDeltaBuilder(v).CommitEpoch(300, 2, {Sst(20, "a", "b")}, {1, 2}).Build());
  add(VersionDeltaBuilder(v).CommitEpoch(300, 3, {}, {3}).Build());
  add(VersionDeltaBuilder(v).CommitEpochForAllTables(400, 2, {Sst(21, "a", "b")}).Build());
  add(VersionDeltaBuilder(v).DropTables({2}).Build());
  add(VersionDeltaBuilder(v)
          .CommitEpochForAllTables(500, 2, {})
          .CommitEpoch(500, 2, {}, {9})
          .Build());
  ASSERT_OK_AND_ASSIGN(HummockVersion rebuilt, RebuildVersion(old.version(), deltas));
  EXPECT_EQ(Deterministic(rebuilt), Deterministic(v));
  EXPECT_EQ(CommittedEpoch(rebuilt, 1), 500u);
  EXPECT_EQ(CommittedEpoch(rebuilt, 2), std::nullopt);
  EXPECT_EQ(CommittedEpoch(rebuilt, 3), 500u);
  EXPECT_EQ(CommittedEpoch(rebuilt, 9), 500u);
  // Only the deltas listing tables grew with them.
  EXPECT_EQ(deltas[2].state_table_info_delta_size(), 0);
  EXPECT_EQ(deltas[4].state_table_info_delta_size(), 1);
}

}  // namespace
}  // namespace rwmeta::hummock
