#include "hummock/store/state_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "hummock/sst/sst_writer.h"

namespace rwmeta::hummock {

namespace {

// The epoch the open buffer's keys carry until they are sealed: newer than anything committed.
constexpr uint64_t kOpenEpoch = UINT64_MAX;

bool HoldsTable(const SstableInfo& sst, uint32_t table_id) {
  return std::find(sst.table_ids().begin(), sst.table_ids().end(), table_id) !=
         sst.table_ids().end();
}

}  // namespace

// ---- TableReader ----

std::unique_ptr<KvIterator> TableReader::NewMerge() {
  std::vector<std::unique_ptr<KvIterator>> inputs;
  for (const auto& b : buffers_) inputs.push_back(std::make_unique<MemKvIterator>(b.get()));
  for (const auto& r : ssts_) inputs.push_back(std::make_unique<SstKvIterator>(r));
  return std::make_unique<MergeIterator>(std::move(inputs));
}

Status TableReader::Scan(
    const std::function<Status(std::string_view key, std::string_view value)>& visit,
    UserKeyIterator::Range range) {
  UserKeyIterator it(NewMerge(), table_id_, read_epoch_, std::move(range));
  for (it.SeekToFirst(); it.Valid(); it.Next()) {
    RWMETA_RETURN_IF_ERROR(visit(it.user_key(), it.value()));
  }
  return it.status();
}

Result<std::optional<std::string>> TableReader::Get(std::string_view user_key) {
  // A range of exactly this key: [key, key + "\0").
  std::string end(user_key);
  end.push_back('\0');
  std::optional<std::string> out;
  RWMETA_RETURN_IF_ERROR(Scan(
      [&](std::string_view k, std::string_view v) -> Status {
        if (k == user_key) out = std::string(v);
        return Status::Ok();
      },
      {.start = std::string(user_key), .end = std::move(end)}));
  return out;
}

// ---- StateStore ----

StateStore::StateStore(HummockManager& manager, StateStoreOptions options)
    : manager_(manager), options_(options), open_(std::make_shared<KvBatch>()) {}

void StateStore::Write(uint32_t table_id, const std::vector<KvWrite>& writes) {
  std::lock_guard lock(mu_);
  if (open_.use_count() > 1) open_ = std::make_shared<KvBatch>(*open_);
  if (!writes.empty()) open_tables_.insert(table_id);
  for (const KvWrite& w : writes) {
    (*open_)[EncodeFullKey(table_id, w.user_key, kOpenEpoch)] =
        w.value ? Value::Put(*w.value) : Value::Delete();
  }
}

uint64_t StateStore::BufferedEntries() const {
  std::lock_guard lock(mu_);
  uint64_t n = open_->size();
  for (const auto& [epoch, batch] : sealed_) n += batch->size();
  return n;
}

std::set<uint32_t> StateStore::TablesWrittenInOpenEpoch() const {
  std::lock_guard lock(mu_);
  return open_tables_;
}

Result<CheckpointResult> StateStore::Checkpoint() {
  std::lock_guard checkpoint_lock(checkpoint_mu_);
  {
    // Running DML statements finish first; new ones wait until the epoch is sealed.
    std::unique_lock gate(dml_gate_);
    if (pre_commit_hook_) {
      Status s = pre_commit_hook_();
      if (!s.ok()) spdlog::error("hummock: pre-commit hook failed: {}", s.ToString());
    }
    std::lock_guard lock(mu_);
    if (!open_->empty()) {
      uint64_t epoch =
          NextEpoch(std::max(last_sealed_epoch_, manager_.current()->max_committed_epoch()));
      auto sealed = std::make_shared<KvBatch>();
      for (const auto& [key, value] : *open_) {
        auto k = DecodeFullKey(key);
        sealed->emplace_hint(sealed->end(), EncodeFullKey(k->table_id, k->user_key, epoch), value);
      }
      sealed_.emplace_back(epoch, std::move(sealed));
      last_sealed_epoch_ = epoch;
      open_ = std::make_shared<KvBatch>();
      open_tables_.clear();
    }
  }
  CheckpointResult result;
  while (true) {
    std::pair<uint64_t, std::shared_ptr<const KvBatch>> next;
    {
      std::lock_guard lock(mu_);
      if (sealed_.empty()) break;
      next = sealed_.front();
    }
    RWMETA_ASSIGN_OR_RETURN(std::vector<SstableInfo> ssts, WriteSsts(*next.second, &result));
    Status s = manager_.CommitEpoch(next.first, ssts);
    if (!s.ok()) {
      std::vector<uint64_t> ids;
      for (const auto& sst : ssts) ids.push_back(sst.object_id());
      manager_.ReleaseObjectIds(ids);
      return s;
    }
    result.epoch = next.first;
    std::lock_guard lock(mu_);
    sealed_.pop_front();
  }
  if (result.epoch != 0) {
    spdlog::debug("hummock: committed epoch {}: {} keys in {} SSTs, {} bytes", result.epoch,
                  result.keys, result.ssts, result.bytes);
  }
  return result;
}

Result<std::vector<SstableInfo>> StateStore::WriteSsts(const KvBatch& batch,
                                                       CheckpointResult* result) {
  objstore::ObjectStore& store = manager_.state_store();
  const std::string& dir = manager_.options().data_directory;
  std::vector<SstableInfo> out;
  // Ids handed out for this batch, and the objects of them that this call certainly published.
  std::vector<uint64_t> allocated;
  std::vector<uint64_t> published;
  auto fail = [&](Status s) -> Status {
    // Only our own objects go; an upload that failed may have lost to an object of the same id
    // (IsSstCollision) that is not ours to delete, and an unfinished one published nothing.
    for (uint64_t id : published) (void)store.Delete(SstObjectKey(dir, id));
    manager_.ReleaseObjectIds(allocated);
    return s;
  };
  auto it = batch.begin();
  while (it != batch.end()) {
    auto id = manager_.NewObjectIds(1);
    if (!id.ok()) return fail(id.status());
    allocated.push_back(*id);
    auto writer = OpenSstObjectWriter(store, dir, *id);
    if (!writer.ok()) return fail(writer.status());
    SstWriter sst(std::move(*writer), {.object_id = *id,
                                       .block_size_bytes = options_.block_size_bytes,
                                       .compress = options_.compress});
    uint64_t approx = 0;
    for (; it != batch.end() && approx < options_.target_sst_bytes; ++it) {
      Status s = sst.Add(it->first, it->second);
      if (!s.ok()) return fail(s);
      approx += it->first.size() + it->second.bytes.size() + 8;
    }
    auto info = sst.Finish();
    if (!info.ok()) return fail(info.status());
    published.push_back(*id);
    out.push_back(ToSstableInfo(*info));
    result->ssts++;
    result->bytes += info->file_size;
    result->keys += info->total_key_count;
  }
  return out;
}

Result<std::shared_ptr<const SstReader>> StateStore::OpenSst(const SstableInfo& info) {
  {
    std::lock_guard lock(mu_);
    auto it = readers_.find(info.object_id());
    if (it != readers_.end()) return it->second;
  }
  RWMETA_ASSIGN_OR_RETURN(
      std::unique_ptr<SstReader> reader,
      SstReader::Open(manager_.state_store(),
                      SstObjectKey(manager_.options().data_directory, info.object_id()),
                      info.file_size()));
  std::shared_ptr<const SstReader> shared = std::move(reader);
  std::lock_guard lock(mu_);
  // Why drop everything rather than keep an LRU: the cache only saves re-reading footers and
  // indexes, and a full cache means the version has more SSTs than we plan for; compaction brings
  // the count back down.
  if (readers_.size() >= options_.reader_cache_entries) readers_.clear();
  readers_[info.object_id()] = shared;
  return shared;
}

Result<std::unique_ptr<TableReader>> StateStore::NewTableReader(uint32_t table_id,
                                                                bool include_uncommitted) {
  std::unique_ptr<TableReader> r(new TableReader());
  r->table_id_ = table_id;
  if (include_uncommitted) {
    std::lock_guard lock(mu_);
    r->buffers_.push_back(open_);
    for (auto it = sealed_.rbegin(); it != sealed_.rend(); ++it) r->buffers_.push_back(it->second);
  }
  // Pin after taking the buffers: a sealed batch committed in between is then in both, which the
  // merge resolves (same full keys; the buffer wins and equals the SST).
  r->pin_ = manager_.PinVersion();
  const HummockVersion& v = r->pin_->version();
  r->read_epoch_ = include_uncommitted ? kOpenEpoch : v.max_committed_epoch();
  RWMETA_RETURN_IF_ERROR(AddSsts(v, table_id, *r));
  return r;
}

Result<std::unique_ptr<TableReader>> StateStore::NewTableReaderAt(
    uint32_t table_id, std::shared_ptr<const HummockVersion> version) {
  std::unique_ptr<TableReader> r(new TableReader());
  r->table_id_ = table_id;
  r->read_epoch_ = CommittedEpoch(*version, table_id).value_or(version->max_committed_epoch());
  RWMETA_RETURN_IF_ERROR(AddSsts(*version, table_id, *r));
  return r;
}

Status StateStore::AddSsts(const HummockVersion& v, uint32_t table_id, TableReader& r) {
  for (const CompactionGroup& g : v.groups()) {
    for (const Level& sub : g.l0_sub_levels()) {
      for (const SstableInfo& sst : sub.table_infos()) {
        if (!HoldsTable(sst, table_id)) continue;
        RWMETA_ASSIGN_OR_RETURN(auto reader, OpenSst(sst));
        r.ssts_.push_back(std::move(reader));
      }
    }
    for (const Level& level : g.levels()) {
      for (const SstableInfo& sst : level.table_infos()) {
        if (!HoldsTable(sst, table_id)) continue;
        RWMETA_ASSIGN_OR_RETURN(auto reader, OpenSst(sst));
        r.ssts_.push_back(std::move(reader));
      }
    }
  }
  return Status::Ok();
}

}  // namespace rwmeta::hummock
