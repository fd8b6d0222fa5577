#include "backup/snapshot_format.h"

#include <fmt/format.h>
#include <xxhash.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "common/coding.h"
#include "hummock/version/version.h"

namespace rwmeta::backup {
namespace {

using metastore::ColumnType;
using metastore::Row;
using metastore::Value;

// Sizes and tags of the framing (docs/format/snapshot.md). Reach disk: never change.
constexpr size_t kPreambleBytes = 32;
constexpr size_t kFrameHeaderBytes = 24;
constexpr size_t kTrailerBytes = 32;
constexpr char kChunkTag[4] = {'R', 'W', 'C', 'K'};
constexpr char kTrailerTag[4] = {'R', 'W', 'T', 'R'};

// Record types. Reach disk: never renumber. Types with kIgnorableBit set may be skipped by a
// reader that does not know them (added in a later minor version).
enum RecordType : uint8_t {
  kHeaderRecord = 1,
  kTableBeginRecord = 2,
  kRowRecord = 3,
  kTableEndRecord = 4,
  kVersionRecord = 5,
  kEndRecord = 6,
};
constexpr uint8_t kIgnorableBit = 0x80;

// Value tags inside a row record. Reach disk.
enum ValueTag : uint8_t {
  kNullTag = 0,
  kInt64Tag = 1,
  kDoubleTag = 2,
  kBoolTag = 3,
  kStringTag = 4
};

// Decodes a record payload. Every getter fails (returns false) at the end of the payload instead
// of reading past it.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view in) : in_(in) {}
  bool Varint(uint64_t* v) { return GetVarint64(&in_, v); }
  bool Byte(uint64_t* v) {
    if (in_.empty()) return false;
    *v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool Fixed64(uint64_t* v) {
    if (in_.size() < 8) return false;
    *v = DecodeFixed64(in_.data());
    in_.remove_prefix(8);
    return true;
  }
  bool String(std::string* s) {
    std::string_view bytes;
    if (!GetLengthPrefixedSlice(&in_, &bytes)) return false;
    s->assign(bytes);
    return true;
  }
  bool at_end() const { return in_.empty(); }

 private:
  std::string_view in_;
};

std::string EncodeHeader(const SnapshotHeader& h) {
  std::string out;
  PutLengthPrefixedSlice(&out, h.cluster_id);
  PutLengthPrefixedSlice(&out, h.rwmeta_version);
  PutLengthPrefixedSlice(&out, h.source_backend);
  PutVarint64(&out, static_cast<uint64_t>(h.model_version));
  PutVarint64(&out, h.hummock_version_id);
  PutVarint64(&out, h.max_committed_epoch);
  PutVarint64(&out, h.safe_epoch);
  PutVarint64(&out, static_cast<uint64_t>(h.created_at_ms));
  PutVarint64(&out, h.table_committed_epochs.size());
  for (const auto& [table_id, epoch] : h.table_committed_epochs) {
    PutVarint64(&out, table_id);
    PutVarint64(&out, epoch);
  }
  PutVarint64(&out, h.table_row_counts.size());
  for (const auto& [name, count] : h.table_row_counts) {
    PutLengthPrefixedSlice(&out, name);
    PutVarint64(&out, count);
  }
  // 1.1: one compaction group per state table, in the order of the committed epochs above (the
  // same tables, so no second copy of their ids), then the object ids as ascending deltas, which
  // keeps thousands of ids to a byte or two each.
  PutVarint64(&out, h.table_committed_epochs.size());
  for (const auto& [table_id, epoch] : h.table_committed_epochs) {
    auto it = h.table_compaction_group_ids.find(table_id);
    PutVarint64(&out, it == h.table_compaction_group_ids.end() ? 0 : it->second);
  }
  PutVarint64(&out, h.object_ids.size());
  uint64_t previous = 0;
  for (uint64_t id : h.object_ids) {
    PutVarint64(&out, id - previous);
    previous = id;
  }
  return out;
}

// Fields appended by a later minor version than `minor` knows are left unread on purpose.
bool DecodeHeader(std::string_view payload, uint16_t minor, SnapshotHeader* h) {
  PayloadReader r(payload);
  uint64_t model_version = 0, created_at_ms = 0, n = 0;
  if (!r.String(&h->cluster_id) || !r.String(&h->rwmeta_version) || !r.String(&h->source_backend) ||
      !r.Varint(&model_version) || !r.Varint(&h->hummock_version_id) ||
      !r.Varint(&h->max_committed_epoch) || !r.Varint(&h->safe_epoch) ||
      !r.Varint(&created_at_ms) || !r.Varint(&n)) {
    return false;
  }
  h->model_version = static_cast<int64_t>(model_version);
  h->created_at_ms = static_cast<int64_t>(created_at_ms);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t table_id = 0, epoch = 0;
    if (!r.Varint(&table_id) || !r.Varint(&epoch) || table_id > UINT32_MAX) return false;
    h->table_committed_epochs[static_cast<uint32_t>(table_id)] = epoch;
  }
  if (!r.Varint(&n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string name;
    uint64_t count = 0;
    if (!r.String(&name) || !r.Varint(&count)) return false;
    h->table_row_counts[name] = count;
  }
  if (minor < kSnapshotDetailsMinorVersion) return true;
  if (!r.Varint(&n) || n != h->table_committed_epochs.size()) return false;
  for (const auto& [table_id, epoch] : h->table_committed_epochs) {
    uint64_t group = 0;
    if (!r.Varint(&group)) return false;
    h->table_compaction_group_ids[table_id] = group;
  }
  // Each id takes at least one byte: a count beyond the payload is damage, not a reason to
  // reserve gigabytes.
  if (!r.Varint(&n) || n > payload.size()) return false;
  h->object_ids.reserve(n);
  uint64_t id = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t delta = 0;
    // Ascending and distinct: a zero delta after the first id, or an overflow, is damage.
    if (!r.Varint(&delta) || (i > 0 && delta == 0) || id + delta < id) return false;
    id += delta;
    h->object_ids.push_back(id);
  }
  return true;
}

bool ValidColumnType(uint64_t t) {
  return t >= static_cast<uint64_t>(ColumnType::kInt64) &&
         t <= static_cast<uint64_t>(ColumnType::kJson);
}

std::string EncodeTableBegin(const metastore::TableSchema& table) {
  std::string out;
  PutLengthPrefixedSlice(&out, table.name);
  PutVarint64(&out, table.columns.size());
  for (const auto& c : table.columns) {
    PutLengthPrefixedSlice(&out, c.name);
    PutVarint64(&out, static_cast<uint64_t>(c.type));
    PutVarint64(&out, c.nullable ? 1 : 0);
  }
  return out;
}

bool DecodeTableBegin(std::string_view payload, SnapshotTable* t) {
  PayloadReader r(payload);
  uint64_t n = 0;
  if (!r.String(&t->name) || !r.Varint(&n) || n > payload.size()) return false;
  for (uint64_t i = 0; i < n; ++i) {
    SnapshotColumn c;
    uint64_t type = 0, nullable = 0;
    if (!r.String(&c.name) || !r.Varint(&type) || !r.Varint(&nullable) || !ValidColumnType(type) ||
        nullable > 1) {
      return false;
    }
    c.type = static_cast<ColumnType>(type);
    c.nullable = nullable == 1;
    t->columns.push_back(std::move(c));
  }
  return true;
}

void EncodeRow(const Row& row, std::string* out) {
  out->clear();
  PutVarint64(out, row.size());
  for (const Value& v : row) {
    if (std::holds_alternative<std::monostate>(v)) {
      out->push_back(static_cast<char>(kNullTag));
    } else if (const auto* i = std::get_if<int64_t>(&v)) {
      out->push_back(static_cast<char>(kInt64Tag));
      PutFixed64(out, static_cast<uint64_t>(*i));
    } else if (const auto* d = std::get_if<double>(&v)) {
      out->push_back(static_cast<char>(kDoubleTag));
      uint64_t bits = 0;
      std::memcpy(&bits, d, sizeof(bits));
      PutFixed64(out, bits);
    } else if (const auto* b = std::get_if<bool>(&v)) {
      out->push_back(static_cast<char>(kBoolTag));
      out->push_back(*b ? 1 : 0);
    } else {
      out->push_back(static_cast<char>(kStringTag));
      PutLengthPrefixedSlice(out, std::get<std::string>(v));
    }
  }
}

// Decodes a row and checks each value against the recorded column: false on any mismatch.
bool DecodeRow(std::string_view payload, const SnapshotTable& table, Row* row) {
  PayloadReader r(payload);
  uint64_t n = 0;
  if (!r.Varint(&n) || n != table.columns.size()) return false;
  row->clear();
  row->reserve(n);
  for (const SnapshotColumn& c : table.columns) {
    uint64_t tag = 0, v = 0;
    if (!r.Byte(&tag)) return false;
    switch (tag) {
      case kNullTag:
        if (!c.nullable) return false;
        row->emplace_back(std::monostate{});
        break;
      case kInt64Tag:
        if (c.type != ColumnType::kInt64 || !r.Fixed64(&v)) return false;
        row->emplace_back(static_cast<int64_t>(v));
        break;
      case kDoubleTag: {
        if (c.type != ColumnType::kDouble || !r.Fixed64(&v)) return false;
        double d = 0;
        std::memcpy(&d, &v, sizeof(d));
        row->emplace_back(d);
        break;
      }
      case kBoolTag:
        if (c.type != ColumnType::kBool || !r.Byte(&v) || v > 1) return false;
        row->emplace_back(v == 1);
        break;
      case kStringTag: {
        if (c.type != ColumnType::kText && c.type != ColumnType::kBytes &&
            c.type != ColumnType::kJson) {
          return false;
        }
        std::string s;
        if (!r.String(&s)) return false;
        row->emplace_back(std::move(s));
        break;
      }
      default:
        return false;
    }
  }
  return r.at_end();
}

}  // namespace

Status CheckTableAgainstModel(const SnapshotTable& table, const metastore::Model& model) {
  const metastore::TableSchema* schema = model.Find(table.name);
  if (schema == nullptr) {
    return FailedPreconditionError("snapshot table " + table.name +
                                   " is not in this build's model (version " +
                                   std::to_string(model.version()) + ")");
  }
  if (table.columns.size() > schema->columns.size()) {
    return FailedPreconditionError(
        "snapshot table " + table.name + " has " + std::to_string(table.columns.size()) +
        " columns, this build's model has " + std::to_string(schema->columns.size()));
  }
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const SnapshotColumn& c = table.columns[i];
    const metastore::ColumnSchema& m = schema->columns[i];
    if (c.name != m.name || c.type != m.type) {
      return FailedPreconditionError(
          "snapshot table " + table.name + " column " + std::to_string(i) + " is " + c.name + " " +
          std::string(metastore::ColumnTypeName(c.type)) + ", this build's model has " + m.name +
          " " + std::string(metastore::ColumnTypeName(m.type)));
    }
  }
  return Status();
}

// ---------------------------------------------------------------------------------------------
// Writer

class SnapshotWriter::Impl {
 public:
  Impl(std::unique_ptr<objstore::ObjectWriter> out, uint64_t snapshot_id,
       const SnapshotWriterOptions& options, uint64_t* peak)
      : out_(std::move(out)), snapshot_id_(snapshot_id), options_(options), peak_(peak) {
    whole_ = XXH64_createState();
    XXH64_reset(whole_, 0);
    // One compression context for every chunk (ZSTD_compress would allocate its megabyte per
    // chunk), and the chunk buffer at its final size (appending would grow it past).
    cctx_ = ZSTD_createCCtx();
    buffer_.reserve(options_.chunk_bytes);
  }
  ~Impl() {
    ZSTD_freeCCtx(cctx_);
    XXH64_freeState(whole_);
    if (!finished_) out_->Abort().IgnoreError();  // nothing to report to: the writer is dropped
  }

  Status Start() {
    std::string preamble(kSnapshotMagic, sizeof(kSnapshotMagic));
    PutFixed16(&preamble, kSnapshotMajorVersion);
    PutFixed16(&preamble, kSnapshotMinorVersion);
    PutFixed32(&preamble, 0);  // flags
    PutFixed64(&preamble, snapshot_id_);
    PutFixed64(&preamble, XXH64(preamble.data(), preamble.size(), 0));
    return Emit(preamble);
  }

  enum class Stage { kHeader, kTables, kInTable, kVersionWritten, kDone };

  Status WriteHeader(const SnapshotHeader& header) {
    RWMETA_RETURN_IF_ERROR(Expect(stage_ == Stage::kHeader, "WriteHeader"));
    row_counts_ = header.table_row_counts;
    stage_ = Stage::kTables;
    RWMETA_RETURN_IF_ERROR(Record(kHeaderRecord, EncodeHeader(header)));
    // 1.1: the header ends its chunk, so that reading it (ReadSnapshotHeader) fetches and
    // decompresses the header alone, not the first rows too. Readers of 1.0 accept short chunks.
    return FlushChunk();
  }

  Status BeginTable(const metastore::TableSchema& table) {
    RWMETA_RETURN_IF_ERROR(Expect(stage_ == Stage::kTables, "BeginTable"));
    auto it = row_counts_.find(table.name);
    if (it == row_counts_.end()) {
      return Fail(InternalError("snapshot " + std::to_string(snapshot_id_) + ": table " +
                                table.name + " has no row count in the header"));
    }
    table_ = &table;
    expected_rows_ = it->second;
    table_rows_ = 0;
    stage_ = Stage::kInTable;
    return Record(kTableBeginRecord, EncodeTableBegin(table));
  }

  Status AddRow(const Row& row) {
    RWMETA_RETURN_IF_ERROR(Expect(stage_ == Stage::kInTable, "AddRow"));
    Status valid = metastore::ValidateRow(*table_, row);
    if (!valid.ok()) return Fail(valid);
    EncodeRow(row, &scratch_);
    ++table_rows_;
    ++total_rows_;
    return Record(kRowRecord, scratch_);
  }

  Status EndTable() {
    RWMETA_RETURN_IF_ERROR(Expect(stage_ == Stage::kInTable, "EndTable"));
    if (table_rows_ != expected_rows_) {
      return Fail(InternalError("snapshot " + std::to_string(snapshot_id_) + ": table " +
                                table_->name + " has " + std::to_string(table_rows_) +
                                " rows, the header says " + std::to_string(expected_rows_)));
    }
    std::string payload;
    PutVarint64(&payload, table_rows_);
    stage_ = Stage::kTables;
    return Record(kTableEndRecord, payload);
  }

  Status WriteVersion(const HummockVersion& version) {
    RWMETA_RETURN_IF_ERROR(Expect(stage_ == Stage::kTables, "WriteHummockVersion"));
    // Streamed into the chunks rather than serialized whole first: a version of 100,000 SSTs is
    // tens of MiB. Every table's committed epoch in its entry: readers of any 1.x snapshot take
    // the entries as they are.
    Status s = hummock::SerializeMaterializedTo(
        version,
        [&](uint64_t size) {
          std::string head(1, static_cast<char>(kVersionRecord));
          PutVarint64(&head, size);
          return AppendRaw(head);
        },
        [&](std::string_view piece) { return AppendRaw(piece); });
    if (!s.ok()) return Fail(s.WithContext("snapshot"));
    stage_ = Stage::kVersionWritten;
    return Status();
  }

  Status RawRecord(uint8_t type, std::string_view payload) {
    RWMETA_RETURN_IF_ERROR(
        Expect(stage_ != Stage::kHeader && stage_ != Stage::kDone, "WriteRawRecordForTesting"));
    return Record(type, payload);
  }

  Result<WrittenSnapshot> Finish() {
    RWMETA_RETURN_IF_ERROR(Expect(stage_ == Stage::kVersionWritten, "Finish"));
    RWMETA_RETURN_IF_ERROR(Record(kEndRecord, ""));
    RWMETA_RETURN_IF_ERROR(FlushChunk());
    std::string trailer(kTrailerTag, sizeof(kTrailerTag));
    PutFixed32(&trailer, 0);
    PutFixed64(&trailer, chunk_count_);
    PutFixed64(&trailer, raw_total_);
    XXH64_update(whole_, trailer.data(), trailer.size());
    const uint64_t checksum = XXH64_digest(whole_);
    PutFixed64(&trailer, checksum);
    Status s = out_->Append(trailer);
    if (s.ok()) s = out_->Finish();
    finished_ = true;  // after Finish (OK or not) the object writer must not be aborted
    stage_ = Stage::kDone;
    if (IsAborted(s)) {
      // The object was opened if-none-match (WriteSnapshot): one exists already and stays.
      return FailedPreconditionError(fmt::format(
          "snapshot {}: an object of that id already exists in the backup storage (left by a "
          "job of another meta store, or not by rwmeta): nothing was overwritten; {}",
          snapshot_id_, s.message()));
    }
    if (!s.ok()) return s.WithContext("snapshot " + std::to_string(snapshot_id_));
    WrittenSnapshot w;
    w.snapshot_id = snapshot_id_;
    w.size_bytes = size_ + trailer.size();
    w.checksum = checksum;
    w.chunk_count = chunk_count_;
    w.row_count = total_rows_;
    return w;
  }

 private:
  Status Expect(bool ok, std::string_view call) {
    if (!status_.ok()) return status_;
    if (ok) return Status();
    return Fail(FailedPreconditionError("snapshot " + std::to_string(snapshot_id_) + ": " +
                                        std::string(call) + " called out of order"));
  }

  Status Fail(Status s) {
    status_ = s;
    return s;
  }

  void NotePeak() {
    *peak_ = std::max<uint64_t>(*peak_, buffer_.size() + compressed_.size() + scratch_.size());
  }

  // Appends one record to the chunk stream, cutting chunks at exactly chunk_bytes so that no
  // buffer ever exceeds it, whatever the record's size.
  Status Record(uint8_t type, std::string_view payload) {
    std::string head(1, static_cast<char>(type));
    PutVarint64(&head, payload.size());
    RWMETA_RETURN_IF_ERROR(AppendRaw(head));
    return AppendRaw(payload);
  }

  Status AppendRaw(std::string_view data) {
    while (!data.empty()) {
      const size_t take = std::min<size_t>(options_.chunk_bytes - buffer_.size(), data.size());
      buffer_.append(data.substr(0, take));
      data.remove_prefix(take);
      NotePeak();
      if (buffer_.size() == options_.chunk_bytes) RWMETA_RETURN_IF_ERROR(FlushChunk());
    }
    return Status();
  }

  Status FlushChunk() {
    if (buffer_.empty()) return Status();
    if (cctx_ == nullptr) {
      return Fail(ResourceExhaustedError("snapshot " + std::to_string(snapshot_id_) +
                                         ": no memory for a zstd compression context"));
    }
    compressed_.resize(ZSTD_compressBound(buffer_.size()));
    const size_t n = ZSTD_compressCCtx(cctx_, compressed_.data(), compressed_.size(),
                                       buffer_.data(), buffer_.size(), options_.zstd_level);
    if (ZSTD_isError(n)) {
      return Fail(InternalError("snapshot " + std::to_string(snapshot_id_) +
                                ": zstd compression failed: " + ZSTD_getErrorName(n)));
    }
    compressed_.resize(n);
    NotePeak();
    std::string frame(kChunkTag, sizeof(kChunkTag));
    PutFixed32(&frame, static_cast<uint32_t>(buffer_.size()));
    PutFixed32(&frame, static_cast<uint32_t>(compressed_.size()));
    PutFixed32(&frame, 0);  // reserved
    // Seeded with the chunk index: a chunk moved to another position fails its checksum.
    XXH64_state_t* chunk = XXH64_createState();
    XXH64_reset(chunk, chunk_count_);
    XXH64_update(chunk, frame.data(), frame.size());
    XXH64_update(chunk, compressed_.data(), compressed_.size());
    PutFixed64(&frame, XXH64_digest(chunk));
    XXH64_freeState(chunk);
    RWMETA_RETURN_IF_ERROR(Emit(frame));
    RWMETA_RETURN_IF_ERROR(Emit(compressed_));
    raw_total_ += buffer_.size();
    ++chunk_count_;
    buffer_.clear();
    compressed_.clear();
    return Status();
  }

  Status Emit(std::string_view bytes) {
    XXH64_update(whole_, bytes.data(), bytes.size());
    size_ += bytes.size();
    Status s = out_->Append(bytes);
    if (!s.ok()) return Fail(s.WithContext("snapshot " + std::to_string(snapshot_id_)));
    return Status();
  }

  std::unique_ptr<objstore::ObjectWriter> out_;
  uint64_t snapshot_id_;
  SnapshotWriterOptions options_;
  uint64_t* peak_;
  XXH64_state_t* whole_ = nullptr;
  ZSTD_CCtx* cctx_ = nullptr;
  Stage stage_ = Stage::kHeader;
  Status status_;
  bool finished_ = false;
  std::map<std::string, uint64_t> row_counts_;
  const metastore::TableSchema* table_ = nullptr;
  uint64_t expected_rows_ = 0;
  uint64_t table_rows_ = 0;
  uint64_t total_rows_ = 0;
  std::string buffer_;
  std::string compressed_;
  std::string scratch_;
  uint64_t size_ = 0;
  uint64_t chunk_count_ = 0;
  uint64_t raw_total_ = 0;
};

SnapshotWriter::SnapshotWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SnapshotWriter::~SnapshotWriter() = default;

Result<std::unique_ptr<SnapshotWriter>> SnapshotWriter::Create(
    std::unique_ptr<objstore::ObjectWriter> out, uint64_t snapshot_id,
    const SnapshotWriterOptions& options) {
  if (options.chunk_bytes < kMinChunkBytes || options.chunk_bytes > kMaxChunkBytes) {
    return InvalidArgumentError("snapshot chunk size " + std::to_string(options.chunk_bytes) +
                                " is outside [" + std::to_string(kMinChunkBytes) + ", " +
                                std::to_string(kMaxChunkBytes) + "]");
  }
  std::unique_ptr<SnapshotWriter> writer(new SnapshotWriter(nullptr));
  writer->impl_ =
      std::make_unique<Impl>(std::move(out), snapshot_id, options, &writer->peak_buffer_bytes_);
  RWMETA_RETURN_IF_ERROR(writer->impl_->Start());
  return writer;
}

Status SnapshotWriter::WriteHeader(const SnapshotHeader& header) {
  return impl_->WriteHeader(header);
}
Status SnapshotWriter::BeginTable(const metastore::TableSchema& table) {
  return impl_->BeginTable(table);
}
Status SnapshotWriter::AddRow(const Row& row) { return impl_->AddRow(row); }
Status SnapshotWriter::EndTable() { return impl_->EndTable(); }
Status SnapshotWriter::WriteHummockVersion(const HummockVersion& version) {
  return impl_->WriteVersion(version);
}
Status SnapshotWriter::WriteRawRecordForTesting(uint8_t type, std::string_view payload) {
  return impl_->RawRecord(type, payload);
}
Result<WrittenSnapshot> SnapshotWriter::Finish() { return impl_->Finish(); }

// ---------------------------------------------------------------------------------------------
// Reader

class SnapshotReader::Impl {
 public:
  Impl(std::unique_ptr<objstore::ObjectReader> in, std::string name)
      : in_(std::move(in)), name_(std::move(name)) {
    whole_ = XXH64_createState();
    XXH64_reset(whole_, 0);
  }
  ~Impl() { XXH64_freeState(whole_); }

  Status ReadPreamble() {
    std::string p;
    RWMETA_RETURN_IF_ERROR(ReadExact(kPreambleBytes, &p, "preamble"));
    if (std::memcmp(p.data(), kSnapshotMagic, sizeof(kSnapshotMagic)) != 0) {
      return DataLossError(name_ + ": bad magic (not a meta snapshot object)");
    }
    if (XXH64(p.data(), 24, 0) != DecodeFixed64(p.data() + 24)) {
      return DataLossError(name_ + ": preamble checksum mismatch at offset 0");
    }
    major_ = DecodeFixed16(p.data() + 8);
    minor_ = DecodeFixed16(p.data() + 10);
    snapshot_id_ = DecodeFixed64(p.data() + 16);
    // The preamble is intact, so an unknown major is a newer writer, not damage.
    if (major_ != kSnapshotMajorVersion) {
      return UnimplementedError(name_ + ": unknown snapshot format major version " +
                                std::to_string(major_) + " (this build reads " +
                                std::to_string(kSnapshotMajorVersion) + ")");
    }
    return Status();
  }

  Result<SnapshotHeader> ReadHeader() {
    if (read_all_called_) return FailedPreconditionError(name_ + ": read twice");
    read_all_called_ = true;
    uint8_t type = 0;
    std::string payload;
    RWMETA_RETURN_IF_ERROR(ReadRecord(&type, &payload));
    SnapshotHeader header;
    if (type != kHeaderRecord || !DecodeHeader(payload, minor_, &header)) {
      return DataLossError(name_ + ": chunk " + std::to_string(record_chunk_) + ": malformed " +
                           (type != kHeaderRecord ? "stream: no header first" : "header") +
                           " (record at stream offset " + std::to_string(record_offset_) +
                           " in chunk " + std::to_string(record_chunk_) + ")");
    }
    return header;
  }

  Result<SnapshotContents> ReadAll(SnapshotVisitor* visitor, const SnapshotReadOptions& options) {
    if (read_all_called_) return FailedPreconditionError(name_ + ": read twice");
    read_all_called_ = true;
    SnapshotContents c;
    c.snapshot_id = snapshot_id_;
    c.major_version = major_;
    c.minor_version = minor_;
    bool have_header = false, have_version = false;
    std::optional<SnapshotTable> table;
    uint64_t table_rows = 0;
    std::string payload;
    Row row;
    while (true) {
      uint8_t type = 0;
      uint64_t length = 0;
      RWMETA_RETURN_IF_ERROR(ReadRecordHead(&type, &length));
      if (type == kVersionRecord && !options.decode_version) {
        // Checked by its chunks' checksums (and the whole object's) without being held.
        payload.clear();
        RWMETA_RETURN_IF_ERROR(SkipStream(length));
      } else {
        RWMETA_RETURN_IF_ERROR(ReadStream(length, &payload));
      }
      const std::string where = "record at stream offset " + std::to_string(record_offset_) +
                                " in chunk " + std::to_string(record_chunk_);
      auto malformed = [&](std::string_view what) {
        return DataLossError(name_ + ": chunk " + std::to_string(record_chunk_) + ": malformed " +
                             std::string(what) + " (" + where + ")");
      };
      if (type == kEndRecord) break;
      if (type != kHeaderRecord && !have_header) return malformed("stream: no header first");
      switch (type) {
        case kHeaderRecord:
          if (have_header) return malformed("stream: second header");
          if (!DecodeHeader(payload, minor_, &c.header)) return malformed("header");
          have_header = true;
          if (visitor) RWMETA_RETURN_IF_ERROR(visitor->OnHeader(c.header));
          break;
        case kTableBeginRecord:
          if (table || have_version) return malformed("stream: unexpected table");
          table.emplace();
          if (!DecodeTableBegin(payload, &*table)) return malformed("table record");
          table_rows = 0;
          if (visitor) RWMETA_RETURN_IF_ERROR(visitor->OnTableBegin(*table));
          break;
        case kRowRecord:
          if (!table) return malformed("stream: row outside a table");
          if (!DecodeRow(payload, *table, &row)) return malformed("row of " + table->name);
          ++table_rows;
          if (visitor) RWMETA_RETURN_IF_ERROR(visitor->OnRow(*table, row));
          break;
        case kTableEndRecord: {
          uint64_t n = 0;
          PayloadReader r(payload);
          if (!table || !r.Varint(&n)) return malformed("table end");
          auto it = c.header.table_row_counts.find(table->name);
          const uint64_t expected = it == c.header.table_row_counts.end() ? 0 : it->second;
          if (n != table_rows || n != expected) {
            return malformed("table " + table->name + ": " + std::to_string(table_rows) +
                             " rows read, end record says " + std::to_string(n) + ", header says " +
                             std::to_string(expected));
          }
          if (visitor) RWMETA_RETURN_IF_ERROR(visitor->OnTableEnd(*table, n));
          c.tables.push_back(std::move(*table));
          table.reset();
          break;
        }
        case kVersionRecord:
          if (table || have_version) return malformed("stream: unexpected hummock version");
          if (options.decode_version && !c.version.ParseFromString(payload)) {
            return malformed("hummock version");
          }
          have_version = true;
          break;
        default:
          if ((type & kIgnorableBit) == 0) {
            return malformed("stream: unknown record type " + std::to_string(type));
          }
          break;  // added by a newer minor version: skipped
      }
    }
    if (!have_header || !have_version || table) {
      return DataLossError(name_ + ": chunk " + std::to_string(record_chunk_) +
                           ": end record before the header, a table's end or the version");
    }
    for (const auto& [name, count] : c.header.table_row_counts) {
      if (std::none_of(c.tables.begin(), c.tables.end(),
                       [&](const SnapshotTable& t) { return t.name == name; })) {
        return DataLossError(name_ + ": header lists table " + name + " (" + std::to_string(count) +
                             " rows) but the snapshot has no such table");
      }
    }
    if (pos_ != raw_.size()) {
      return DataLossError(name_ + ": chunk " + std::to_string(chunk_index_ - 1) +
                           ": bytes after the end record");
    }
    RWMETA_RETURN_IF_ERROR(ReadTrailer(&c.checksum));
    c.size_bytes = offset_;
    return c;
  }

  uint64_t snapshot_id() const { return snapshot_id_; }
  uint16_t major() const { return major_; }
  uint16_t minor() const { return minor_; }
  uint64_t peak() const { return peak_; }

 private:
  void NotePeak() { peak_ = std::max<uint64_t>(peak_, raw_.size() + stored_.size() + io_.size()); }

  // Reads exactly `n` object bytes, feeding the whole-object checksum.
  Status ReadExact(size_t n, std::string* out, std::string_view what) {
    out->clear();
    const uint64_t start = offset_;
    while (out->size() < n) {
      RWMETA_RETURN_IF_ERROR(in_->Read(n - out->size(), &io_));
      NotePeak();
      if (io_.empty()) {
        return DataLossError(name_ + ": truncated: " + std::string(what) + " at offset " +
                             std::to_string(start) + " needs " + std::to_string(n) +
                             " bytes, the object ends at offset " +
                             std::to_string(start + out->size()));
      }
      out->append(io_);
    }
    io_.clear();
    io_.shrink_to_fit();
    XXH64_update(whole_, out->data(), out->size());
    offset_ += n;
    return Status();
  }

  // Loads the next chunk into raw_. Sets *trailer if the next frame is the trailer instead.
  Status NextChunk(bool* trailer) {
    const uint64_t frame_offset = offset_;
    const std::string chunk =
        "chunk " + std::to_string(chunk_index_) + " at offset " + std::to_string(frame_offset);
    std::string head;
    RWMETA_RETURN_IF_ERROR(ReadExact(4, &head, chunk + " frame"));
    if (std::memcmp(head.data(), kTrailerTag, 4) == 0) {
      *trailer = true;
      trailer_prefix_ = head;
      return Status();
    }
    if (std::memcmp(head.data(), kChunkTag, 4) != 0) {
      return DataLossError(name_ + ": " + chunk + ": bad frame tag");
    }
    std::string rest;
    RWMETA_RETURN_IF_ERROR(ReadExact(kFrameHeaderBytes - 4, &rest, chunk + " header"));
    head += rest;
    const uint64_t raw_size = DecodeFixed32(head.data() + 4);
    const uint64_t stored_size = DecodeFixed32(head.data() + 8);
    // Checked before allocating: a corrupt size must not make the reader allocate gigabytes.
    if (raw_size == 0 || raw_size > kMaxChunkBytes ||
        stored_size > ZSTD_compressBound(kMaxChunkBytes)) {
      return DataLossError(name_ + ": " + chunk + ": implausible sizes (raw " +
                           std::to_string(raw_size) + ", stored " + std::to_string(stored_size) +
                           ")");
    }
    RWMETA_RETURN_IF_ERROR(ReadExact(stored_size, &stored_, chunk + " payload"));
    XXH64_state_t* st = XXH64_createState();
    XXH64_reset(st, chunk_index_);
    XXH64_update(st, head.data(), 16);
    XXH64_update(st, stored_.data(), stored_.size());
    const uint64_t actual = XXH64_digest(st);
    XXH64_freeState(st);
    if (actual != DecodeFixed64(head.data() + 16)) {
      return DataLossError(name_ + ": " + chunk + ": checksum mismatch");
    }
    raw_.resize(raw_size);
    NotePeak();
    const size_t n = ZSTD_decompress(raw_.data(), raw_.size(), stored_.data(), stored_.size());
    if (ZSTD_isError(n) || n != raw_size) {
      return DataLossError(name_ + ": " + chunk + ": payload does not decompress to " +
                           std::to_string(raw_size) + " bytes");
    }
    stored_.clear();
    pos_ = 0;
    raw_total_ += raw_size;
    ++chunk_index_;
    return Status();
  }

  // Reads `n` bytes of the decompressed stream, crossing chunks.
  // Makes the next chunk current when the current one is used up: the record stream goes on, so
  // the trailer here means chunks are missing.
  Status RefillIfUsedUp() {
    if (pos_ != raw_.size()) return Status();
    bool trailer = false;
    RWMETA_RETURN_IF_ERROR(NextChunk(&trailer));
    if (trailer) {
      return DataLossError(name_ + ": chunk " + std::to_string(chunk_index_) + " at offset " +
                           std::to_string(offset_ - 4) +
                           ": trailer where the record stream continues (chunks missing)");
    }
    return Status();
  }

  Status ReadStream(size_t n, std::string* out) {
    out->clear();
    while (out->size() < n) {
      RWMETA_RETURN_IF_ERROR(RefillIfUsedUp());
      const size_t take = std::min(n - out->size(), raw_.size() - pos_);
      out->append(raw_, pos_, take);
      pos_ += take;
      stream_offset_ += take;
    }
    return Status();
  }

  // Reads past `n` bytes of the record stream without keeping them (their chunks are checked as
  // ReadStream checks them).
  Status SkipStream(uint64_t n) {
    while (n > 0) {
      RWMETA_RETURN_IF_ERROR(RefillIfUsedUp());
      const size_t take = static_cast<size_t>(std::min<uint64_t>(n, raw_.size() - pos_));
      pos_ += take;
      stream_offset_ += take;
      n -= take;
    }
    return Status();
  }

  Status ReadRecord(uint8_t* type, std::string* payload) {
    uint64_t len = 0;
    RWMETA_RETURN_IF_ERROR(ReadRecordHead(type, &len));
    return ReadStream(len, payload);
  }

  // A record's type and payload length; the payload follows in the stream.
  Status ReadRecordHead(uint8_t* type, uint64_t* length) {
    std::string b;
    RWMETA_RETURN_IF_ERROR(ReadStream(1, &b));
    record_offset_ = stream_offset_ - 1;
    record_chunk_ = chunk_index_ - 1;
    *type = static_cast<uint8_t>(b[0]);
    uint64_t len = 0;
    for (int shift = 0;; shift += 7) {
      if (shift >= 64) {
        return DataLossError(name_ + ": chunk " + std::to_string(record_chunk_) +
                             ": bad record length at stream offset " +
                             std::to_string(record_offset_));
      }
      RWMETA_RETURN_IF_ERROR(ReadStream(1, &b));
      const uint8_t byte = static_cast<uint8_t>(b[0]);
      len |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) break;
    }
    if (len > kMaxRecordBytes) {
      return DataLossError(name_ + ": chunk " + std::to_string(record_chunk_) +
                           ": implausible record length " + std::to_string(len) +
                           " at stream offset " + std::to_string(record_offset_));
    }
    *length = len;
    return Status();
  }

  Status ReadTrailer(uint64_t* checksum) {
    bool trailer = false;
    const uint64_t at = offset_;
    RWMETA_RETURN_IF_ERROR(NextChunk(&trailer));
    if (!trailer) {
      return DataLossError(name_ + ": chunk " + std::to_string(chunk_index_ - 1) + " at offset " +
                           std::to_string(at) + " follows the end record");
    }
    const uint64_t trailer_offset = offset_ - 4;
    const std::string what = "trailer at offset " + std::to_string(trailer_offset);
    std::string rest;
    RWMETA_RETURN_IF_ERROR(ReadExact(20, &rest, what));
    const std::string t = trailer_prefix_ + rest;
    const uint64_t expected = XXH64_digest(whole_);  // every byte before the checksum
    std::string sum;
    // Read directly: the checksum bytes are not part of what they cover.
    while (sum.size() < 8) {
      RWMETA_RETURN_IF_ERROR(in_->Read(8 - sum.size(), &io_));
      if (io_.empty()) {
        return DataLossError(name_ + ": truncated: " + what + " is missing its checksum");
      }
      sum += io_;
    }
    offset_ += 8;
    if (DecodeFixed64(sum.data()) != expected) {
      return DataLossError(name_ + ": " + what + ": whole-object checksum mismatch");
    }
    if (DecodeFixed64(t.data() + 8) != chunk_index_ || DecodeFixed64(t.data() + 16) != raw_total_) {
      return DataLossError(name_ + ": " + what + ": says " +
                           std::to_string(DecodeFixed64(t.data() + 8)) +
                           " chunks, the object has " + std::to_string(chunk_index_));
    }
    RWMETA_RETURN_IF_ERROR(in_->Read(1, &io_));
    if (!io_.empty()) {
      return DataLossError(name_ + ": trailing bytes after the trailer at offset " +
                           std::to_string(offset_));
    }
    *checksum = expected;
    return Status();
  }

  std::unique_ptr<objstore::ObjectReader> in_;
  std::string name_;
  XXH64_state_t* whole_ = nullptr;
  uint16_t major_ = 0;
  uint16_t minor_ = 0;
  uint64_t snapshot_id_ = 0;
  bool read_all_called_ = false;
  uint64_t offset_ = 0;         // object bytes consumed
  uint64_t chunk_index_ = 0;    // chunks loaded so far
  uint64_t stream_offset_ = 0;  // decompressed bytes consumed
  uint64_t raw_total_ = 0;
  uint64_t record_offset_ = 0;
  uint64_t record_chunk_ = 0;
  std::string raw_;
  size_t pos_ = 0;
  std::string stored_;
  std::string io_;
  std::string trailer_prefix_;
  uint64_t peak_ = 0;
};

SnapshotReader::SnapshotReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SnapshotReader::~SnapshotReader() = default;

Result<std::unique_ptr<SnapshotReader>> SnapshotReader::Open(
    std::unique_ptr<objstore::ObjectReader> in, std::string object_name) {
  auto impl = std::make_unique<Impl>(std::move(in), "snapshot object " + object_name);
  RWMETA_RETURN_IF_ERROR(impl->ReadPreamble());
  return std::unique_ptr<SnapshotReader>(new SnapshotReader(std::move(impl)));
}

uint64_t SnapshotReader::snapshot_id() const { return impl_->snapshot_id(); }
uint16_t SnapshotReader::major_version() const { return impl_->major(); }
uint16_t SnapshotReader::minor_version() const { return impl_->minor(); }
uint64_t SnapshotReader::peak_buffer_bytes() const { return impl_->peak(); }
Result<SnapshotContents> SnapshotReader::ReadAll(SnapshotVisitor* visitor,
                                                 const SnapshotReadOptions& options) {
  return impl_->ReadAll(visitor, options);
}
Result<SnapshotHeader> SnapshotReader::ReadHeader() { return impl_->ReadHeader(); }

void DescribeVersion(const HummockVersion& version, SnapshotHeader* header) {
  header->hummock_version_id = version.id();
  header->max_committed_epoch = version.max_committed_epoch();
  header->safe_epoch = version.safe_epoch();
  header->table_committed_epochs.clear();
  header->table_compaction_group_ids.clear();
  for (const auto& [table_id, info] : version.state_table_info()) {
    header->table_committed_epochs[table_id] = hummock::CommittedEpoch(version, info);
    header->table_compaction_group_ids[table_id] = info.compaction_group_id();
  }
  header->object_ids = hummock::ObjectIds(version);
}

SnapshotDetails DetailsFromHeader(const SnapshotHeader& header) {
  SnapshotDetails details;
  details.object_ids = header.object_ids;
  for (const auto& [table_id, epoch] : header.table_committed_epochs) {
    auto group = header.table_compaction_group_ids.find(table_id);
    details.state_table_info[table_id] = {
        epoch, group == header.table_compaction_group_ids.end() ? 0 : group->second};
  }
  return details;
}

// ---------------------------------------------------------------------------------------------
// Convenience

Result<WrittenSnapshot> WriteSnapshot(metastore::ReadView& view, const HummockVersion& version,
                                      uint64_t snapshot_id, SnapshotHeader header,
                                      objstore::ObjectStore& store, std::string_view key,
                                      const SnapshotWriterOptions& options,
                                      const metastore::Model& model) {
  header.model_version = model.version();
  DescribeVersion(version, &header);
  header.table_row_counts.clear();
  // The model is the one list of tables: a table added to it is in every later snapshot.
  std::vector<const metastore::TableSchema*> tables;
  for (const metastore::TableSchema& table : model.tables()) {
    if (table.in_snapshot) tables.push_back(&table);
  }
  RWMETA_ASSIGN_OR_RETURN(std::vector<int64_t> counts, view.CountEach(tables));
  for (size_t i = 0; i < tables.size(); ++i) {
    header.table_row_counts[tables[i]->name] = static_cast<uint64_t>(counts[i]);
  }
  // Written once: where the store honours conditional puts, an object that exists under the key
  // (never one this cluster wrote: ids are not reused) is never overwritten.
  objstore::PutOptions once;
  once.if_none_match = store.SupportsConditionalPut();
  RWMETA_ASSIGN_OR_RETURN(auto out, store.OpenWriter(key, once));
  RWMETA_ASSIGN_OR_RETURN(auto writer,
                          SnapshotWriter::Create(std::move(out), snapshot_id, options));
  RWMETA_RETURN_IF_ERROR(writer->WriteHeader(header));
  for (const metastore::TableSchema& table : model.tables()) {
    if (!table.in_snapshot) continue;
    RWMETA_RETURN_IF_ERROR(writer->BeginTable(table));
    RWMETA_RETURN_IF_ERROR(view.Scan(table, [&](const Row& row) { return writer->AddRow(row); }));
    RWMETA_RETURN_IF_ERROR(writer->EndTable());
  }
  RWMETA_RETURN_IF_ERROR(writer->WriteHummockVersion(version));
  RWMETA_ASSIGN_OR_RETURN(WrittenSnapshot written, writer->Finish());
  written.header = std::move(header);
  return written;
}

Result<WrittenSnapshot> WriteSnapshot(metastore::MetaStore& meta_store,
                                      const HummockVersion& version, uint64_t snapshot_id,
                                      SnapshotHeader header, objstore::ObjectStore& store,
                                      std::string_view key, const SnapshotWriterOptions& options,
                                      const metastore::Model& model) {
  RWMETA_ASSIGN_OR_RETURN(auto view, meta_store.BeginSnapshotRead());
  if (header.source_backend.empty()) header.source_backend = std::string(meta_store.backend());
  return WriteSnapshot(*view, version, snapshot_id, std::move(header), store, key, options, model);
}

Result<SnapshotContents> ReadSnapshot(objstore::ObjectStore& store, std::string_view key,
                                      SnapshotVisitor* visitor) {
  RWMETA_ASSIGN_OR_RETURN(auto in, store.OpenReader(key));
  RWMETA_ASSIGN_OR_RETURN(auto reader, SnapshotReader::Open(std::move(in), std::string(key)));
  return reader->ReadAll(visitor);
}

}  // namespace rwmeta::backup

namespace rwmeta::backup {
namespace {

// Reads an object's beginning through GetRange, at least kHeaderReadAheadBytes at a time, so that
// the preamble, the frame header and a small header chunk (read by the SnapshotReader in pieces
// of a few bytes) cost one request. Counts the bytes it fetched.
class ReadAheadRangeReader : public objstore::ObjectReader {
 public:
  ReadAheadRangeReader(objstore::ObjectStore& store, std::string key)
      : store_(store), key_(std::move(key)) {}

  Status Read(size_t max_bytes, std::string* out) override {
    out->clear();
    if (pos_ == buffer_.size() && !at_end_ && max_bytes > 0) {
      const uint64_t want = std::max<uint64_t>(max_bytes, kHeaderReadAheadBytes);
      RWMETA_ASSIGN_OR_RETURN(buffer_, store_.GetRange(key_, offset_, want));
      pos_ = 0;
      offset_ += buffer_.size();
      fetched_ += buffer_.size();
      at_end_ = buffer_.size() < want;  // GetRange clips at the object's end
    }
    const size_t take = std::min(max_bytes, buffer_.size() - pos_);
    out->assign(buffer_, pos_, take);
    pos_ += take;
    return Status();
  }
  // Not known without a Head, and not needed: the snapshot reader finds the end by its records.
  uint64_t size_bytes() const override { return 0; }
  uint64_t fetched() const { return fetched_; }

 private:
  objstore::ObjectStore& store_;
  std::string key_;
  std::string buffer_;
  size_t pos_ = 0;
  uint64_t offset_ = 0;
  uint64_t fetched_ = 0;
  bool at_end_ = false;
};

}  // namespace

Result<SnapshotHeaderRead> ReadSnapshotHeader(objstore::ObjectStore& store, std::string_view key) {
  auto owned = std::make_unique<ReadAheadRangeReader>(store, std::string(key));
  ReadAheadRangeReader* in = owned.get();
  RWMETA_ASSIGN_OR_RETURN(auto reader, SnapshotReader::Open(std::move(owned), std::string(key)));
  SnapshotHeaderRead read;
  read.snapshot_id = reader->snapshot_id();
  read.major_version = reader->major_version();
  read.minor_version = reader->minor_version();
  RWMETA_ASSIGN_OR_RETURN(read.header, reader->ReadHeader());
  read.bytes_read = in->fetched();
  return read;
}

}  // namespace rwmeta::backup
