#include "hummock/compaction/compactor.h"

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "hummock/sst/key.h"
#include "hummock/sst/sst_reader.h"
#include "hummock/sst/sst_writer.h"
#include "hummock/store/hummock_manager.h"
#include "hummock/store/merge_iterator.h"
#include "hummock/version/version.h"

namespace rwmeta::hummock {
namespace {

using ReaderPtr = std::shared_ptr<const SstReader>;

// Table id + user key of an encoded full key, or the key itself if it is too short to have one.
std::string_view UserKeyPart(std::string_view full_key) {
  if (full_key.size() < kMinFullKeyBytes) return full_key;
  return TableUserKeyOf(full_key);
}

// The SSTs of one sorted level with no two overlapping, read one after another: one merge input
// per level instead of one per SST.
class ConcatKvIterator : public KvIterator {
 public:
  // REQUIRES: `readers` ordered by key with disjoint user-key ranges; not empty.
  explicit ConcatKvIterator(std::vector<ReaderPtr> readers) : readers_(std::move(readers)) {}

  void SeekToFirst() override {
    Open(0);
    it_->SeekToFirst();
    SkipExhausted();
  }
  void Seek(std::string_view full_key) override {
    // The first SST whose last key is not below the target.
    size_t i = 0;
    while (i + 1 < readers_.size() &&
           CompareFullKeys(readers_[i]->info().largest_key, full_key) < 0) {
      ++i;
    }
    Open(i);
    it_->Seek(full_key);
    SkipExhausted();
  }
  void Next() override {
    it_->Next();
    SkipExhausted();
  }
  bool Valid() const override { return it_ != nullptr && it_->Valid(); }
  std::string_view key() const override { return it_->key(); }
  bool tombstone() const override { return it_->tombstone(); }
  std::string_view value() const override { return it_->value(); }
  Status status() const override { return it_ == nullptr ? Status::Ok() : it_->status(); }

 private:
  void Open(size_t i) {
    index_ = i;
    it_ = std::make_unique<SstKvIterator>(readers_[i]);
  }
  void SkipExhausted() {
    while (!it_->Valid() && it_->status().ok() && index_ + 1 < readers_.size()) {
      Open(index_ + 1);
      it_->SeekToFirst();
    }
  }

  std::vector<ReaderPtr> readers_;
  size_t index_ = 0;
  std::unique_ptr<SstKvIterator> it_;
};

// Whether the SSTs (with readers) overlap pairwise once sorted by smallest key; sorts them.
bool SortAndCheckDisjoint(std::vector<std::pair<const SstableInfo*, ReaderPtr>>* ssts) {
  std::stable_sort(ssts->begin(), ssts->end(), [](const auto& a, const auto& b) {
    return UserKeyPart(a.first->smallest_key()) < UserKeyPart(b.first->smallest_key());
  });
  for (size_t i = 1; i < ssts->size(); ++i) {
    if (SstsOverlap(*(*ssts)[i - 1].first, *(*ssts)[i].first)) return false;
  }
  return true;
}

// Whether some SST in a level below `target_level` of `group` holds `user_key` in its range.
class LowerLevels {
 public:
  LowerLevels(const CompactionGroup& group, uint32_t target_level) {
    for (int pos = static_cast<int>(target_level); pos < group.levels_size(); ++pos) {
      if (group.levels(pos).table_infos_size() > 0) levels_.push_back(&group.levels(pos));
    }
  }
  bool Hold(std::string_view user_key) const {
    for (const Level* level : levels_) {
      // Levels below L0 are sorted and disjoint: the first SST not ending before the key.
      auto it = std::lower_bound(level->table_infos().begin(), level->table_infos().end(), user_key,
                                 [](const SstableInfo& sst, std::string_view k) {
                                   return UserKeyPart(sst.largest_key()) < k;
                                 });
      if (it != level->table_infos().end() && !it->smallest_key().empty() &&
          UserKeyPart(it->smallest_key()) <= user_key) {
        return true;
      }
    }
    return false;
  }

 private:
  std::vector<const Level*> levels_;
};

// Writes the outputs, cutting between user keys, and cleans up after a failure.
class OutputWriter {
 public:
  OutputWriter(objstore::ObjectStore& store, std::string_view data_directory,
               const NewObjectIdFn& new_object_id, const CompactionConfig& config)
      : store_(store),
        data_directory_(data_directory),
        new_object_id_(new_object_id),
        config_(config) {}
  ~OutputWriter() {
    if (!committed_) Cleanup();
  }

  // Called at the first entry of every user key: closes the current output if it is full.
  Status AtUserKeyBoundary() {
    if (writer_ != nullptr && bytes_ >= config_.target_file_size_bytes) return FinishCurrent();
    return Status::Ok();
  }

  Status Add(std::string_view full_key, bool tombstone, std::string_view value) {
    if (writer_ == nullptr) {
      RWMETA_ASSIGN_OR_RETURN(uint64_t id, new_object_id_());
      // Remembered before the upload starts: an output whose Finish fails half-way is deleted too.
      ids_.push_back(id);
      RWMETA_ASSIGN_OR_RETURN(auto out, OpenSstObjectWriter(store_, data_directory_, id));
      SstWriterOptions options = config_.output_sst_options;
      options.object_id = id;
      writer_ = std::make_unique<SstWriter>(std::move(out), options);
      bytes_ = 0;
    }
    // One Value reused for every entry: no allocation per entry once its buffer is big enough.
    value_.tombstone = tombstone;
    value_.bytes.assign(value);
    RWMETA_RETURN_IF_ERROR(writer_->Add(full_key, value_));
    bytes_ += full_key.size() + value.size() + 1;
    return Status::Ok();
  }

  Status FinishCurrent() {
    if (writer_ == nullptr) return Status::Ok();
    Result<SstInfo> info = writer_->Finish();
    writer_.reset();
    if (!info.ok()) {
      // The id was someone else's object: never ours to delete.
      if (IsSstCollision(info.status())) ids_.pop_back();
      return info.status();
    }
    outputs_.push_back(ToSstableInfo(*info));
    return Status::Ok();
  }

  // The outputs now belong to the caller: the destructor leaves them alone.
  std::vector<SstableInfo> Release() {
    committed_ = true;
    return std::move(outputs_);
  }

 private:
  void Cleanup() {
    if (writer_ != nullptr) {
      // Nothing of an unfinished upload is visible; Abort only frees the staging.
      writer_->Abort().IgnoreError();
      writer_.reset();
    }
    for (uint64_t id : ids_) {
      // Best effort: an output left behind is an unreferenced object that full GC removes.
      store_.Delete(SstObjectKey(data_directory_, id)).IgnoreError();
    }
  }

  objstore::ObjectStore& store_;
  std::string data_directory_;
  const NewObjectIdFn& new_object_id_;
  const CompactionConfig& config_;
  std::unique_ptr<SstWriter> writer_;
  Value value_;
  uint64_t bytes_ = 0;
  std::vector<uint64_t> ids_;
  std::vector<SstableInfo> outputs_;
  bool committed_ = false;
};

const CompactionGroup* FindGroup(const HummockVersion& version, uint64_t group_id) {
  for (const CompactionGroup& g : version.groups()) {
    if (g.group_id() == group_id) return &g;
  }
  return nullptr;
}

std::set<uint64_t> GroupObjectIds(const CompactionGroup& group) {
  std::set<uint64_t> ids;
  for (const Level& level : group.l0_sub_levels()) {
    for (const SstableInfo& sst : level.table_infos()) ids.insert(sst.object_id());
  }
  for (const Level& level : group.levels()) {
    for (const SstableInfo& sst : level.table_infos()) ids.insert(sst.object_id());
  }
  return ids;
}

Status CheckTask(const HummockVersion& base, const CompactionTask& task,
                 const CompactionGroup** group) {
  const std::string name = "compaction task " + task.ToString();
  if (task.target_level < 1 || task.target_level > kMaxLevel) {
    return InvalidArgumentError(name + ": target level must be 1.." + std::to_string(kMaxLevel));
  }
  if (task.InputObjectIds().empty()) return InvalidArgumentError(name + ": no inputs");
  *group = FindGroup(base, task.group_id);
  if (*group == nullptr) {
    return InvalidArgumentError(name + ": version " + std::to_string(base.id()) + " has no group " +
                                std::to_string(task.group_id));
  }
  const std::set<uint64_t> in_version = GroupObjectIds(**group);
  for (uint64_t id : task.InputObjectIds()) {
    if (in_version.count(id) == 0) {
      return FailedPreconditionError(name + ": input object " + std::to_string(id) +
                                     " is not in version " + std::to_string(base.id()));
    }
  }
  if (task.trivial_move) {
    for (const CompactionInputLevel& in : task.inputs) {
      if (in.level_idx == task.target_level && !in.ssts.empty()) {
        return InvalidArgumentError(name + ": a trivial move cannot take target-level inputs");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<CompactionResult> RunCompaction(objstore::ObjectStore& store,
                                       std::string_view data_directory, const HummockVersion& base,
                                       const CompactionTask& task,
                                       const NewObjectIdFn& new_object_id,
                                       const CompactionConfig& config) {
  const CompactionGroup* group = nullptr;
  RWMETA_RETURN_IF_ERROR(CheckTask(base, task, &group));
  CompactionResult result;
  const std::vector<uint64_t> input_ids = task.InputObjectIds();

  if (task.trivial_move) {
    std::vector<SstableInfo> moved;
    for (const CompactionInputLevel& in : task.inputs) {
      moved.insert(moved.end(), in.ssts.begin(), in.ssts.end());
    }
    result.delta = VersionDeltaBuilder(base)
                       .Compact(task.group_id, input_ids, task.target_level, moved,
                                /*trivial_move=*/true)
                       .Build();
    return result;
  }

  // Open every input before writing anything: a missing or corrupt input fails the task at once.
  std::vector<std::unique_ptr<KvIterator>> merge_inputs;
  for (const CompactionInputLevel& in : task.inputs) {
    if (in.ssts.empty()) continue;
    std::vector<std::pair<const SstableInfo*, ReaderPtr>> ssts;
    for (const SstableInfo& sst : in.ssts) {
      RWMETA_ASSIGN_OR_RETURN(
          std::unique_ptr<SstReader> reader,
          SstReader::Open(store, SstObjectKey(data_directory, sst.object_id()), sst.file_size()));
      ssts.emplace_back(&sst, std::move(reader));
    }
    if (SortAndCheckDisjoint(&ssts)) {
      std::vector<ReaderPtr> readers;
      for (auto& [info, reader] : ssts) readers.push_back(std::move(reader));
      merge_inputs.push_back(std::make_unique<ConcatKvIterator>(std::move(readers)));
    } else {
      // Overlapping SSTs within one L0 sub-level (several SSTs of one commit): each is its own
      // merge input, in the level's order. A commit writes a key at most once per epoch, so
      // their relative priority does not decide anything.
      for (auto& [info, reader] : ssts) {
        merge_inputs.push_back(std::make_unique<SstKvIterator>(std::move(reader)));
      }
    }
  }
  MergeIterator merged(std::move(merge_inputs));

  const uint64_t safe_epoch = base.safe_epoch();
  const LowerLevels lower(*group, task.target_level);
  OutputWriter out(store, data_directory, new_object_id, config);
  CompactionStats& stats = result.stats;

  std::string user_key;  // table id + user key of the current key
  bool have_user_key = false;
  bool seen_at_or_below_safe = false;
  bool table_known = false;
  uint32_t last_table = 0;
  bool have_last_table = false;
  for (merged.SeekToFirst(); merged.Valid(); merged.Next()) {
    ++stats.input_keys;
    std::string_view key = merged.key();
    RWMETA_ASSIGN_OR_RETURN(FullKeyView decoded, DecodeFullKey(key));
    std::string_view this_user_key = TableUserKeyOf(key);
    if (!have_user_key || this_user_key != user_key) {
      user_key.assign(this_user_key);
      have_user_key = true;
      seen_at_or_below_safe = false;
      RWMETA_RETURN_IF_ERROR(out.AtUserKeyBoundary());
    }
    if (!have_last_table || decoded.table_id != last_table) {
      last_table = decoded.table_id;
      have_last_table = true;
      table_known = base.state_table_info().count(decoded.table_id) > 0;
    }
    if (!table_known) {
      ++stats.dropped_table_keys;
      continue;
    }
    if (seen_at_or_below_safe) {
      // Every reader at or above the safe epoch finds the key's newest version at or below the
      // safe epoch (met just before: versions come newest first), or a newer one, before this.
      ++stats.dropped_stale_versions;
      continue;
    }
    if (decoded.epoch <= safe_epoch) {
      seen_at_or_below_safe = true;
      if (merged.tombstone() && !lower.Hold(user_key)) {
        // Every older version is dropped above and nothing below holds the key: the tombstone
        // deletes nothing any more.
        ++stats.dropped_tombstones;
        continue;
      }
    }
    RWMETA_RETURN_IF_ERROR(out.Add(key, merged.tombstone(), merged.value()));
    ++stats.output_keys;
  }
  RWMETA_RETURN_IF_ERROR(merged.status());
  RWMETA_RETURN_IF_ERROR(out.FinishCurrent());

  result.new_ssts = out.Release();
  result.delta = VersionDeltaBuilder(base)
                     .Compact(task.group_id, input_ids, task.target_level, result.new_ssts)
                     .Build();
  return result;
}

Result<HummockVersionDelta> RebaseCompactionDelta(const HummockVersion& current,
                                                  const CompactionTask& task,
                                                  const CompactionResult& result) {
  const CompactionGroup* group = FindGroup(current, task.group_id);
  if (group == nullptr) {
    return FailedPreconditionError("compaction task " + task.ToString() + ": version " +
                                   std::to_string(current.id()) + " has no group " +
                                   std::to_string(task.group_id));
  }
  const std::set<uint64_t> in_version = GroupObjectIds(*group);
  for (uint64_t id : task.InputObjectIds()) {
    if (in_version.count(id) == 0) {
      return AbortedError("compaction task " + task.ToString() + ": input object " +
                          std::to_string(id) + " is no longer in version " +
                          std::to_string(current.id()));
    }
  }
  std::vector<SstableInfo> outputs = result.new_ssts;
  if (task.trivial_move) {
    outputs.clear();
    for (const CompactionInputLevel& in : task.inputs) {
      outputs.insert(outputs.end(), in.ssts.begin(), in.ssts.end());
    }
  }
  return VersionDeltaBuilder(current)
      .Compact(task.group_id, task.InputObjectIds(), task.target_level, outputs, task.trivial_move)
      .Build();
}

}  // namespace rwmeta::hummock
