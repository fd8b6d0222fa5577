#include "restore/restore.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "backup/snapshot_format.h"
#include "common/url.h"
#include "hummock/cluster/generation.h"
#include "hummock/names.h"
#include "hummock/version/checkpoint.h"
#include "metastore/meta_store.h"
#include "metastore/model.h"
#include "metastore/system_param_names.h"
#include "objstore/key.h"
#include "restore/restore_internal.h"

namespace rwmeta::restore {

namespace {

using metastore::Model;
using metastore::Row;
using metastore::TableSchema;

constexpr uint64_t kProgressEveryRows = 5000;
using metastore::params::kBackupStorageDirectory;
using metastore::params::kBackupStorageUrl;
using metastore::params::kDataDirectory;
using metastore::params::kStateStore;

uint64_t ValueBytes(const metastore::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return s->size();
  if (std::holds_alternative<bool>(v)) return 1;
  if (metastore::IsNull(v)) return 0;
  return 8;
}

uint64_t RowBytes(const Row& row) {
  uint64_t n = 0;
  for (const auto& v : row) n += ValueBytes(v);
  return n;
}

void Step(const RestoreOptions& options, const std::string& step) {
  spdlog::info("restore-meta: {}", step);
  if (options.progress != nullptr) options.progress->OnStep(step);
}

// What the first, checking read of a snapshot learns besides SnapshotContents.
struct SnapshotFacts {
  backup::SnapshotContents contents;
  std::map<std::string, std::string> params;    // system_parameter name -> value
  std::map<std::string, int64_t> sequences;     // id_sequence name -> next_value
  std::string cluster_id;                       // the cluster row
  std::map<std::string, uint64_t> table_bytes;  // meta table -> bytes of its rows
};

// Collects the small tables restore decides on, and refuses tables this build cannot take.
class FactsVisitor : public backup::SnapshotVisitor {
 public:
  explicit FactsVisitor(SnapshotFacts* facts) : facts_(facts) {}
  Status OnTableBegin(const backup::SnapshotTable& table) override {
    return backup::CheckTableAgainstModel(table, Model::Get());
  }
  Status OnRow(const backup::SnapshotTable& table, const Row& row) override {
    facts_->table_bytes[table.name] += RowBytes(row);
    const auto* first = row.empty() ? nullptr : std::get_if<std::string>(&row[0]);
    if (first == nullptr || row.size() < 2) return Status::Ok();
    if (table.name == "system_parameter") {
      if (const auto* v = std::get_if<std::string>(&row[1])) facts_->params[*first] = *v;
    } else if (table.name == "id_sequence") {
      if (const auto* v = std::get_if<int64_t>(&row[1])) facts_->sequences[*first] = *v;
    } else if (table.name == "cluster") {
      facts_->cluster_id = *first;
    }
    return Status::Ok();
  }

 private:
  SnapshotFacts* facts_;
};

Result<SnapshotFacts> ReadFacts(backup::BackupStorage& backup,
                                const backup::SnapshotMetadata& entry) {
  const std::string object = backup::SnapshotKey(backup.directory(), entry.id);
  SnapshotFacts facts;
  RWMETA_ASSIGN_OR_RETURN(auto reader, backup.OpenSnapshot(entry.id));
  FactsVisitor visitor(&facts);
  RWMETA_ASSIGN_OR_RETURN(facts.contents, reader->ReadAll(&visitor));
  RWMETA_RETURN_IF_ERROR(internal::CheckAgainstEntry(facts.contents, entry, object));
  return facts;
}

// FailedPrecondition while a meta node holds the state store's lease.
Status CheckNoLiveMetaNode(objstore::ObjectStore& state_store, const std::string& directory,
                           Clock& clock) {
  const std::string key = hummock::MetaLeaseKey(directory);
  auto body = state_store.Get(key);
  if (!body.ok()) {
    if (body.status().code() == StatusCode::kNotFound) return Status::Ok();
    return body.status().WithContext("state store " + state_store.DisplayUrl() + ": reading " +
                                     key);
  }
  nlohmann::json lease = nlohmann::json::parse(*body, nullptr, /*allow_exceptions=*/false);
  if (!lease.is_object() || !lease.contains("expires_at_ms") ||
      !lease["expires_at_ms"].is_number_integer()) {
    return FailedPreconditionError(fmt::format(
        "state store {}: {} is not a meta lease this build can read: cannot tell whether a meta "
        "node serves this state store; shut every meta node down and delete {}",
        state_store.DisplayUrl(), key, key));
  }
  const int64_t expires_at_ms = lease["expires_at_ms"].get<int64_t>();
  const int64_t now_ms = clock.NowMs();
  if (now_ms < expires_at_ms) {
    std::string host = lease.value("host", std::string("?"));
    int64_t pid = lease.contains("pid") && lease["pid"].is_number_integer()
                      ? lease["pid"].get<int64_t>()
                      : -1;
    return FailedPreconditionError(fmt::format(
        "state store {}: a meta node (host {}, pid {}) holds the lease {} for another {} ms: shut "
        "the meta service down before restoring (two clusters must never use the same SSTs)",
        state_store.DisplayUrl(), host, pid, key, expires_at_ms - now_ms));
  }
  return Status::Ok();
}

Status CheckClusterId(objstore::ObjectStore& state_store, const std::string& directory,
                      const std::string& cluster_id) {
  const std::string key = hummock::ClusterIdKey(directory);
  auto body = state_store.Get(key);
  if (!body.ok()) {
    if (body.status().code() == StatusCode::kNotFound) return Status::Ok();
    return body.status().WithContext("state store " + state_store.DisplayUrl() + ": reading " +
                                     key);
  }
  std::string stored = *body;
  while (!stored.empty() && (stored.back() == '\n' || stored.back() == ' ')) stored.pop_back();
  if (!cluster_id.empty() && stored != cluster_id) {
    return FailedPreconditionError(fmt::format(
        "state store {}: {} belongs to cluster {}, the snapshot to cluster {}: this is another "
        "cluster's state store",
        state_store.DisplayUrl(), key, stored, cluster_id));
  }
  return Status::Ok();
}

// The state of the target before writing.
enum class TargetState { kEmpty, kInterruptedBulkLoad, kHalfRestored };

Result<TargetState> InspectTarget(metastore::MetaStore& target, uint64_t snapshot_id) {
  auto inspected = target.Inspect();
  if (!inspected.ok()) {
    return inspected.status().WithContext("target meta store " + target.DisplayUrl());
  }
  if (inspected->unfinished_bulk_load) {
    // The load never became visible, and BeginBulkLoad starts over.
    spdlog::warn(
        "restore-meta: target meta store {}: an earlier restore's bulk load did not "
        "finish; the restore starts over",
        target.DisplayUrl());
    return TargetState::kInterruptedBulkLoad;
  }
  const Model& model = Model::Get();
  if (inspected->version > model.version()) {
    return FailedPreconditionError(fmt::format(
        "target meta store {} has schema version {}, newer than this build's {}: use a risectl of "
        "the same version",
        target.DisplayUrl(), inspected->version, model.version()));
  }
  if (inspected->empty) return TargetState::kEmpty;
  if (inspected->version != model.version()) {
    return FailedPreconditionError(fmt::format(
        "target meta store {} is not empty (schema version {}): a restore needs an empty store; "
        "nothing was written",
        target.DisplayUrl(), inspected->version));
  }
  RWMETA_ASSIGN_OR_RETURN(auto view, target.BeginSnapshotRead());
  RWMETA_ASSIGN_OR_RETURN(
      std::optional<Row> marker,
      view->Get(model.Table("id_sequence"),
                metastore::Key{std::string(hummock::kRestoreIncompleteMarker)}));
  if (marker.has_value()) {
    const auto* id = std::get_if<int64_t>(&(*marker)[1]);
    if (id != nullptr && static_cast<uint64_t>(*id) == snapshot_id) {
      return TargetState::kHalfRestored;
    }
    return FailedPreconditionError(fmt::format(
        "target meta store {} holds an unfinished restore of meta snapshot {}: complete it with "
        "--meta-snapshot-id {}, or empty the store first; nothing was written",
        target.DisplayUrl(), id ? std::to_string(*id) : "?", id ? std::to_string(*id) : "?"));
  }
  for (const TableSchema& table : model.tables()) {
    RWMETA_ASSIGN_OR_RETURN(int64_t rows, view->Count(table));
    if (rows > 0) {
      return FailedPreconditionError(fmt::format(
          "target meta store {} is not empty (table {} has {} rows): a restore needs an empty "
          "store (a new database, or one made by `risectl meta create-meta-store-schema`); "
          "nothing was written",
          target.DisplayUrl(), table.name, rows));
    }
  }
  // Inspect saw rows the model's tables do not hold (foreign keys under an etcd prefix).
  return FailedPreconditionError(fmt::format(
      "target meta store {} is not empty: a restore needs an empty store; nothing was written",
      target.DisplayUrl()));
}

// The tables whose rows restore decides on (step 5 and 6). Every snapshot stores them first: its
// writer follows the model's order, which declares them first.
bool IsFactTable(std::string_view name) {
  return name == "cluster" || name == "system_parameter" || name == "id_sequence";
}

// The one read of the snapshot (step 4): collects the facts, and at the first table that is not a
// fact table calls `decide` (steps 5 to 8), which returns the bulk loader to write into, or null
// (dry run, completing an earlier restore). From there the rows stream into the loader as they
// are decoded, so memory does not grow with the snapshot. The rows restore rewrites are written
// by this visitor: system parameters (overridden) and the carried-forward id sequences at the
// decision; the cluster row, which carries the generation raised only after the whole snapshot
// checked out, and the marker in Finish.
class RestoreVisitor : public backup::SnapshotVisitor {
 public:
  // Called with the facts and the header's cluster id.
  using Decide =
      std::function<Result<metastore::BulkLoader*>(const SnapshotFacts&, const std::string&)>;

  RestoreVisitor(Decide decide, const std::map<std::string, std::string>* param_overrides,
                 const std::map<std::string, int64_t>* sequences, const RestoreOptions* options,
                 RestoreSummary* summary)
      : decide_(std::move(decide)),
        param_overrides_(param_overrides),
        sequences_(sequences),
        options_(options),
        summary_(summary) {}

  SnapshotFacts& facts() { return facts_; }
  // The status a visitor method failed with (returned unchanged by ReadAll), if any.
  const Status& failure() const { return failure_; }
  metastore::BulkLoader* sink() const { return sink_; }

  Status OnHeader(const backup::SnapshotHeader& header) override {
    // Not the header itself: its per-state-table maps grow with the cluster, and restore needs
    // only these.
    header_cluster_id_ = header.cluster_id;
    row_counts_ = header.table_row_counts;
    return Status::Ok();
  }

  Status OnTableBegin(const backup::SnapshotTable& table) override {
    // A table this build cannot take is the snapshot's problem: ReadAll's caller names it.
    RWMETA_RETURN_IF_ERROR(backup::CheckTableAgainstModel(table, Model::Get()));
    return Failed([&]() -> Status {
      const bool fact = IsFactTable(table.name);
      if (fact && decided_) {
        return FailedPreconditionError(fmt::format(
            "the snapshot stores table {} after other tables; this build restores snapshots whose "
            "cluster, system_parameter and id_sequence tables come first",
            table.name));
      }
      if (!fact && !decided_) RWMETA_RETURN_IF_ERROR(DecideNow());
      schema_ = &Model::Get().Table(table.name);
      progress_index_ = summary_->tables.size();
      summary_->tables.push_back(TableProgress{table.name, 0, 0, ExpectedRows(table.name)});
      return Status::Ok();
    }());
  }

  Status OnRow(const backup::SnapshotTable& table, const Row& snapshot_row) override {
    facts_.table_bytes[table.name] += RowBytes(snapshot_row);
    Row row = internal::RowForModel(*schema_, snapshot_row);
    if (IsFactTable(table.name)) {
      NoteFact(table.name, row);
      return Status::Ok();
    }
    if (sink_ == nullptr) return Status::Ok();
    if (table.name == "object") {
      return Failed(objects_.Add(std::move(row), [this](const Row& r) { return Insert(r); }));
    }
    return Failed(Insert(row));
  }

  Status OnTableEnd(const backup::SnapshotTable& table, uint64_t /*row_count*/) override {
    if (sink_ != nullptr && table.name == "object") {
      // Parents that never came: inserting says which foreign key fails.
      RWMETA_RETURN_IF_ERROR(Failed(objects_.Flush([this](const Row& r) { return Insert(r); })));
    }
    if (IsFactTable(table.name)) {
      fact_progress_[table.name] = progress_index_;
    } else {
      Report(progress_index_);
    }
    return Status::Ok();
  }

  // After a complete read: decides if no other table came after the fact tables.
  Status DecideIfUndecided() { return decided_ ? Status::Ok() : Failed(DecideNow()); }

  // The cluster row with `generation` (the one this restore raised the state store to), then the
  // marker. REQUIRES: sink() is not null.
  Status Finish(int64_t generation, uint64_t snapshot_id) {
    if (cluster_row_.has_value()) {
      const TableSchema& cluster = Model::Get().Table("cluster");
      (*cluster_row_)[cluster.ColumnIndex("generation")] = generation;
      RWMETA_RETURN_IF_ERROR(InsertInto(cluster, *cluster_row_, FactProgress("cluster")));
    }
    if (fact_progress_.contains("cluster")) Report(FactProgress("cluster"));
    return sink_->Add(
        Model::Get().Table("id_sequence"),
        Row{std::string(hummock::kRestoreIncompleteMarker), static_cast<int64_t>(snapshot_id)});
  }

 private:
  Status Failed(Status s) {
    if (!s.ok() && failure_.ok()) failure_ = s;
    return s;
  }

  uint64_t ExpectedRows(const std::string& table) const {
    auto it = row_counts_.find(table);
    return it == row_counts_.end() ? 0 : it->second;
  }

  void NoteFact(const std::string& table, const Row& row) {
    const auto* first = row.empty() ? nullptr : std::get_if<std::string>(&row[0]);
    if (first == nullptr || row.size() < 2) return;
    if (table == "system_parameter") {
      if (const auto* v = std::get_if<std::string>(&row[1])) facts_.params[*first] = *v;
      held_params_.push_back(row);
    } else if (table == "id_sequence") {
      if (const auto* v = std::get_if<int64_t>(&row[1])) facts_.sequences[*first] = *v;
    } else if (table == "cluster") {
      facts_.cluster_id = *first;
      cluster_row_ = row;
    }
  }

  // The index in summary_->tables of fact table `name`, added if the snapshot has no such table.
  size_t FactProgress(const std::string& name) {
    auto [it, added] = fact_progress_.try_emplace(name, summary_->tables.size());
    if (added) summary_->tables.push_back(TableProgress{name, 0, 0, 0});
    return it->second;
  }

  Status DecideNow() {
    decided_ = true;
    RWMETA_ASSIGN_OR_RETURN(sink_, decide_(facts_, header_cluster_id_));
    if (sink_ == nullptr) return Status::Ok();
    const TableSchema& params = Model::Get().Table("system_parameter");
    for (Row& row : held_params_) {
      if (auto it = param_overrides_->find(std::get<std::string>(row[0]));
          it != param_overrides_->end()) {
        row[1] = it->second;
      }
      RWMETA_RETURN_IF_ERROR(InsertInto(params, row, FactProgress(params.name)));
    }
    held_params_.clear();
    if (fact_progress_.contains(params.name)) Report(FactProgress(params.name));
    const TableSchema& sequences = Model::Get().Table("id_sequence");
    for (const auto& [name, next] : *sequences_) {
      RWMETA_RETURN_IF_ERROR(InsertInto(sequences, Row{name, next}, FactProgress(sequences.name)));
    }
    Report(FactProgress(sequences.name));
    return Status::Ok();
  }

  Status Insert(const Row& row) { return InsertInto(*schema_, row, progress_index_); }

  Status InsertInto(const TableSchema& schema, const Row& row, size_t progress) {
    TableProgress& p = summary_->tables[progress];
    Status s = sink_->Add(schema, row);
    if (!s.ok()) {
      // A row refused by its own Add (InvalidArgument) is this one; a key or foreign-key refusal
      // may be of a row sent before it (BulkLoader), which the loader's message names.
      if (s.code() == StatusCode::kInvalidArgument) {
        return s.WithContext(fmt::format("restoring row {} of table {}", p.rows + 1, schema.name));
      }
      return s.WithContext(fmt::format(
          "restoring the rows (the target refused a row at or before row {} of table {})",
          p.rows + 1, schema.name));
    }
    const uint64_t bytes = RowBytes(row);
    ++p.rows;
    p.bytes += bytes;
    ++summary_->rows;
    summary_->bytes += bytes;
    if (options_->progress != nullptr && p.rows % kProgressEveryRows == 0) {
      options_->progress->OnTable(p, /*done=*/false);
    }
    return Status::Ok();
  }

  void Report(size_t progress) {
    if (sink_ != nullptr && options_->progress != nullptr) {
      options_->progress->OnTable(summary_->tables[progress], /*done=*/true);
    }
  }

  Decide decide_;
  const std::map<std::string, std::string>* param_overrides_;
  const std::map<std::string, int64_t>* sequences_;
  const RestoreOptions* options_;
  RestoreSummary* summary_;
  std::string header_cluster_id_;
  std::map<std::string, uint64_t> row_counts_;  // meta table -> rows the header announces
  SnapshotFacts facts_;
  bool decided_ = false;
  metastore::BulkLoader* sink_ = nullptr;
  Status failure_;
  const TableSchema* schema_ = nullptr;
  size_t progress_index_ = 0;
  std::map<std::string, size_t> fact_progress_;  // fact table -> index in summary_->tables
  std::vector<Row> held_params_;                 // system_parameter rows, until the decision
  std::optional<Row> cluster_row_;               // until the generation is raised
  internal::ParentFirstObjects objects_{Model::Get().Table("object")};
};

// The generation a half-restored target recorded in its cluster row.
Result<uint64_t> TargetGeneration(metastore::MetaStore& target, const std::string& cluster_id) {
  const TableSchema& table = Model::Get().Table("cluster");
  RWMETA_ASSIGN_OR_RETURN(auto view, target.BeginSnapshotRead());
  RWMETA_ASSIGN_OR_RETURN(std::optional<Row> row, view->Get(table, metastore::Key{cluster_id}));
  if (!row.has_value()) {
    return DataLossError(fmt::format(
        "target meta store {} holds an unfinished restore without the cluster row of {}",
        target.DisplayUrl(), cluster_id));
  }
  return hummock::ClusterRowGeneration(*row);
}

// Step 9's first write: the new generation, raised in the state store before the target holds a
// row, so that the meta store it supersedes is refused from now on; or, completing an unfinished
// restore, the generation that restore raised (which must still be the state store's).
Result<uint64_t> StartGeneration(objstore::ObjectStore& state_store, const std::string& dir,
                                 metastore::MetaStore& target, TargetState state,
                                 const RestoreSummary& summary, Clock& clock,
                                 const RestoreOptions& options) {
  const std::string display = state_store.DisplayUrl() + "/" + dir;
  if (state == TargetState::kHalfRestored) {
    RWMETA_ASSIGN_OR_RETURN(uint64_t mine, TargetGeneration(target, summary.cluster_id));
    auto current = hummock::ReadGeneration(state_store, dir);
    if (!current.ok()) {
      return current.status().WithContext(fmt::format(
          "state store {}: reading the generation the unfinished restore raised", display));
    }
    if (current->record.generation != mine) {
      return FailedPreconditionError(fmt::format(
          "target meta store {} holds an unfinished restore of generation {}, but state store {} "
          "is at {}: that restore was superseded; empty the target and restore again",
          target.DisplayUrl(), mine, display, hummock::DescribeGeneration(current->record)));
    }
    return mine;
  }
  Step(options, fmt::format("raising the cluster generation of state store {}", display));
  auto raised =
      hummock::RaiseGeneration(state_store, dir, summary.cluster_id, summary.snapshot_id, clock);
  if (!raised.ok()) return raised.status();
  spdlog::info("restore-meta: state store {} is now at {}", display,
               hummock::DescribeGeneration(*raised));
  return raised->generation;
}

Status ClearMarker(metastore::MetaStore& target) {
  const TableSchema& table = Model::Get().Table("id_sequence");
  return metastore::RunTransaction(target, [&](metastore::Transaction& txn) {
    return txn.Delete(table, metastore::Key{std::string(hummock::kRestoreIncompleteMarker)});
  });
}

}  // namespace

Result<RestoreSummary> RestoreMeta(backup::BackupStorage& backup, metastore::MetaStore& target,
                                   objstore::ObjectStore& state_store,
                                   const RestoreOptions& options) {
  const uint64_t id = options.snapshot_id;
  const std::string& dir = options.hummock_storage_directory;
  RestoreSummary summary;
  summary.snapshot_id = id;
  summary.dry_run = options.dry_run;

  // 1. Flags.
  const bool any_overwrite = options.overwrite_hummock_storage_endpoint ||
                             options.overwrite_backup_storage_url.has_value() ||
                             options.overwrite_backup_storage_directory.has_value();
  if (any_overwrite && !(options.overwrite_hummock_storage_endpoint &&
                         options.overwrite_backup_storage_url.has_value() &&
                         options.overwrite_backup_storage_directory.has_value())) {
    return InvalidArgumentError(
        "--overwrite-hummock-storage-endpoint, --overwrite-backup-storage-url and "
        "--overwrite-backup-storage-directory must be given together");
  }
  if (options.hummock_storage_url.empty()) {
    return InvalidArgumentError("the hummock storage url is empty");
  }
  if (options.hummock_storage_url.starts_with(kHummockPrefix)) {
    return InvalidArgumentError(fmt::format(
        "--hummock-storage-url takes the state store URL without the {} prefix (given {})",
        kHummockPrefix, RedactUrl(options.hummock_storage_url)));
  }

  // 2. The manifest lists the snapshot.
  const std::string backup_where = fmt::format("backup storage {} directory {}",
                                               backup.store()->DisplayUrl(), backup.directory());
  Step(options, "reading the manifest of " + backup_where);
  auto manifest = backup.ReadManifest();
  if (!manifest.ok()) return manifest.status().WithContext(backup_where);
  RWMETA_ASSIGN_OR_RETURN(const backup::SnapshotMetadata found,
                          internal::FindSnapshot(*manifest, id, backup_where));
  const backup::SnapshotMetadata* entry = &found;
  if (entry->format_version != backup::kSnapshotFormatVersion) {
    return UnimplementedError(
        fmt::format("meta snapshot {} has format version {}; this build restores format version {}",
                    id, entry->format_version, backup::kSnapshotFormatVersion));
  }

  // 3. Nobody serves the state store.
  Clock& clock = options.clock != nullptr ? *options.clock : *SystemClock();
  RWMETA_RETURN_IF_ERROR(CheckNoLiveMetaNode(state_store, dir, clock));

  // 4. The snapshot, read once: the facts first (its first tables), then steps 5 to 8 decide,
  // then its rows stream into the target (step 9) while the rest is read and checked.
  Step(options, fmt::format("reading meta snapshot {} ({} bytes)", id, entry->size_bytes));
  std::map<std::string, std::string> overrides;
  std::map<std::string, int64_t> sequences;
  std::optional<std::vector<uint64_t>> listed;
  TargetState state = TargetState::kEmpty;
  std::unique_ptr<metastore::BulkLoader> loader;
  auto decide = [&](const SnapshotFacts& facts,
                    const std::string& header_cluster_id) -> Result<metastore::BulkLoader*> {
    summary.cluster_id = facts.cluster_id.empty() ? header_cluster_id : facts.cluster_id;
    RWMETA_RETURN_IF_ERROR(CheckClusterId(state_store, dir, summary.cluster_id));

    // 5. The state store is the snapshot's, or the parameters are rewritten.
    if (options.overwrite_hummock_storage_endpoint) {
      for (const char* name :
           {kStateStore, kDataDirectory, kBackupStorageUrl, kBackupStorageDirectory}) {
        if (!facts.params.contains(name)) {
          return FailedPreconditionError(fmt::format(
              "meta snapshot {}: system parameter {} is missing, so it cannot be overwritten", id,
              name));
        }
      }
      overrides[kStateStore] = std::string(kHummockPrefix) + options.hummock_storage_url;
      overrides[kDataDirectory] = dir;
      overrides[kBackupStorageUrl] = *options.overwrite_backup_storage_url;
      overrides[kBackupStorageDirectory] = *options.overwrite_backup_storage_directory;
    } else {
      auto state_param = facts.params.find(kStateStore);
      auto dir_param = facts.params.find(kDataDirectory);
      if (state_param == facts.params.end() || dir_param == facts.params.end()) {
        return DataLossError(fmt::format("meta snapshot {} has no {} or {} system parameter", id,
                                         kStateStore, kDataDirectory));
      }
      auto stripped = StripHummockPrefix(state_param->second);
      if (!stripped.ok()) {
        return DataLossError(fmt::format("meta snapshot {}: invalid state_store parameter {}", id,
                                         RedactUrl(state_param->second)));
      }
      if (*stripped != options.hummock_storage_url) {
        return FailedPreconditionError(fmt::format(
            "state store url mismatch: meta snapshot {} was taken of a cluster on {} but "
            "--hummock-storage-url is {} (give the snapshot's, or move the data and use "
            "--overwrite-hummock-storage-endpoint)",
            id, RedactUrl(*stripped), RedactUrl(options.hummock_storage_url)));
      }
      if (dir_param->second != dir) {
        return FailedPreconditionError(fmt::format(
            "state store directory mismatch: meta snapshot {} has data_directory {} but "
            "--hummock-storage-directory is {}",
            id, dir_param->second, dir));
      }
    }

    // 6. Sequences carried forward.
    sequences = facts.sequences;
    const backup::SnapshotMetadata* newest = entry;
    uint64_t max_referenced = 0;
    for (const auto& s : manifest->snapshots) {
      if (s.id > newest->id) newest = &s;
      // In every entry, old layout or new: no snapshot's header needs reading for the floor.
      max_referenced = std::max(max_referenced, s.max_object_id);
    }
    if (newest->id != id) {
      Step(options,
           fmt::format("reading the newest meta snapshot {} for its id sequences", newest->id));
      auto newest_facts = ReadFacts(backup, *newest);
      const StatusCode code = newest_facts.status().code();
      if (!newest_facts.ok() && code != StatusCode::kDataLoss && code != StatusCode::kNotFound &&
          code != StatusCode::kUnimplemented) {
        return newest_facts.status().WithContext(fmt::format(
            "meta snapshot {} (the newest, whose id sequences the restored cluster continues)",
            newest->id));
      }
      if (!newest_facts.ok()) {
        // A damaged newest snapshot must not block restoring an intact older one: the floors below
        // (every manifest id, every object id of the manifest and of the state store) still keep
        // the restored cluster off every id a kept snapshot uses.
        spdlog::warn(
            "restore-meta: the newest meta snapshot {} cannot be read ({}); its id sequences are "
            "not carried forward, only the manifest's and the state store's ids",
            newest->id, newest_facts.status().message());
      }
      for (const auto& [name, next] :
           newest_facts.ok() ? facts.sequences : std::map<std::string, int64_t>{}) {
        auto it = newest_facts->sequences.find(name);
        if (it == newest_facts->sequences.end() || it->second < next) {
          return FailedPreconditionError(fmt::format(
              "the manifest of {} is inconsistent: the newest meta snapshot {} has id sequence {} "
              "at {} but the older snapshot {} has it at {}; restoring would reuse ids",
              backup_where, newest->id, name,
              it == newest_facts->sequences.end() ? std::string("none")
                                                  : std::to_string(it->second),
              id, next));
        }
      }
      if (newest_facts.ok()) {
        for (const auto& [name, next] : newest_facts->sequences) {
          sequences[name] = std::max(sequences[name], next);
        }
      }
    }
    if (options.list_state_store_object_ids || options.validate_integrity) {
      Step(options, fmt::format("listing objects of state store {} directory {}",
                                state_store.DisplayUrl(), dir));
      auto ids = internal::ListSstObjectIds(state_store, dir);
      if (!ids.ok()) {
        return ids.status().WithContext("state store " + state_store.DisplayUrl());
      }
      listed = std::move(ids).value();
      if (!listed->empty()) max_referenced = std::max(max_referenced, listed->back());
    }
    auto at_least = [&](const char* name, int64_t floor) {
      int64_t& next = sequences[name];
      next = std::max(next, floor);
    };
    int64_t max_snapshot_id = 0;
    for (const auto& s : manifest->snapshots) {
      max_snapshot_id = std::max<int64_t>(max_snapshot_id, static_cast<int64_t>(s.id));
    }
    // Objects of jobs that never published (killed, or of a meta store lost with them) keep their
    // ids too: a snapshot object is written once and never overwritten.
    if (options.list_state_store_object_ids) {
      auto unlisted = backup.ListSnapshotObjectIds();
      if (!unlisted.ok()) return unlisted.status().WithContext(backup_where);
      if (!unlisted->empty()) {
        max_snapshot_id =
            std::max<int64_t>(max_snapshot_id, static_cast<int64_t>(unlisted->back()));
      }
    }
    at_least(kSnapshotIdSequence, max_snapshot_id + 1);
    at_least(kObjectIdSequence, static_cast<int64_t>(max_referenced) + 1);
    sequences.erase(hummock::kRestoreIncompleteMarker);
    summary.sequences = sequences;

    // 7. Integrity.
    if (options.validate_integrity) {
      Step(options, "checking that every object the snapshot references exists");
      RWMETA_ASSIGN_OR_RETURN(std::shared_ptr<const backup::SnapshotDetails> details,
                              backup.Details(*entry));
      std::vector<uint64_t> missing;
      for (uint64_t object_id : details->object_ids) {
        if (!std::binary_search(listed->begin(), listed->end(), object_id)) {
          missing.push_back(object_id);
        }
      }
      summary.objects_checked = details->object_ids.size();
      if (!missing.empty()) {
        return FailedPreconditionError(fmt::format(
            "meta snapshot {} references {} objects missing from state store {} directory {}: {}",
            id, missing.size(), state_store.DisplayUrl(), dir, internal::JoinIds(missing)));
      }
    }

    listed.reset();  // only the floor and the integrity check needed the ids

    // 8. The target.
    Step(options, "inspecting target meta store " + target.DisplayUrl());
    RWMETA_ASSIGN_OR_RETURN(state, InspectTarget(target, id));

    if (options.dry_run || state == TargetState::kHalfRestored) return nullptr;
    // 9, begun: the rows go into the target's bulk load (which migrates an empty database and
    // re-checks emptiness inside its transaction; etcd hides a partial load behind its own marker
    // and starts over on a re-run). Nothing of it is visible before Finish.
    Step(options, "writing rows into " + target.DisplayUrl());
    RWMETA_ASSIGN_OR_RETURN(loader, target.BeginBulkLoad());
    return loader.get();
  };
  RestoreVisitor visitor(decide, &overrides, &sequences, &options, &summary);
  const std::string object = backup::SnapshotKey(backup.directory(), id);
  Result<backup::SnapshotContents> read = [&]() -> Result<backup::SnapshotContents> {
    RWMETA_ASSIGN_OR_RETURN(auto reader, backup.OpenSnapshot(id));
    RWMETA_ASSIGN_OR_RETURN(backup::SnapshotContents contents, reader->ReadAll(&visitor));
    RWMETA_RETURN_IF_ERROR(internal::CheckAgainstEntry(contents, *entry, object));
    // What grows with the cluster and restore no longer needs goes before the checkpoint, the
    // peak of a restore's memory: the header's per-state-table maps and object ids (the version
    // itself holds the same facts).
    std::map<uint32_t, uint64_t>().swap(contents.header.table_committed_epochs);
    std::map<uint32_t, uint64_t>().swap(contents.header.table_compaction_group_ids);
    std::vector<uint64_t>().swap(contents.header.object_ids);
    return contents;
  }();
  if (!read.ok()) {
    // The checks' and the target's errors as they are; the snapshot's with its name.
    if (!visitor.failure().ok()) return visitor.failure();
    return read.status().WithContext(fmt::format("meta snapshot {}", id));
  }
  RWMETA_RETURN_IF_ERROR(visitor.DecideIfUndecided());
  backup::SnapshotContents& contents = *read;
  const SnapshotFacts& facts = visitor.facts();
  summary.hummock_version_id = contents.version.id();

  if (options.dry_run) {
    auto current = hummock::ReadGeneration(state_store, dir);
    if (!current.ok() && current.status().code() != StatusCode::kNotFound) {
      return current.status().WithContext("state store " + state_store.DisplayUrl());
    }
    summary.generation =
        (current.ok() ? current->record.generation : hummock::kFirstGeneration) + 1;
    summary.tables.clear();
    for (const auto& t : contents.tables) {
      TableProgress p{t.name, 0, 0, 0};
      if (auto it = contents.header.table_row_counts.find(t.name);
          it != contents.header.table_row_counts.end()) {
        p.rows = p.expected_rows = it->second;
      }
      if (auto it = facts.table_bytes.find(t.name); it != facts.table_bytes.end()) {
        p.bytes = it->second;
      }
      summary.rows += p.rows;
      summary.bytes += p.bytes;
      summary.tables.push_back(p);
    }
    Step(options, "dry run complete: every check passed, nothing was written");
    return summary;
  }

  // 9. Write: the generation, then the cluster row carrying it and the marker, one commit with
  // the rows streamed so far; the checkpoint; then the marker goes.
  RWMETA_ASSIGN_OR_RETURN(summary.generation, StartGeneration(state_store, dir, target, state,
                                                              summary, clock, options));
  if (state == TargetState::kHalfRestored) {
    Step(options, fmt::format("target holds the rows of an unfinished restore of snapshot {}: "
                              "completing it",
                              id));
    summary.completed_earlier_restore = true;
    summary.tables.clear();
  } else {
    RWMETA_RETURN_IF_ERROR(
        visitor.Finish(static_cast<int64_t>(summary.generation), summary.snapshot_id));
    Step(options, fmt::format("committing {} rows into {}", summary.rows, target.DisplayUrl()));
    Status committed = loader->Finish();
    // Released now: a pooled store's connection then serves ClearMarker below.
    loader.reset();
    if (!committed.ok()) {
      return committed.WithContext("target meta store " + target.DisplayUrl() + ": commit");
    }
  }
  Step(options,
       fmt::format("writing the Hummock version {} checkpoint to {}", contents.version.id(),
                   hummock::CheckpointKey(dir, summary.generation)));
  hummock::HummockVersionCheckpoint checkpoint;
  // Moved, not copied: the decoded version is the largest thing a restore holds.
  checkpoint.mutable_version()->Swap(&contents.version);
  // Stale objects stay empty: objects of the old cluster that nothing references are garbage for
  // the next full GC.
  Status written = hummock::WriteCheckpoint(state_store, dir, checkpoint, summary.generation);
  if (!written.ok()) {
    return written.WithContext(fmt::format(
        "state store {}: the rows are committed but the checkpoint is not; run the same "
        "restore-meta again to complete it",
        state_store.DisplayUrl()));
  }
  Status cleared = ClearMarker(target);
  if (!cleared.ok()) {
    return cleared.WithContext(
        "target meta store " + target.DisplayUrl() +
        ": the checkpoint is written but the restore marker could not be removed; run the same "
        "restore-meta again to complete it");
  }
  return summary;
}

Result<bool> CreateMetaStoreSchema(metastore::MetaStore& target) {
  auto inspected = target.Inspect();
  if (!inspected.ok()) {
    return inspected.status().WithContext("meta store " + target.DisplayUrl());
  }
  if (inspected->unfinished_bulk_load) {
    return FailedPreconditionError(fmt::format(
        "meta store {} holds a restore that did not finish: run the same restore-meta again "
        "(it starts over); nothing was changed",
        target.DisplayUrl()));
  }
  const int version = Model::Get().version();
  if (inspected->version > version) {
    return FailedPreconditionError(
        fmt::format("meta store {} has schema version {}, newer than this build's {}",
                    target.DisplayUrl(), inspected->version, version));
  }
  if (!inspected->empty) {
    return FailedPreconditionError(fmt::format(
        "meta store {} is not empty: create-meta-store-schema prepares an empty store for "
        "restore-meta; nothing was changed",
        target.DisplayUrl()));
  }
  if (inspected->version == version) return false;
  Status migrated = target.Migrate();
  if (!migrated.ok()) return migrated.WithContext("meta store " + target.DisplayUrl());
  return true;
}

std::string FormatSummary(const RestoreSummary& s) {
  std::string how = s.dry_run ? "dry run of meta snapshot" : "restored meta snapshot";
  if (s.completed_earlier_restore) how = "completed the restore of meta snapshot";
  return fmt::format(
      "{} {}: cluster {}, {} tables, {} rows, {} bytes, hummock version {}, generation {}{}", how,
      s.snapshot_id, s.cluster_id, s.tables.size(), s.rows, s.bytes, s.hummock_version_id,
      s.generation, s.dry_run ? " (would be)" : "");
}

}  // namespace rwmeta::restore
