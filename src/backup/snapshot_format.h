// The meta snapshot object: one consistent cut of every model table with `in_snapshot`, plus the
// Hummock version it goes with. The byte layout is documented in docs/format/snapshot.md; golden
// bytes for each format version are in src/backup/testdata/.
//
// Layout in one line: a checksummed preamble (magic, major/minor, snapshot id), then zstd chunks of
// a bounded size, each with its own checksum, then a trailer with the chunk count and a checksum of
// the whole object. The decompressed chunks form one stream of records: the header, then per table
// its column list, its rows and its row count, then the Hummock version, then an end record.
// From format 1.1 the header carries the snapshot's details (snapshot_details.h) and ends its
// chunk, so that ReadSnapshotHeader reads them with one small ranged read.
//
// Memory is bounded by the chunk size (plus one row or the Hummock version) whatever the snapshot's
// size: writer and reader both stream.
//
// Errors a reader returns: DataLoss for anything that is not what a writer of this format wrote
// (bad magic, a checksum mismatch, truncation, trailing bytes, a malformed record), with the object
// name and the chunk index and object offset where it was found; Unimplemented for an intact
// object of an unknown major version. A newer minor version is read: records it added are marked
// ignorable and skipped, fields appended to a record are ignored.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backup/snapshot_details.h"
#include "common/status.h"
#include "metastore/meta_store.h"
#include "metastore/model.h"
#include "objstore/object_store.h"
#include "proto/hummock.pb.h"

namespace rwmeta::backup {

using hummock::HummockVersion;

// Reach disk: never change. The magic is 8 bytes, "RWMSNAP" and a NUL.
inline constexpr char kSnapshotMagic[8] = {'R', 'W', 'M', 'S', 'N', 'A', 'P', '\0'};
inline constexpr uint16_t kSnapshotMajorVersion = 1;
// 1.1: the header gains each state table's compaction group and the version's object ids, and
// the header ends its chunk.
inline constexpr uint16_t kSnapshotMinorVersion = 1;
// The first minor version whose header carries the details.
inline constexpr uint16_t kSnapshotDetailsMinorVersion = 1;
// The manifest's `format_version` of snapshots written by this build.
inline constexpr uint32_t kSnapshotFormatVersion = kSnapshotMajorVersion;

// Bounds on a chunk's uncompressed size. A reader refuses a chunk declaring more than the maximum.
inline constexpr uint32_t kMinChunkBytes = 4 * 1024;
inline constexpr uint32_t kDefaultChunkBytes = 1024 * 1024;
inline constexpr uint32_t kMaxChunkBytes = 16 * 1024 * 1024;
// A single record (a row, the Hummock version) longer than this is refused as corrupt.
inline constexpr uint64_t kMaxRecordBytes = 1ull << 30;

// What the header of a snapshot says. Fields marked (filled) are computed by WriteSnapshot from the
// read view and the version; the caller sets the others.
struct SnapshotHeader {
  std::string cluster_id;
  // The rwmeta version that wrote the snapshot ("0.1.0").
  std::string rwmeta_version;
  // The meta store backend the rows were read from ("sqlite", "postgres", ...).
  std::string source_backend;
  // metastore::Model version of the writer. (filled)
  int64_t model_version = 0;
  uint64_t hummock_version_id = 0;                      // (filled)
  uint64_t max_committed_epoch = 0;                     // (filled)
  uint64_t safe_epoch = 0;                              // (filled)
  std::map<uint32_t, uint64_t> table_committed_epochs;  // state table id -> epoch (filled)
  std::map<std::string, uint64_t> table_row_counts;     // meta table name -> rows (filled)
  int64_t created_at_ms = 0;
  // From format 1.1 (empty when read from a 1.0 object): state table id -> compaction group
  // (the same tables as table_committed_epochs), and every object id the version references,
  // ascending and distinct (hummock::ObjectIds). (filled)
  std::map<uint32_t, uint64_t> table_compaction_group_ids;
  std::vector<uint64_t> object_ids;

  friend bool operator==(const SnapshotHeader&, const SnapshotHeader&) = default;
};

// A column as the snapshot recorded it.
struct SnapshotColumn {
  std::string name;
  metastore::ColumnType type = metastore::ColumnType::kInt64;
  bool nullable = false;
  friend bool operator==(const SnapshotColumn&, const SnapshotColumn&) = default;
};

// A table as the snapshot recorded it: the writer's view of the model.
struct SnapshotTable {
  std::string name;
  std::vector<SnapshotColumn> columns;
};

// FailedPrecondition naming the table and column unless `table` can be restored into `model`: the
// table exists there, and its recorded columns are the model's first columns with the same names
// and types (a snapshot of an older model has fewer columns; the newer ones are nullable or have
// defaults by the model's rules).
Status CheckTableAgainstModel(const SnapshotTable& table, const metastore::Model& model);

struct SnapshotWriterOptions {
  // Uncompressed bytes per chunk, in [kMinChunkBytes, kMaxChunkBytes].
  uint32_t chunk_bytes = kDefaultChunkBytes;
  int zstd_level = 3;
};

// What a finished writer produced (the manifest entry's size and checksum come from here).
struct WrittenSnapshot {
  uint64_t snapshot_id = 0;
  uint64_t size_bytes = 0;  // the whole object
  uint64_t checksum = 0;    // XXH64 of the object, as stored in its trailer
  uint64_t chunk_count = 0;
  uint64_t row_count = 0;  // all tables
  // The header as written, its filled fields included (set by WriteSnapshot, not by the writer).
  SnapshotHeader header;
};

// Streams a snapshot into an ObjectWriter. Call in this order: WriteHeader; for each table
// BeginTable, AddRow..., EndTable; WriteHummockVersion; Finish. Any other order is
// FailedPrecondition. A table's row count must equal the header's table_row_counts entry (Internal
// otherwise: the rows do not come from the cut the header describes). After an error the writer
// is dead: destroying it aborts the upload, leaving nothing visible. Not thread-safe.
class SnapshotWriter {
 public:
  // InvalidArgument if options.chunk_bytes is out of range.
  static Result<std::unique_ptr<SnapshotWriter>> Create(std::unique_ptr<objstore::ObjectWriter> out,
                                                        uint64_t snapshot_id,
                                                        const SnapshotWriterOptions& options = {});
  ~SnapshotWriter();

  Status WriteHeader(const SnapshotHeader& header);
  // Records the table's name and columns. REQUIRES: the table is in the header's row counts.
  Status BeginTable(const metastore::TableSchema& table);
  // InvalidArgument if the row does not match the table (metastore::ValidateRow).
  Status AddRow(const metastore::Row& row);
  Status EndTable();
  Status WriteHummockVersion(const HummockVersion& version);
  // Writes the end record and the trailer and publishes the object (ObjectWriter::Finish).
  Result<WrittenSnapshot> Finish();

  // Appends a record of any type as is, after the header: for tests of how readers treat records
  // a later minor version adds (types >= 128, skipped) or unknown types (< 128, DataLoss).
  Status WriteRawRecordForTesting(uint8_t type, std::string_view payload);

  // Largest number of bytes the writer's buffers held at once (uncompressed chunk, compressed
  // chunk, the record being encoded): what "memory is bounded" means, for tests.
  uint64_t peak_buffer_bytes() const { return peak_buffer_bytes_; }

 private:
  class Impl;
  explicit SnapshotWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  uint64_t peak_buffer_bytes_ = 0;
};

// Receives a snapshot's contents as a reader decodes them. Any non-OK status stops the read and
// is returned by SnapshotReader::ReadAll unchanged. The default methods accept everything.
class SnapshotVisitor {
 public:
  virtual ~SnapshotVisitor() = default;
  virtual Status OnHeader(const SnapshotHeader& /*header*/) { return Status(); }
  virtual Status OnTableBegin(const SnapshotTable& /*table*/) { return Status(); }
  virtual Status OnRow(const SnapshotTable& /*table*/, const metastore::Row& /*row*/) {
    return Status();
  }
  virtual Status OnTableEnd(const SnapshotTable& /*table*/, uint64_t /*row_count*/) {
    return Status();
  }
};

// Fills the header's fields that describe `version` (hummock_version_id, the epochs, each state
// table's committed epoch and compaction group, the object ids): what WriteSnapshot writes.
void DescribeVersion(const HummockVersion& version, SnapshotHeader* header);

// The details a format 1.1 header carries. REQUIRES: the header was written or read as 1.1 or
// later (a 1.0 header has no compaction groups or object ids).
SnapshotDetails DetailsFromHeader(const SnapshotHeader& header);

// What a complete read returns.
struct SnapshotContents {
  uint64_t snapshot_id = 0;
  uint16_t major_version = 0;
  uint16_t minor_version = 0;
  SnapshotHeader header;
  std::vector<SnapshotTable> tables;  // in stored order
  HummockVersion version;
  uint64_t size_bytes = 0;
  uint64_t checksum = 0;
};

// How ReadAll treats the Hummock version record.
struct SnapshotReadOptions {
  // False: the record is checked by its chunk's and the object's checksums only, and
  // SnapshotContents::version stays empty (the header's hummock_version_id names the version).
  // For a writer reading back what it has just written (BackupStorage::WriteSnapshot): the
  // checksums prove the bytes are the ones it serialized, and decoding them again would cost
  // time and memory in proportion to the version.
  bool decode_version = true;
};

// Streams a snapshot out of an ObjectReader. The visitor sees rows before the whole-object
// checksum is checked (each chunk's own checksum is checked before its rows are decoded): a
// restore must apply them so that it can be undone (one transaction) and commit only after
// ReadAll returns OK. Not thread-safe; ReadAll may be called once.
class SnapshotReader {
 public:
  // Reads and checks the preamble. `object_name` names the object in every error message.
  // DataLoss (bad magic, short or corrupt preamble), Unimplemented (unknown major version), or
  // the store's error.
  static Result<std::unique_ptr<SnapshotReader>> Open(std::unique_ptr<objstore::ObjectReader> in,
                                                      std::string object_name);
  ~SnapshotReader();

  uint64_t snapshot_id() const;
  uint16_t major_version() const;
  uint16_t minor_version() const;

  // Decodes everything, calling `visitor` (may be null: verify only), and checks every chunk, the
  // record structure, each table's row count against the header and the trailer.
  // FailedPrecondition if ReadAll or ReadHeader was called before.
  Result<SnapshotContents> ReadAll(SnapshotVisitor* visitor,
                                   const SnapshotReadOptions& options = {});

  // Reads only the chunks that hold the header record (each one's checksum checked; the
  // whole-object checksum, which needs every byte, is not) and decodes the header. DataLoss as
  // ReadAll for damage in those chunks or a stream that does not start with a header.
  // FailedPrecondition if ReadAll or ReadHeader was called before: the reader is spent after it.
  Result<SnapshotHeader> ReadHeader();

  // Largest number of bytes the reader's buffers held at once (see SnapshotWriter).
  uint64_t peak_buffer_bytes() const;

 private:
  class Impl;
  explicit SnapshotReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Writes snapshot `snapshot_id` of every `in_snapshot` table of `model`, read through `view` (one
// consistent cut), with `version`, to a new object `key`. Fills the header's (filled) fields. On
// error nothing is published at `key`.
Result<WrittenSnapshot> WriteSnapshot(metastore::ReadView& view, const HummockVersion& version,
                                      uint64_t snapshot_id, SnapshotHeader header,
                                      objstore::ObjectStore& store, std::string_view key,
                                      const SnapshotWriterOptions& options = {},
                                      const metastore::Model& model = metastore::Model::Get());
// The same, taking the cut itself (MetaStore::BeginSnapshotRead).
Result<WrittenSnapshot> WriteSnapshot(metastore::MetaStore& meta_store,
                                      const HummockVersion& version, uint64_t snapshot_id,
                                      SnapshotHeader header, objstore::ObjectStore& store,
                                      std::string_view key,
                                      const SnapshotWriterOptions& options = {},
                                      const metastore::Model& model = metastore::Model::Get());

// Opens `key` and reads it whole through `visitor` (may be null). NotFound if the object is
// missing; otherwise as SnapshotReader::Open and ReadAll.
Result<SnapshotContents> ReadSnapshot(objstore::ObjectStore& store, std::string_view key,
                                      SnapshotVisitor* visitor);

// What ReadSnapshotHeader returns.
struct SnapshotHeaderRead {
  uint64_t snapshot_id = 0;
  uint16_t major_version = 0;
  uint16_t minor_version = 0;
  SnapshotHeader header;
  // Object bytes fetched from the store (ranged reads of at least kHeaderReadAheadBytes).
  uint64_t bytes_read = 0;

  // Whether the header carries the details (format 1.1 on).
  bool has_details() const { return minor_version >= kSnapshotDetailsMinorVersion; }
};

// The first ranged read of ReadSnapshotHeader: the preamble and, for a 1.1 object of up to a few
// thousand state tables, the whole header chunk.
inline constexpr uint64_t kHeaderReadAheadBytes = 64 * 1024;

// Reads the preamble and the header of object `key` with ranged reads (ObjectStore::GetRange),
// never the rest of the object: one read when the header's chunks fit in kHeaderReadAheadBytes.
// NotFound if the object is missing; otherwise as SnapshotReader::Open and ReadHeader.
Result<SnapshotHeaderRead> ReadSnapshotHeader(objstore::ObjectStore& store, std::string_view key);

}  // namespace rwmeta::backup
