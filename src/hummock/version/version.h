// The Hummock version (which SSTs make up each level of each compaction group, per-table committed
// epochs, max committed epoch, safe epoch) and the deltas that change it.
//
// Why free functions over the protobuf messages rather than a wrapper class: the proto message is
// what is stored (delta payloads in the meta store, the checkpoint object, meta snapshots), so
// working on it directly keeps one representation and no conversion code that could drift. The
// functions below keep the invariants the messages alone cannot express:
// - groups sorted by group_id; L0 sub-levels newest (largest sub_level_id) first; L1..L6 always
//   present as levels[0..5] with SSTs sorted by (smallest_key, sst_id);
// - ids increase by delta: a delta applies only on top of the version it was built for;
// - a table's committed epoch is the larger of its state_table_info entry's and the version's
//   all_tables_committed_epoch (read it only through CommittedEpoch): a commit of every table
//   raises the latter alone, so neither the delta nor applying it grows with the table count.
//
// What a delta costs: ApplyDelta with a VersionIndex (the HummockManager keeps one) checks and
// applies a delta in O(size of the delta), plus one pass over each L1..L6 level or L0 sub-level a
// compaction removes from or inserts into; it never copies the version.
//
// Thread safety: these are plain functions over values; callers synchronise access to a version.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "proto/hummock.pb.h"

namespace rwmeta::hummock {

// The bytes of `message` with maps in a fixed order, so that the same version, delta or checkpoint
// always gives the same bytes (golden files, "same checkpoint, same bytes"); the protobuf default
// leaves map order unspecified. Internal if serialization fails (a bug or out of memory).
Result<std::string> SerializeDeterministic(const google::protobuf::Message& message);

// Levels below L0. Reaches disk (level_idx values): never change.
inline constexpr uint32_t kMaxLevel = 6;

// Which level of which group holds each SST of one version, so that checking and applying a delta
// looks objects up instead of scanning every level. Built from a version in O(SSTs); ApplyDelta
// keeps it in step with the version it applies to. It describes one version's layout, not its
// bytes: an index kept in step with a version also describes a copy of that version. Assumes an
// object appears at most once per group, which ApplyDelta keeps. Not thread-safe.
class VersionIndex {
 public:
  VersionIndex() = default;  // of the empty version
  explicit VersionIndex(const HummockVersion& version);

  struct Location {
    uint32_t level_idx = 0;     // 0 for an L0 sub-level
    uint64_t sub_level_id = 0;  // for level_idx 0
  };
  // Where `object_id` is in `group_id`, or nullptr if the group does not hold it.
  const Location* Find(uint64_t group_id, uint64_t object_id) const;

 private:
  friend void ApplyValidatedDelta(HummockVersion* version, VersionIndex* index,
                                  const HummockVersionDelta& delta);
  // group id -> object id -> where.
  std::unordered_map<uint64_t, std::unordered_map<uint64_t, Location>> groups_;
};

// Whether `delta` applies on top of `version` (described by `index`), without changing anything:
// - FailedPrecondition if delta.prev_id != version.id() (delta built for another version).
// - InvalidArgument if delta.id <= delta.prev_id, an insert names a level above kMaxLevel, a new L0
//   sub-level id is not larger than every existing one in its group, an inserted object is already
//   in the group, an epoch (max committed, safe, all tables committed, a table's committed) would
//   go backwards, the safe or all-tables epoch would pass the max committed epoch, or a table's
//   committed epoch in the delta is below the version's all-tables epoch after it.
// - DataLoss if the delta removes an object (or table) the version does not hold: the delta and
//   the version disagree, so one of them is not what was stored; or a stored group does not have
//   exactly kMaxLevel levels below L0.
// A group named by a delta that the version does not have is created (with empty L1..L6).
// REQUIRES: `index` describes `version`.
Status ValidateDelta(const HummockVersion& version, const VersionIndex& index,
                     const HummockVersionDelta& delta);

// Applies `delta` to `*version` and keeps `*index` in step. REQUIRES: ValidateDelta(*version,
// *index, delta) returned OK (this cannot fail, which lets a caller validate, store the delta,
// and only then change the version).
void ApplyValidatedDelta(HummockVersion* version, VersionIndex* index,
                         const HummockVersionDelta& delta);

// ValidateDelta, then ApplyValidatedDelta: on any error (ValidateDelta's) `*version` and `*index`
// are left unchanged.
Status ApplyDelta(HummockVersion* version, VersionIndex* index, const HummockVersionDelta& delta);

// The same with an index built for the call: O(SSTs), for callers that apply one delta.
Status ApplyDelta(HummockVersion* version, const HummockVersionDelta& delta);

// Every object id the version references (all SSTs of all levels), ascending, without duplicates.
std::vector<uint64_t> ObjectIds(const HummockVersion& version);

// Number of SSTs in the version.
uint64_t SstCount(const HummockVersion& version);

// Size of one level (or one L0 sub-level).
struct LevelSize {
  uint64_t group_id = 0;
  uint32_t level_idx = 0;
  uint64_t sub_level_id = 0;  // 0 for L1..L6
  uint64_t sst_count = 0;
  uint64_t size_bytes = 0;  // sum of file_size
  friend bool operator==(const LevelSize&, const LevelSize&) = default;
};

// Per level sizes in version order: each group by group_id, its L0 sub-levels newest first, then
// L1..L6 (including empty levels).
std::vector<LevelSize> LevelSizes(const HummockVersion& version);

// The committed epoch of `table_id`, or nullopt if the version has no such table. The only way to
// read a table's committed epoch: its state_table_info entry alone may be older.
std::optional<uint64_t> CommittedEpoch(const HummockVersion& version, uint32_t table_id);
// The same for the table whose state_table_info entry is `info`, for loops over the entries.
uint64_t CommittedEpoch(const HummockVersion& version, const StateTableInfo& info);

// Writes every table's committed epoch (CommittedEpoch) into its state_table_info entry, for a
// copy of the version that leaves this process and may be read by rwmeta from before
// all_tables_committed_epoch (which takes the entries as they are): the checkpoint, meta
// snapshots, the admin API. CommittedEpoch gives the same values before and after. O(tables).
void MaterializeCommittedEpochs(HummockVersion* version);

// The bytes SerializeDeterministic gives for a copy of `version` after MaterializeCommittedEpochs,
// without making the copy (the extra memory is O(tables), not O(SSTs)): what the checkpoint and
// meta snapshots store. Internal as SerializeDeterministic.
Result<std::string> SerializeMaterialized(const HummockVersion& version);
// The same bytes without holding them all: `on_size` first gets their total (a writer that frames
// them puts it ahead), then `sink` gets them in order in pieces of at most 64 KiB. Returns the
// first error of either callback, or Internal as SerializeDeterministic. Meta snapshots stream
// their version record through it.
Status SerializeMaterializedTo(const HummockVersion& version,
                               const std::function<Status(uint64_t)>& on_size,
                               const std::function<Status(std::string_view)>& sink);

// Builds the common deltas on top of `base`. The delta gets id base.id() + 1 and
// prev_id base.id(), and carries base's max committed and safe epochs unless a call below raises
// them. The builder does not validate: ApplyDelta does. Not thread-safe.
//
//   HummockVersionDelta d = VersionDeltaBuilder(v).CommitEpoch(epoch, group, ssts, {1, 2}).Build();
//   RWMETA_RETURN_IF_ERROR(ApplyDelta(&v, d));
class VersionDeltaBuilder {
 public:
  explicit VersionDeltaBuilder(const HummockVersion& base);

  // Commits `epoch` for `table_ids` (which live in `group_id`): `ssts` form a new L0 sub-level
  // (sub-level id = this delta's id, so newer sub-levels have larger ids), the tables' committed
  // epoch becomes `epoch` and the max committed epoch rises to it. Several calls for one group
  // add to the same sub-level. The delta lists every table named.
  VersionDeltaBuilder& CommitEpoch(uint64_t epoch, uint64_t group_id,
                                   const std::vector<SstableInfo>& ssts,
                                   const std::vector<uint32_t>& table_ids);

  // Commits `epoch` for every table of the version (and every table this delta adds), `ssts` as
  // CommitEpoch does: the delta raises all_tables_committed_epoch and lists no table.
  VersionDeltaBuilder& CommitEpochForAllTables(uint64_t epoch, uint64_t group_id,
                                               const std::vector<SstableInfo>& ssts);

  // A compaction in `group_id`: removes `input_object_ids` (from whatever levels) and inserts
  // `outputs` into `target_level` (1..6; 0 makes a new L0 sub-level). Inputs not among the outputs
  // become stale objects, outputs not among the inputs new objects. `trivial_move` marks a move
  // of the same SSTs to another level.
  VersionDeltaBuilder& Compact(uint64_t group_id, const std::vector<uint64_t>& input_object_ids,
                               uint32_t target_level, const std::vector<SstableInfo>& outputs,
                               bool trivial_move = false);

  // Drops tables: their state-table info is removed. Their data stays in SSTs until compaction.
  VersionDeltaBuilder& DropTables(const std::vector<uint32_t>& table_ids);

  // Raises the safe epoch (below it, no reader needs older versions of keys).
  VersionDeltaBuilder& SetSafeEpoch(uint64_t epoch);

  HummockVersionDelta Build() const { return delta_; }

 private:
  GroupDelta* MutableGroup(uint64_t group_id);
  LevelInsert* MutableL0Insert(uint64_t group_id);

  HummockVersionDelta delta_;
};

}  // namespace rwmeta::hummock
