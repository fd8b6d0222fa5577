#include "hummock/store/hummock_manager.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <utility>

#include "hummock/gc/object_protection.h"
#include "hummock/sst/sst_writer.h"
#include "hummock/version/checkpoint.h"
#include "hummock/version/version.h"
#include "metastore/model.h"

namespace rwmeta::hummock {

namespace {

const metastore::TableSchema& DeltaTable() {
  return metastore::Model::Get().Table("hummock_version_delta");
}

Result<std::vector<HummockVersionDelta>> LoadDeltas(metastore::MetaStore& store) {
  std::vector<HummockVersionDelta> deltas;
  RWMETA_ASSIGN_OR_RETURN(auto view, store.BeginSnapshotRead());
  RWMETA_RETURN_IF_ERROR(view->Scan(DeltaTable(), [&](const metastore::Row& row) -> Status {
    const auto* payload = std::get_if<std::string>(&row[3]);
    const auto* id = std::get_if<int64_t>(&row[0]);
    HummockVersionDelta d;
    if (payload == nullptr || id == nullptr || !d.ParseFromString(*payload) ||
        static_cast<int64_t>(d.id()) != *id) {
      return DataLossError(fmt::format(
          "hummock_version_delta row {} in the meta store does not decode as a version delta",
          id ? std::to_string(*id) : "?"));
    }
    deltas.push_back(std::move(d));
    return Status::Ok();
  }));
  return deltas;
}

}  // namespace

Status CheckNoIncompleteRestore(metastore::MetaStore& meta_store) {
  RWMETA_ASSIGN_OR_RETURN(metastore::SchemaState state, meta_store.Inspect());
  if (state.unfinished_bulk_load) {
    return FailedPreconditionError(fmt::format(
        "meta store {} holds a restore whose bulk load did not finish (none of it is visible): "
        "run `risectl meta restore-meta` with the same flags again, which starts over",
        meta_store.DisplayUrl()));
  }
  if (state.empty || state.version != metastore::Model::Get().version()) return Status::Ok();
  RWMETA_ASSIGN_OR_RETURN(auto view, meta_store.BeginSnapshotRead());
  RWMETA_ASSIGN_OR_RETURN(std::optional<metastore::Row> marker,
                          view->Get(metastore::Model::Get().Table("id_sequence"),
                                    metastore::Key{std::string(kRestoreIncompleteMarker)}));
  if (!marker.has_value()) return Status::Ok();
  const auto* snapshot_id = std::get_if<int64_t>(&(*marker)[1]);
  return FailedPreconditionError(fmt::format(
      "meta store {} holds an unfinished restore of meta snapshot {} (the Hummock version "
      "checkpoint may not be written yet): run `risectl meta restore-meta --meta-snapshot-id {}` "
      "with the same flags again to complete it",
      meta_store.DisplayUrl(), snapshot_id ? std::to_string(*snapshot_id) : "?",
      snapshot_id ? std::to_string(*snapshot_id) : "<id>"));
}

PinnedVersion::~PinnedVersion() { manager_->Unpin(pin_id_); }

HummockManager::HummockManager(metastore::MetaStore& meta_store, objstore::ObjectStore& state_store,
                               HummockManagerOptions options)
    : meta_store_(meta_store), state_store_(state_store), options_(std::move(options)) {}

HummockManager::~HummockManager() = default;

Result<std::unique_ptr<HummockManager>> HummockManager::Open(metastore::MetaStore& meta_store,
                                                             objstore::ObjectStore& state_store,
                                                             HummockManagerOptions options) {
  // A store restore-meta has not finished: its checkpoint may be another cluster's version.
  RWMETA_RETURN_IF_ERROR(CheckNoIncompleteRestore(meta_store));
  std::unique_ptr<HummockManager> m(new HummockManager(meta_store, state_store, options));
  HummockVersionCheckpoint checkpoint;
  auto read = ReadCheckpoint(state_store, options.data_directory, options.generation);
  if (read.ok()) {
    checkpoint = std::move(*read);
  } else if (read.status().code() != StatusCode::kNotFound) {
    return read.status();
  } else if (options.generation > 1) {
    // Only a restore starts a later generation, and it writes the checkpoint before it finishes.
    return DataLossError(fmt::format(
        "the Hummock version cannot be rebuilt: the checkpoint {} of generation {} is missing "
        "from the state store (restore-meta writes it)",
        CheckpointKey(options.data_directory, options.generation), options.generation));
  }
  RWMETA_ASSIGN_OR_RETURN(std::vector<HummockVersionDelta> deltas, LoadDeltas(meta_store));
  if (!deltas.empty() && deltas.front().prev_id() > checkpoint.version().id()) {
    return DataLossError(fmt::format(
        "the Hummock version cannot be rebuilt: the checkpoint {} holds version {} but the oldest "
        "stored delta continues version {} (the checkpoint object is missing or older than the "
        "meta store)",
        CheckpointKey(options.data_directory, options.generation), checkpoint.version().id(),
        deltas.front().prev_id()));
  }
  RWMETA_ASSIGN_OR_RETURN(HummockVersion version, RebuildVersion(checkpoint.version(), deltas));
  m->checkpoint_version_id_ = checkpoint.version().id();
  m->stale_.insert(checkpoint.stale_object_ids().begin(), checkpoint.stale_object_ids().end());
  for (const HummockVersionDelta& d : deltas) {
    if (d.id() <= checkpoint.version().id()) continue;
    m->stale_.insert(d.stale_object_ids().begin(), d.stale_object_ids().end());
  }
  spdlog::info(
      "hummock: version {} (checkpoint {} + {} deltas), max committed epoch {}, {} SSTs, {} stale "
      "objects",
      version.id(), checkpoint.version().id(), version.id() - checkpoint.version().id(),
      version.max_committed_epoch(), SstCount(version), m->stale_.size());
  m->index_ = VersionIndex(version);
  m->current_ = std::make_shared<HummockVersion>(std::move(version));
  return m;
}

std::shared_ptr<const HummockVersion> HummockManager::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::unique_ptr<PinnedVersion> HummockManager::PinVersion() {
  std::lock_guard lock(mu_);
  uint64_t id = next_pin_id_++;
  pins_[id] = current_;
  return std::unique_ptr<PinnedVersion>(new PinnedVersion(this, id, current_));
}

Result<ConsistentCut> HummockManager::BeginConsistentCut() {
  std::lock_guard commit_lock(commit_mu_);
  ConsistentCut cut;
  RWMETA_ASSIGN_OR_RETURN(cut.view, meta_store_.BeginSnapshotRead());
  cut.version = PinVersion();
  return cut;
}

void HummockManager::Unpin(uint64_t pin_id) {
  std::lock_guard lock(mu_);
  pins_.erase(pin_id);
}

Result<uint64_t> HummockManager::NewObjectIds(uint64_t count) {
  if (fence_) RWMETA_RETURN_IF_ERROR(fence_());
  int64_t first = 0;
  RWMETA_RETURN_IF_ERROR(
      metastore::RunTransaction(meta_store_, [&](metastore::Transaction& txn) -> Status {
        RWMETA_ASSIGN_OR_RETURN(
            first, metastore::NextId(txn, kObjectIdSequence, static_cast<int64_t>(count)));
        return Status::Ok();
      }));
  std::lock_guard lock(mu_);
  for (uint64_t i = 0; i < count; ++i) in_flight_.insert(static_cast<uint64_t>(first) + i);
  return static_cast<uint64_t>(first);
}

void HummockManager::ReleaseObjectIds(const std::vector<uint64_t>& ids) {
  std::lock_guard lock(mu_);
  for (uint64_t id : ids) in_flight_.erase(id);
}

Status HummockManager::CommitDelta(
    const std::function<Result<HummockVersionDelta>(const HummockVersion&)>& build,
    const std::function<Status(metastore::Transaction&)>& extra) {
  if (fence_) RWMETA_RETURN_IF_ERROR(fence_());
  std::lock_guard commit_lock(commit_mu_);
  // Read without mu_: only commits change current_, and this one holds commit_mu_.
  const HummockVersion& base = *current_;
  HummockVersionDelta delta;
  RWMETA_RETURN_IF_ERROR(
      metastore::RunTransaction(meta_store_, [&](metastore::Transaction& txn) -> Status {
        RWMETA_ASSIGN_OR_RETURN(delta, build(base));
        // Checked before it is stored, applied after: a stored delta always applies.
        RWMETA_RETURN_IF_ERROR(ValidateDelta(base, index_, delta));
        std::string payload;
        if (!delta.SerializeToString(&payload)) {
          return InternalError("hummock: version delta does not serialize");
        }
        RWMETA_RETURN_IF_ERROR(txn.Insert(
            DeltaTable(), {static_cast<int64_t>(delta.id()), static_cast<int64_t>(delta.prev_id()),
                           static_cast<int64_t>(delta.max_committed_epoch()), payload}));
        if (extra) RWMETA_RETURN_IF_ERROR(extra(txn));
        return Status::Ok();
      }));
  ApplyCommitted(delta);
  Status s = MaybeCheckpointLocked();
  if (!s.ok()) {
    // The delta is committed; the checkpoint is retried after the next delta.
    spdlog::warn("hummock: writing the version checkpoint failed (will retry): {}", s.ToString());
  }
  return Status::Ok();
}

void HummockManager::ApplyCommitted(const HummockVersionDelta& delta) {
  auto bookkeeping = [&] {
    for (uint64_t id : delta.new_object_ids()) in_flight_.erase(id);
    stale_.insert(delta.stale_object_ids().begin(), delta.stale_object_ids().end());
  };
  {
    std::lock_guard lock(mu_);
    if (current_.use_count() == 1) {
      // No reader holds the version, and none can take it while mu_ is held: change it in place.
      // The fence orders our writes after the reads of the last reader, whose release of its copy
      // (an acq_rel decrement) use_count() read with a relaxed load.
      std::atomic_thread_fence(std::memory_order_acquire);
      ApplyValidatedDelta(current_.get(), &index_, delta);
      bookkeeping();
      return;
    }
  }
  // A reader holds it, so it must not change: apply to a copy, made outside mu_ so that readers
  // do not wait for it.
  auto next = std::make_shared<HummockVersion>(*current_);
  ApplyValidatedDelta(next.get(), &index_, delta);
  std::shared_ptr<HummockVersion> previous;
  {
    std::lock_guard lock(mu_);
    previous = std::exchange(current_, std::move(next));
    bookkeeping();
  }
  // `previous` goes here, outside mu_, if its last reader let go meanwhile.
}

Status HummockManager::CommitEpoch(uint64_t epoch, const std::vector<SstableInfo>& ssts,
                                   const std::vector<uint32_t>& new_table_ids) {
  return CommitDelta([&](const HummockVersion& base) -> Result<HummockVersionDelta> {
    if (epoch <= base.max_committed_epoch()) {
      return FailedPreconditionError(
          fmt::format("hummock: epoch {} is not above the max committed epoch {}", epoch,
                      base.max_committed_epoch()));
    }
    // The tables of the version through all_tables_committed_epoch: the delta names the new ones.
    return VersionDeltaBuilder(base)
        .CommitEpochForAllTables(epoch, kDefaultCompactionGroup, ssts)
        .CommitEpoch(epoch, kDefaultCompactionGroup, {}, new_table_ids)
        .Build();
  });
}

Status HummockManager::RegisterTables(const std::vector<uint32_t>& table_ids) {
  return CommitDelta([&](const HummockVersion& base) -> Result<HummockVersionDelta> {
    HummockVersionDelta d = VersionDeltaBuilder(base).Build();
    for (uint32_t id : table_ids) {
      StateTableInfo& info = (*d.mutable_state_table_info_delta())[id];
      info.set_committed_epoch(base.max_committed_epoch());
      info.set_compaction_group_id(kDefaultCompactionGroup);
    }
    return d;
  });
}

Status HummockManager::DropTables(const std::vector<uint32_t>& table_ids) {
  return CommitDelta([&](const HummockVersion& base) -> Result<HummockVersionDelta> {
    std::vector<uint32_t> present;
    for (uint32_t id : table_ids) {
      if (base.state_table_info().contains(id)) present.push_back(id);
    }
    return VersionDeltaBuilder(base).DropTables(present).Build();
  });
}

Status HummockManager::MaybeCheckpointLocked() {
  uint64_t current_id = current()->id();
  if (current_id - checkpoint_version_id_ < options_.checkpoint_every_deltas) return Status::Ok();
  return WriteCheckpointLocked();
}

Status HummockManager::WriteCheckpointNow() {
  std::lock_guard commit_lock(commit_mu_);
  return WriteCheckpointLocked();
}

Status HummockManager::WriteCheckpointLocked() {
  std::vector<uint64_t> stale;
  {
    std::lock_guard lock(mu_);
    stale.assign(stale_.begin(), stale_.end());
  }
  // Read without mu_ and without a copy (commits, which alone change it, wait for commit_mu_).
  const uint64_t id = current_->id();
  RWMETA_RETURN_IF_ERROR(WriteCheckpoint(state_store_, options_.data_directory, *current_, stale,
                                         options_.generation));
  // The object is durable: the deltas it covers can go.
  RWMETA_RETURN_IF_ERROR(
      metastore::RunTransaction(meta_store_, [&](metastore::Transaction& txn) -> Status {
        std::vector<int64_t> ids;
        RWMETA_RETURN_IF_ERROR(txn.Scan(DeltaTable(), [&](const metastore::Row& row) -> Status {
          int64_t delta_id = std::get<int64_t>(row[0]);
          if (static_cast<uint64_t>(delta_id) <= id) ids.push_back(delta_id);
          return Status::Ok();
        }));
        for (int64_t delta_id : ids) RWMETA_RETURN_IF_ERROR(txn.Delete(DeltaTable(), {delta_id}));
        return Status::Ok();
      }));
  spdlog::debug("hummock: checkpoint at version {}", id);
  checkpoint_version_id_ = id;
  return Status::Ok();
}

uint64_t HummockManager::DeltasSinceCheckpoint() const {
  std::lock_guard lock(mu_);
  return current_->id() - checkpoint_version_id_;
}

Result<std::set<uint64_t>> HummockManager::ReferencedObjectIds() {
  if (fence_) RWMETA_RETURN_IF_ERROR(fence_());
  std::set<uint64_t> ids;
  ObjectProtectionSet* protection;
  {
    std::lock_guard lock(mu_);
    for (uint64_t id : ObjectIds(*current_)) ids.insert(id);
    for (const auto& [pin, version] : pins_) {
      for (uint64_t id : ObjectIds(*version)) ids.insert(id);
    }
    ids.insert(in_flight_.begin(), in_flight_.end());
    protection = protection_;
  }
  if (protection != nullptr) {
    RWMETA_ASSIGN_OR_RETURN(std::vector<uint64_t> protected_ids, protection->ProtectedObjectIds());
    ids.insert(protected_ids.begin(), protected_ids.end());
  }
  return ids;
}

std::vector<uint64_t> HummockManager::StaleObjectIds() const {
  std::lock_guard lock(mu_);
  return {stale_.begin(), stale_.end()};
}

void HummockManager::ForgetStaleObjectIds(const std::vector<uint64_t>& ids) {
  std::lock_guard lock(mu_);
  for (uint64_t id : ids) stale_.erase(id);
}

void HummockManager::SetProtectionSet(ObjectProtectionSet* protection) {
  std::lock_guard lock(mu_);
  protection_ = protection;
}

SstableInfo ToSstableInfo(const SstInfo& info) {
  SstableInfo out;
  out.set_object_id(info.object_id);
  out.set_sst_id(info.object_id);
  out.set_smallest_key(info.smallest_key);
  out.set_largest_key(info.largest_key);
  out.set_file_size(info.file_size);
  for (uint32_t t : info.table_ids) out.add_table_ids(t);
  out.set_min_epoch(info.min_epoch);
  out.set_max_epoch(info.max_epoch);
  out.set_total_key_count(info.total_key_count);
  out.set_stale_key_count(info.tombstone_key_count);
  return out;
}

}  // namespace rwmeta::hummock
