// StateStore: the data plane of Hummock in the meta node — writes buffered per epoch, checkpoints
// that turn the buffer into SST objects and commit an epoch, and reads of one table.
//
// Epochs and visibility (as in RisingWave):
// - writes go to the open epoch's buffer; Checkpoint() seals it with a new epoch, writes its SSTs,
//   uploads them and commits the epoch through the HummockManager. Once Checkpoint returns, the
//   data is in the state store and the version delta in the meta store: it survives a crash.
// - committed reads (SELECT) see the pinned version only: what the last checkpoint committed.
// - reads with include_uncommitted (what DML reads to find the rows it changes) also see sealed and
//   open buffers, so statements of one epoch build on each other.
//
// The pre-commit hook runs inside Checkpoint after every DML statement of the epoch has finished
// and before the buffer is sealed, with new DML held back (DmlGuard): materialized views compute
// their new contents there, reading with include_uncommitted and writing into the same epoch, so a
// view is always consistent with its inputs at every committed epoch.
//
// Thread-safe. Checkpoints are serialized.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "hummock/store/hummock_manager.h"
#include "hummock/store/merge_iterator.h"

namespace rwmeta::hummock {

struct StateStoreOptions {
  // An SST is closed once it reaches this size; a checkpoint's buffer may make several.
  uint64_t target_sst_bytes = 64ull << 20;
  size_t block_size_bytes = 64 * 1024;
  bool compress = true;
  // SST readers kept open (their index and bloom filter in memory).
  size_t reader_cache_entries = 1024;
};

// One row change: a put of `value`, or a delete when `value` is nullopt.
struct KvWrite {
  std::string user_key;
  std::optional<std::string> value;
};

// What Checkpoint did.
struct CheckpointResult {
  uint64_t epoch = 0;  // 0 when there was nothing to commit
  uint64_t ssts = 0;
  uint64_t bytes = 0;
  uint64_t keys = 0;
};

// The rows of one table as of one read.
class TableReader {
 public:
  // Visits every visible (user key, value) ascending, stopping at the first non-OK status of
  // `visit` or of the read (DataLoss/NotFound naming the SST object when one is corrupt or
  // missing).
  Status Scan(const std::function<Status(std::string_view key, std::string_view value)>& visit,
              UserKeyIterator::Range range = {});
  // The visible value of one key.
  Result<std::optional<std::string>> Get(std::string_view user_key);
  uint64_t read_epoch() const { return read_epoch_; }

 private:
  friend class StateStore;
  TableReader() = default;
  std::unique_ptr<KvIterator> NewMerge();

  uint32_t table_id_ = 0;
  uint64_t read_epoch_ = 0;
  std::unique_ptr<PinnedVersion> pin_;
  std::vector<std::shared_ptr<const KvBatch>> buffers_;  // newest first
  std::vector<std::shared_ptr<const SstReader>> ssts_;   // newest first
};

class StateStore {
 public:
  // REQUIRES: `manager` outlives the store.
  StateStore(HummockManager& manager, StateStoreOptions options = {});

  // Held by a DML statement for its duration: a checkpoint waits for running statements and holds
  // new ones back while its pre-commit hook runs and the buffer is sealed.
  class DmlGuard {
   public:
    explicit DmlGuard(std::shared_mutex& m) : lock_(m) {}

   private:
    std::shared_lock<std::shared_mutex> lock_;
  };
  DmlGuard BeginDml() { return DmlGuard(dml_gate_); }

  // Adds writes to the open epoch. A later write of the same key in the same epoch replaces the
  // earlier one.
  void Write(uint32_t table_id, const std::vector<KvWrite>& writes);

  // Seals the open epoch and commits it (see the file comment). With nothing written since the last
  // checkpoint it commits nothing and returns epoch 0. On an upload or commit error the epoch's
  // data stays buffered (sealed) and the next Checkpoint retries it; nothing half-written becomes
  // visible.
  Result<CheckpointResult> Checkpoint();

  // Called by Checkpoint before sealing (see the file comment). Set once, before use.
  void SetPreCommitHook(std::function<Status()> hook) { pre_commit_hook_ = std::move(hook); }

  // A reader of `table_id`: the current version pinned, plus the write buffers when
  // `include_uncommitted`. Errors: NotFound/DataLoss naming an SST object that cannot be opened.
  Result<std::unique_ptr<TableReader>> NewTableReader(uint32_t table_id, bool include_uncommitted);

  // A reader of `table_id` as of `version` (a meta snapshot's version, for SET QUERY_EPOCH): its
  // SSTs only, read at the table's committed epoch in that version (the version's max committed
  // epoch if the table is not in its state_table_info). SSTs are opened from the state store like
  // the committed reader's; nothing is pinned: the caller keeps the objects alive (the backup
  // manager protects every object a listed snapshot references). Errors: NotFound/DataLoss
  // naming an SST object that cannot be opened. REQUIRES: `version` is not null.
  Result<std::unique_ptr<TableReader>> NewTableReaderAt(
      uint32_t table_id, std::shared_ptr<const HummockVersion> version);

  // Entries waiting in buffers (open + sealed).
  uint64_t BufferedEntries() const;
  // The tables written since the open epoch began (for the pre-commit hook).
  std::set<uint32_t> TablesWrittenInOpenEpoch() const;

  HummockManager& manager() { return manager_; }

 private:
  Result<std::shared_ptr<const SstReader>> OpenSst(const SstableInfo& info);
  // Opens the SSTs of `version` holding `table_id` into `reader`, newest first.
  Status AddSsts(const HummockVersion& version, uint32_t table_id, TableReader& reader);
  // Writes the sealed batch as SSTs; returns their infos. Deletes what it wrote on error.
  Result<std::vector<SstableInfo>> WriteSsts(const KvBatch& batch, CheckpointResult* result);

  HummockManager& manager_;
  const StateStoreOptions options_;
  std::shared_mutex dml_gate_;
  std::mutex checkpoint_mu_;
  std::function<Status()> pre_commit_hook_;

  mutable std::mutex mu_;  // guards the buffers and the reader cache; never held across I/O
  // The open epoch's buffer, keyed by full key with epoch kOpenEpoch. Copy-on-write: readers share
  // it, a writer copies it first if it is shared.
  std::shared_ptr<KvBatch> open_;
  std::set<uint32_t> open_tables_;
  // Sealed batches waiting for commit (keys carry their real epoch), oldest first.
  std::list<std::pair<uint64_t, std::shared_ptr<const KvBatch>>> sealed_;
  uint64_t last_sealed_epoch_ = 0;
  std::unordered_map<uint64_t, std::shared_ptr<const SstReader>> readers_;
};

}  // namespace rwmeta::hummock
