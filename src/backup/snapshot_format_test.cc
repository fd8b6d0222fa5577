#include "backup/snapshot_format.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <xxhash.h>
#include <zstd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "backup/test_util.h"
#include "common/testing/status_matchers.h"
#include "metastore/factory.h"
#include "objstore/memory/memory_object_store.h"
#include "testing/subprocess.h"

namespace rwmeta::backup {
namespace {

using metastore::Row;
using ::rwmeta::testing::IsOk;
using ::rwmeta::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Collects everything a reader visits.
class Collector : public SnapshotVisitor {
 public:
  Status OnTableBegin(const SnapshotTable& table) override {
    order.push_back(table.name);
    rows[table.name];
    return Status();
  }
  Status OnRow(const SnapshotTable& table, const Row& row) override {
    rows[table.name].push_back(row);
    return Status();
  }
  std::vector<std::string> order;
  std::map<std::string, std::vector<Row>> rows;
};

SnapshotHeader FixedHeader() {
  SnapshotHeader h;
  h.cluster_id = "0b6e3c1e-5a7f-4f5e-9a41-1d2c3b4a5f60";
  h.rwmeta_version = "0.1.0";
  h.source_backend = "memory";
  h.created_at_ms = 1767225600000;
  return h;
}

// A busy memory meta store of the test model.
std::unique_ptr<metastore::MetaStore> BusyStore(const std::string& url) {
  auto store = metastore::OpenMetaStore(url, testing::TestModel());
  EXPECT_THAT(store.status(), IsOk());
  EXPECT_OK((*store)->Migrate());
  const auto& model = testing::TestModel();
  EXPECT_OK(metastore::RunTransaction(**store, [&](metastore::Transaction& txn) -> Status {
    for (const Row& row : testing::InterestingRows()) {
      RWMETA_RETURN_IF_ERROR(txn.Insert(model.Table("kinds"), row));
    }
    for (int64_t i = 100; i < 400; ++i) {
      RWMETA_RETURN_IF_ERROR(
          txn.Insert(model.Table("kinds"),
                     Row{i, static_cast<double>(i) / 3, i % 2 == 0, "row " + std::to_string(i),
                         std::string(i % 7, '\0'), std::monostate{}}));
    }
    return txn.Insert(model.Table("runtime"), Row{int64_t{1}});
  }));
  return std::move(store).value();
}

std::vector<Row> ScanAll(metastore::MetaStore& store, const metastore::TableSchema& table) {
  std::vector<Row> rows;
  auto view = store.BeginSnapshotRead();
  EXPECT_THAT(view.status(), IsOk());
  EXPECT_OK((*view)->Scan(table, [&](const Row& r) {
    rows.push_back(r);
    return Status();
  }));
  return rows;
}

// Writes the busy store's snapshot with small chunks and returns the object's bytes.
std::string BusySnapshotBytes(uint32_t chunk_bytes = kMinChunkBytes) {
  auto store = BusyStore("memory");
  objstore::MemoryObjectStore objects;
  SnapshotWriterOptions options;
  options.chunk_bytes = chunk_bytes;
  auto written =
      WriteSnapshot(*store, testing::MakeVersion(9, {11, 12, 13}, 5 << 16), 3, FixedHeader(),
                    objects, "b/3.snapshot", options, testing::TestModel());
  EXPECT_THAT(written.status(), IsOk());
  return objects.Get("b/3.snapshot").value();
}

Result<SnapshotContents> ReadBytes(const std::string& bytes, SnapshotVisitor* visitor = nullptr) {
  objstore::MemoryObjectStore objects;
  RWMETA_RETURN_IF_ERROR(objects.Put("b/3.snapshot", bytes));
  return ReadSnapshot(objects, "b/3.snapshot", visitor);
}

uint64_t Le(const std::string& s, size_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= uint64_t{static_cast<unsigned char>(s[at + i])} << (8 * i);
  return v;
}

// Object offsets where each chunk frame starts, and where the trailer starts (last element).
std::vector<size_t> FrameOffsets(const std::string& bytes) {
  std::vector<size_t> out;
  size_t at = 32;
  while (bytes.compare(at, 4, "RWCK") == 0) {
    out.push_back(at);
    at += 24 + Le(bytes, at + 8, 4);
  }
  out.push_back(at);
  return out;
}

TEST(SnapshotFormatTest, BusyStoreRoundTripsEveryRowByteEqual) {
  for (const char* url : {"memory", "sqlite"}) {
    SCOPED_TRACE(url);
    rwmeta::testing::TempDir dir;
    auto store = BusyStore(std::string(url) == "memory" ? std::string(url)
                                                        : "sqlite://" + dir.path() + "/meta.db");
    objstore::MemoryObjectStore objects;
    const auto version = testing::MakeVersion(9, {11, 12, 13}, 5 << 16);
    SnapshotWriterOptions options;
    options.chunk_bytes = kMinChunkBytes;
    auto written = WriteSnapshot(*store, version, 3, FixedHeader(), objects, "b/3.snapshot",
                                 options, testing::TestModel());
    ASSERT_THAT(written.status(), IsOk());
    EXPECT_EQ(written->row_count, 305u);
    EXPECT_GT(written->chunk_count, 1u);
    EXPECT_EQ(written->size_bytes, objects.Head("b/3.snapshot")->size_bytes);
    // The header as written, its filled fields included.
    EXPECT_EQ(written->header.hummock_version_id, 9u);
    EXPECT_EQ(written->header.table_row_counts,
              (std::map<std::string, uint64_t>{{"kinds", 305}, {"empty", 0}}));
    EXPECT_EQ(written->header.object_ids, (std::vector<uint64_t>{11, 12, 13}));

    Collector collector;
    auto contents = ReadSnapshot(objects, "b/3.snapshot", &collector);
    ASSERT_THAT(contents.status(), IsOk());
    EXPECT_EQ(contents->snapshot_id, 3u);
    EXPECT_EQ(contents->checksum, written->checksum);
    EXPECT_EQ(contents->header.cluster_id, FixedHeader().cluster_id);
    EXPECT_EQ(contents->header.source_backend, "memory");  // set by the caller, kept
    EXPECT_EQ(contents->header.hummock_version_id, 9u);
    EXPECT_EQ(contents->header.max_committed_epoch, 5u << 16);
    EXPECT_EQ(contents->header.safe_epoch, 5u << 15);
    EXPECT_EQ(contents->header.model_version, 1);
    EXPECT_EQ(contents->header.table_committed_epochs,
              (std::map<uint32_t, uint64_t>{{1001, 5 << 16}, {1002, 5 << 16}}));
    EXPECT_EQ(contents->header.table_row_counts,
              (std::map<std::string, uint64_t>{{"kinds", 305}, {"empty", 0}}));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(contents->version, version));
    // Every in_snapshot table, in model order; "runtime" is not in snapshots.
    EXPECT_THAT(collector.order, ElementsAre("kinds", "empty"));
    const auto& model = testing::TestModel();
    EXPECT_EQ(collector.rows["kinds"], ScanAll(*store, model.Table("kinds")));
    EXPECT_TRUE(collector.rows["empty"].empty());
    for (const SnapshotTable& t : contents->tables) {
      EXPECT_OK(CheckTableAgainstModel(t, model));
    }
  }
}

TEST(SnapshotFormatTest, RealModelSnapshotHasEveryInSnapshotTableInModelOrder) {
  rwmeta::testing::TempDir dir;
  auto store = metastore::OpenMetaStore("sqlite://" + dir.path() + "/meta.db");
  ASSERT_THAT(store.status(), IsOk());
  ASSERT_OK((*store)->Migrate());
  objstore::MemoryObjectStore objects;
  ASSERT_THAT(WriteSnapshot(**store, testing::MakeVersion(1, {}, 0), 1, FixedHeader(), objects,
                            "1.snapshot")
                  .status(),
              IsOk());
  Collector collector;
  auto contents = ReadSnapshot(objects, "1.snapshot", &collector);
  ASSERT_THAT(contents.status(), IsOk());
  EXPECT_EQ(contents->header.source_backend, "memory");
  std::vector<std::string> expected;
  for (const auto& t : metastore::Model::Get().tables()) {
    if (t.in_snapshot) expected.push_back(t.name);
  }
  EXPECT_EQ(collector.order, expected);
  for (const SnapshotTable& t : contents->tables) {
    EXPECT_OK(CheckTableAgainstModel(t, metastore::Model::Get()));
    EXPECT_EQ(t.columns.size(), metastore::Model::Get().Table(t.name).columns.size());
  }
}

TEST(SnapshotFormatTest, ModelMismatchIsFailedPrecondition) {
  SnapshotTable t{"kinds", {{"id", metastore::ColumnType::kText, false}}};
  EXPECT_THAT(CheckTableAgainstModel(t, testing::TestModel()),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("kinds column 0 is id text")));
  SnapshotTable unknown{"gone", {}};
  EXPECT_THAT(CheckTableAgainstModel(unknown, testing::TestModel()),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("gone")));
  // A snapshot of an older model (fewer columns) fits.
  SnapshotTable older{"kinds", {{"id", metastore::ColumnType::kInt64, false}}};
  EXPECT_OK(CheckTableAgainstModel(older, testing::TestModel()));
}

TEST(SnapshotFormatTest, TruncationAtEveryChunkBoundaryAndMidChunkIsDataLossNamingTheChunk) {
  const std::string bytes = BusySnapshotBytes();
  const std::vector<size_t> frames = FrameOffsets(bytes);
  ASSERT_GE(frames.size(), 4u);
  ASSERT_EQ(frames.back() + 32, bytes.size());
  for (size_t k = 0; k + 1 < frames.size(); ++k) {
    SCOPED_TRACE(k);
    const std::string chunk = "chunk " + std::to_string(k) + " at offset ";
    EXPECT_THAT(ReadBytes(bytes.substr(0, frames[k])).status(),
                StatusIs(StatusCode::kDataLoss, HasSubstr(chunk + std::to_string(frames[k]))));
    EXPECT_THAT(ReadBytes(bytes.substr(0, frames[k] + 10)).status(),
                StatusIs(StatusCode::kDataLoss, HasSubstr("truncated: " + chunk)));
    EXPECT_THAT(ReadBytes(bytes.substr(0, (frames[k] + frames[k + 1]) / 2)).status(),
                StatusIs(StatusCode::kDataLoss, HasSubstr("truncated: " + chunk)));
  }
  EXPECT_THAT(ReadBytes(bytes.substr(0, frames.back())).status(),
              StatusIs(StatusCode::kDataLoss, HasSubstr("truncated")));
  EXPECT_THAT(ReadBytes(bytes.substr(0, bytes.size() - 4)).status(),
              StatusIs(StatusCode::kDataLoss, HasSubstr("trailer")));
  EXPECT_THAT(ReadBytes(bytes.substr(0, 20)).status(),
              StatusIs(StatusCode::kDataLoss, HasSubstr("preamble")));
  EXPECT_THAT(ReadBytes(bytes + "x").status(),
              StatusIs(StatusCode::kDataLoss, HasSubstr("trailing bytes")));
  // A whole chunk cut out: the next one is in the wrong position.
  const std::string missing = bytes.substr(0, frames[1]) + bytes.substr(frames[2]);
  EXPECT_THAT(
      ReadBytes(missing).status(),
      StatusIs(StatusCode::kDataLoss, HasSubstr("chunk 1 at offset " + std::to_string(frames[1]) +
                                                ": checksum mismatch")));
}

// A writer's read-back (SnapshotReadOptions::decode_version false) leaves the version undecoded
// but still checks every byte of it.
TEST(SnapshotFormatTest, ReadingWithoutDecodingTheVersionStillChecksEveryByte) {
  const std::string bytes = BusySnapshotBytes();
  auto read = [](const std::string& b) -> Result<SnapshotContents> {
    objstore::MemoryObjectStore objects;
    RWMETA_RETURN_IF_ERROR(objects.Put("b/3.snapshot", b));
    RWMETA_ASSIGN_OR_RETURN(auto in, objects.OpenReader("b/3.snapshot"));
    RWMETA_ASSIGN_OR_RETURN(auto reader, SnapshotReader::Open(std::move(in), "b/3.snapshot"));
    return reader->ReadAll(nullptr, {.decode_version = false});
  };
  ASSERT_OK_AND_ASSIGN(SnapshotContents contents, read(bytes));
  EXPECT_EQ(contents.header.hummock_version_id, 9u);
  EXPECT_EQ(contents.version.id(), 0u);  // not decoded
  EXPECT_EQ(contents.version.groups_size(), 0);
  EXPECT_EQ(contents.checksum, ReadBytes(bytes)->checksum);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= static_cast<char>(1 << (i % 8));
    ASSERT_THAT(read(bad).status(), StatusIs(StatusCode::kDataLoss)) << "offset " << i;
  }
}

TEST(SnapshotFormatTest, EveryBitFlipIsDataLoss) {
  const std::string bytes = BusySnapshotBytes();
  const std::vector<size_t> frames = FrameOffsets(bytes);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= static_cast<char>(1 << (i % 8));
    ASSERT_THAT(ReadBytes(bad).status(), StatusIs(StatusCode::kDataLoss)) << "offset " << i;
  }
  auto flip = [&](size_t at) {
    std::string bad = bytes;
    bad[at] ^= 0x10;
    return ReadBytes(bad).status();
  };
  EXPECT_THAT(flip(0), StatusIs(StatusCode::kDataLoss, HasSubstr("bad magic")));
  EXPECT_THAT(flip(17), StatusIs(StatusCode::kDataLoss, HasSubstr("preamble checksum mismatch")));
  EXPECT_THAT(
      flip(frames[2] + 30),
      StatusIs(StatusCode::kDataLoss, HasSubstr("chunk 2 at offset " + std::to_string(frames[2]) +
                                                ": checksum mismatch")));
  EXPECT_THAT(flip(frames[1] + 16), StatusIs(StatusCode::kDataLoss, HasSubstr("chunk 1 at")));
  EXPECT_THAT(flip(frames.back() + 10),
              StatusIs(StatusCode::kDataLoss, HasSubstr("whole-object checksum mismatch")));
  EXPECT_THAT(flip(bytes.size() - 1),
              StatusIs(StatusCode::kDataLoss, HasSubstr("whole-object checksum mismatch")));
}

TEST(SnapshotFormatTest, UnknownMajorVersionIsUnimplementedAndNewerMinorIsRead) {
  const std::string bytes = BusySnapshotBytes();
  auto with_version = [&](uint16_t major, uint16_t minor) {
    std::string out = bytes;
    out[8] = static_cast<char>(major & 0xff);
    out[9] = static_cast<char>(major >> 8);
    out[10] = static_cast<char>(minor & 0xff);
    out[11] = static_cast<char>(minor >> 8);
    const uint64_t sum = XXH64(out.data(), 24, 0);
    for (int i = 0; i < 8; ++i) out[24 + i] = static_cast<char>((sum >> (8 * i)) & 0xff);
    return out;
  };
  EXPECT_THAT(ReadBytes(with_version(2, 0)).status(),
              StatusIs(StatusCode::kUnimplemented,
                       HasSubstr("unknown snapshot format major version 2 (this build reads 1)")));
  // The whole-object checksum covers the preamble, so only the preamble test applies to the newer
  // minor: Open succeeds and reports it.
  objstore::MemoryObjectStore objects;
  ASSERT_OK(objects.Put("s", with_version(1, 7)));
  auto in = objects.OpenReader("s");
  ASSERT_THAT(in.status(), IsOk());
  auto reader = SnapshotReader::Open(std::move(in).value(), "s");
  ASSERT_THAT(reader.status(), IsOk());
  EXPECT_EQ((*reader)->minor_version(), 7);
  EXPECT_EQ((*reader)->snapshot_id(), 3u);
}

// Writes a small snapshot with a raw record of `type` inside the table and after it.
std::string WithRawRecords(uint8_t type) {
  const auto& model = testing::TestModel();
  objstore::MemoryObjectStore objects;
  auto writer = SnapshotWriter::Create(objects.OpenWriter("s").value(), 8);
  SnapshotHeader h = FixedHeader();
  h.table_row_counts = {{"kinds", 1}};
  EXPECT_OK((*writer)->WriteHeader(h));
  EXPECT_OK((*writer)->BeginTable(model.Table("kinds")));
  EXPECT_OK((*writer)->WriteRawRecordForTesting(type, "from the future"));
  EXPECT_OK((*writer)->AddRow(testing::InterestingRows()[3]));
  EXPECT_OK((*writer)->EndTable());
  EXPECT_OK((*writer)->WriteRawRecordForTesting(type, std::string(10000, 'f')));
  EXPECT_OK((*writer)->WriteHummockVersion(testing::MakeVersion(1, {}, 1)));
  EXPECT_THAT((*writer)->Finish().status(), IsOk());
  return objects.Get("s").value();
}

TEST(SnapshotFormatTest, IgnorableRecordsAreSkippedAndUnknownOnesAreDataLoss) {
  Collector collector;
  auto contents = ReadBytes(WithRawRecords(0x80 | 3), &collector);
  ASSERT_THAT(contents.status(), IsOk());
  EXPECT_EQ(collector.rows["kinds"], std::vector<Row>{testing::InterestingRows()[3]});
  EXPECT_THAT(ReadBytes(WithRawRecords(9)).status(),
              // Chunk 1: the header ends chunk 0.
              StatusIs(StatusCode::kDataLoss, HasSubstr("chunk 1: malformed stream: unknown record "
                                                        "type 9")));
}

TEST(SnapshotFormatTest, MemoryStaysBoundedByTheChunkSizeFor200kRows) {
  constexpr uint32_t kChunk = 64 * 1024;
  constexpr int64_t kRows = 200'000;
  const auto& model = testing::TestModel();
  objstore::MemoryObjectStore objects;
  SnapshotWriterOptions options;
  options.chunk_bytes = kChunk;
  auto out = objects.OpenWriter("big.snapshot");
  ASSERT_THAT(out.status(), IsOk());
  auto writer = SnapshotWriter::Create(std::move(out).value(), 42, options);
  ASSERT_THAT(writer.status(), IsOk());
  SnapshotHeader header = FixedHeader();
  header.table_row_counts = {{"kinds", kRows}, {"empty", 0}};
  ASSERT_OK((*writer)->WriteHeader(header));
  ASSERT_OK((*writer)->BeginTable(model.Table("kinds")));
  for (int64_t i = 0; i < kRows; ++i) {
    ASSERT_OK((*writer)->AddRow(Row{i, i * 0.5, true, "name-" + std::to_string(i * 7919),
                                    std::string(8, static_cast<char>(i)), std::monostate{}}));
  }
  ASSERT_OK((*writer)->EndTable());
  ASSERT_OK((*writer)->BeginTable(model.Table("empty")));
  ASSERT_OK((*writer)->EndTable());
  ASSERT_OK((*writer)->WriteHummockVersion(testing::MakeVersion(1, {1, 2}, 1)));
  auto written = (*writer)->Finish();
  ASSERT_THAT(written.status(), IsOk());
  const uint64_t bound = kChunk + ZSTD_compressBound(kChunk) + 1024;
  EXPECT_LE((*writer)->peak_buffer_bytes(), bound);
  EXPECT_GT(written->chunk_count, 20u);

  class Counter : public SnapshotVisitor {
   public:
    Status OnRow(const SnapshotTable&, const Row& row) override {
      if (std::get<int64_t>(row[0]) != count) return InternalError("out of order");
      ++count;
      return Status();
    }
    int64_t count = 0;
  } counter;
  auto in = objects.OpenReader("big.snapshot");
  ASSERT_THAT(in.status(), IsOk());
  auto reader = SnapshotReader::Open(std::move(in).value(), "big.snapshot");
  ASSERT_THAT(reader.status(), IsOk());
  auto contents = (*reader)->ReadAll(&counter);
  ASSERT_THAT(contents.status(), IsOk());
  EXPECT_EQ(counter.count, kRows);
  EXPECT_LE((*reader)->peak_buffer_bytes(), bound);
}

TEST(SnapshotFormatTest, WriterRefusesMisuseAndPublishesNothingOnError) {
  const auto& model = testing::TestModel();
  objstore::MemoryObjectStore objects;
  SnapshotWriterOptions tiny;
  tiny.chunk_bytes = 100;
  EXPECT_THAT(SnapshotWriter::Create(objects.OpenWriter("x").value(), 1, tiny).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("chunk size 100")));
  {
    auto writer = SnapshotWriter::Create(objects.OpenWriter("x").value(), 1);
    ASSERT_THAT(writer.status(), IsOk());
    EXPECT_THAT((*writer)->BeginTable(model.Table("kinds")),
                StatusIs(StatusCode::kFailedPrecondition, HasSubstr("out of order")));
  }
  {
    auto writer = SnapshotWriter::Create(objects.OpenWriter("x").value(), 1);
    SnapshotHeader h = FixedHeader();
    h.table_row_counts = {{"kinds", 2}};
    ASSERT_OK((*writer)->WriteHeader(h));
    ASSERT_OK((*writer)->BeginTable(model.Table("kinds")));
    EXPECT_THAT((*writer)->AddRow(Row{std::string("not an int")}),
                StatusIs(StatusCode::kInvalidArgument));
  }
  {
    auto writer = SnapshotWriter::Create(objects.OpenWriter("x").value(), 1);
    SnapshotHeader h = FixedHeader();
    h.table_row_counts = {{"kinds", 2}};
    ASSERT_OK((*writer)->WriteHeader(h));
    ASSERT_OK((*writer)->BeginTable(model.Table("kinds")));
    ASSERT_OK((*writer)->AddRow(testing::InterestingRows()[0]));
    EXPECT_THAT((*writer)->EndTable(),
                StatusIs(StatusCode::kInternal, HasSubstr("has 1 rows, the header says 2")));
  }
  EXPECT_THAT(objects.Head("x").status(), StatusIs(StatusCode::kNotFound));
}

// What the golden files hold: the same snapshot, written as 1.0 once and as 1.1 by this build.
std::string EncodeGoldenSnapshot() {
  const auto& model = testing::TestModel();
  objstore::MemoryObjectStore objects;
  SnapshotWriterOptions options;
  options.chunk_bytes = kMinChunkBytes;
  auto writer = SnapshotWriter::Create(objects.OpenWriter("g").value(), 5, options);
  SnapshotHeader h = FixedHeader();
  h.model_version = 1;
  h.hummock_version_id = 4;
  h.max_committed_epoch = 1 << 20;
  h.safe_epoch = 1 << 19;
  h.table_committed_epochs = {{1001, 1 << 20}, {1002, 1 << 20}};
  h.table_row_counts = {{"kinds", 5}, {"empty", 0}};
  h.table_compaction_group_ids = {{1001, 2}, {1002, 2}};
  h.object_ids = {21, 22, 23};
  EXPECT_OK((*writer)->WriteHeader(h));
  EXPECT_OK((*writer)->BeginTable(model.Table("kinds")));
  for (const Row& r : testing::InterestingRows()) EXPECT_OK((*writer)->AddRow(r));
  EXPECT_OK((*writer)->EndTable());
  EXPECT_OK((*writer)->BeginTable(model.Table("empty")));
  EXPECT_OK((*writer)->EndTable());
  EXPECT_OK((*writer)->WriteHummockVersion(testing::MakeVersion(4, {21, 22, 23}, 1 << 20)));
  EXPECT_THAT((*writer)->Finish().status(), IsOk());
  return objects.Get("g").value();
}

std::string ReadGoldenFile(const std::string& name) {
  const std::string path = std::string(RWMETA_BACKUP_SOURCE_DIR) + "/testdata/" + name;
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << path;
  std::stringstream golden;
  golden << file.rdbuf();
  return golden.str();
}

// Checks what both golden files hold.
void ExpectGoldenContents(const std::string& golden, uint16_t minor) {
  Collector collector;
  auto contents = ReadBytes(golden, &collector);
  ASSERT_THAT(contents.status(), IsOk());
  EXPECT_EQ(contents->snapshot_id, 5u);
  EXPECT_EQ(contents->major_version, 1);
  EXPECT_EQ(contents->minor_version, minor);
  EXPECT_EQ(contents->header.cluster_id, FixedHeader().cluster_id);
  EXPECT_EQ(contents->header.created_at_ms, 1767225600000);
  EXPECT_EQ(collector.rows["kinds"], testing::InterestingRows());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      contents->version, testing::MakeVersion(4, {21, 22, 23}, 1 << 20)));
}

// The golden file of format 1.0 (written before 1.1, never regenerated) still reads, and its
// header has no details: a 1.0 snapshot's details are in its manifest entry.
TEST(SnapshotFormatTest, GoldenV1_0StillDecodes) {
  const std::string golden = ReadGoldenFile("snapshot_v1.bin");
  ExpectGoldenContents(golden, 0);
  auto contents = ReadBytes(golden);
  ASSERT_THAT(contents.status(), IsOk());
  EXPECT_TRUE(contents->header.object_ids.empty());
  EXPECT_TRUE(contents->header.table_compaction_group_ids.empty());
  objstore::MemoryObjectStore objects;
  ASSERT_OK(objects.Put("g", golden));
  auto header = ReadSnapshotHeader(objects, "g");
  ASSERT_THAT(header.status(), IsOk());
  EXPECT_FALSE(header->has_details());
  EXPECT_EQ(header->header.table_committed_epochs.size(), 2u);
}

// The golden file pins format 1.1: decoding it gives the known contents and details, and encoding
// those contents again gives the same bytes. Regenerate only for a new format version,
// deliberately: RWMETA_UPDATE_GOLDEN=1.
TEST(SnapshotFormatTest, GoldenV1_1DecodesAndReencodesByteEqual) {
  const std::string path = std::string(RWMETA_BACKUP_SOURCE_DIR) + "/testdata/snapshot_v1_1.bin";
  const std::string fresh = EncodeGoldenSnapshot();
  const char* update = std::getenv("RWMETA_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << fresh;
  }
  const std::string golden = ReadGoldenFile("snapshot_v1_1.bin");
  ExpectGoldenContents(golden, 1);
  auto contents = ReadBytes(golden);
  ASSERT_THAT(contents.status(), IsOk());
  EXPECT_EQ(contents->header.object_ids, (std::vector<uint64_t>{21, 22, 23}));
  EXPECT_EQ(DetailsFromHeader(contents->header),
            (SnapshotDetails{{21, 22, 23}, {{1001, {1 << 20, 2}}, {1002, {1 << 20, 2}}}}));
  EXPECT_TRUE(fresh == golden) << "encoder output differs from " << path;
}

// A busy 1.1 snapshot: the header alone costs one ranged read of far less than the object, and
// gives the details WriteSnapshot computed from the version.
TEST(SnapshotFormatTest, ReadSnapshotHeaderReadsOnlyTheHeaderChunks) {
  auto store = BusyStore("memory");
  // Rows that compress badly, so that the object is large.
  ASSERT_OK(metastore::RunTransaction(*store, [&](metastore::Transaction& txn) -> Status {
    for (int64_t i = 1000; i < 21000; ++i) {
      std::string text;
      for (uint64_t x = static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ull; text.size() < 64;
           x = x * 6364136223846793005ull + 1442695040888963407ull) {
        text += std::to_string(x >> 20);
      }
      RWMETA_RETURN_IF_ERROR(txn.Insert(testing::TestModel().Table("kinds"),
                                        Row{i, 0.5, true, text, std::string(), std::monostate{}}));
    }
    return Status();
  }));
  objstore::MemoryObjectStore objects;
  const auto version = testing::MakeVersion(9, {11, 12, 13}, 5 << 16);
  ASSERT_THAT(WriteSnapshot(*store, version, 3, FixedHeader(), objects, "b/3.snapshot", {},
                            testing::TestModel())
                  .status(),
              IsOk());
  const uint64_t size = objects.Head("b/3.snapshot")->size_bytes;
  auto read = ReadSnapshotHeader(objects, "b/3.snapshot");
  ASSERT_THAT(read.status(), IsOk());
  EXPECT_EQ(read->snapshot_id, 3u);
  EXPECT_EQ(read->minor_version, kSnapshotMinorVersion);
  EXPECT_TRUE(read->has_details());
  EXPECT_EQ(read->header.object_ids, (std::vector<uint64_t>{11, 12, 13}));
  EXPECT_EQ(read->header.table_row_counts.at("kinds"), 20305u);
  SnapshotDetails details = DetailsFromHeader(read->header);
  EXPECT_EQ(details.state_table_info.at(1001).committed_epoch, 5u << 16);
  EXPECT_EQ(details.state_table_info.at(1001).compaction_group_id, 2u);
  // Busy enough that the object is many times the read-ahead; the read is one read-ahead.
  ASSERT_GT(size, 4 * kHeaderReadAheadBytes) << "make the busy store busier";
  EXPECT_EQ(read->bytes_read, kHeaderReadAheadBytes);

  // The header ends its chunk: chunk 0 holds the header record alone.
  const std::string bytes = objects.Get("b/3.snapshot").value();
  const std::vector<size_t> frames = FrameOffsets(bytes);
  ASSERT_GE(frames.size(), 3u);
  EXPECT_LT(Le(bytes, frames[0] + 4, 4), 1024u);  // raw size of chunk 0
  EXPECT_THAT(ReadSnapshotHeader(objects, "b/missing.snapshot").status(),
              StatusIs(StatusCode::kNotFound));
}

// With small chunks a large header spans several; a bit flipped in any of them is DataLoss
// naming the chunk, and bytes after the header are never looked at.
TEST(SnapshotFormatTest, ReadSnapshotHeaderChecksEveryHeaderChunk) {
  const auto& model = testing::TestModel();
  objstore::MemoryObjectStore objects;
  SnapshotWriterOptions options;
  options.chunk_bytes = kMinChunkBytes;
  auto writer = SnapshotWriter::Create(objects.OpenWriter("s").value(), 8, options);
  SnapshotHeader h = FixedHeader();
  h.table_row_counts = {{"kinds", 0}};
  for (uint32_t t = 0; t < 5000; ++t) {
    h.table_committed_epochs[1000 + t] = (uint64_t{1} << 40) + t;
    h.table_compaction_group_ids[1000 + t] = 2 + t % 3;
  }
  for (uint64_t id = 1; id <= 20000; ++id) h.object_ids.push_back(id * 3);
  ASSERT_OK((*writer)->WriteHeader(h));
  ASSERT_OK((*writer)->BeginTable(model.Table("kinds")));
  ASSERT_OK((*writer)->EndTable());
  ASSERT_OK((*writer)->WriteHummockVersion(testing::MakeVersion(1, {}, 1)));
  ASSERT_THAT((*writer)->Finish().status(), IsOk());
  const std::string bytes = objects.Get("s").value();
  auto read = ReadSnapshotHeader(objects, "s");
  ASSERT_THAT(read.status(), IsOk());
  EXPECT_EQ(read->header.object_ids, h.object_ids);
  EXPECT_EQ(read->header.table_compaction_group_ids, h.table_compaction_group_ids);
  EXPECT_EQ(read->header.table_committed_epochs, h.table_committed_epochs);

  const std::vector<size_t> frames = FrameOffsets(bytes);
  ASSERT_GE(frames.size(), 4u);  // several header chunks, the rest, the trailer
  auto flipped = [&](size_t at) {
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
    EXPECT_OK(objects.Put("d", damaged));
    return ReadSnapshotHeader(objects, "d").status();
  };
  EXPECT_THAT(
      flipped(frames[0] + 30),
      StatusIs(StatusCode::kDataLoss, HasSubstr("chunk 0 at offset 32: checksum mismatch")));
  EXPECT_THAT(flipped(frames[1] + 30),
              StatusIs(StatusCode::kDataLoss, HasSubstr("chunk 1 at offset")));
  EXPECT_THAT(flipped(5), StatusIs(StatusCode::kDataLoss, HasSubstr("bad magic")));
  // The trailer is not read: damage there is for ReadAll to find.
  EXPECT_THAT(flipped(bytes.size() - 3), IsOk());
}

}  // namespace
}  // namespace rwmeta::backup
