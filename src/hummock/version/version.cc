#include "hummock/version/version.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <unordered_set>

namespace rwmeta::hummock {

Result<std::string> SerializeDeterministic(const google::protobuf::Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!message.SerializeToCodedStream(&coded) || coded.HadError()) {
      return InternalError("protobuf serialization of " + message.GetTypeName() + " failed");
    }
  }
  return out;
}
namespace {

// Hands what the coded stream writes to a sink, keeping the sink's first error.
class SinkStream final : public google::protobuf::io::CopyingOutputStream {
 public:
  explicit SinkStream(const std::function<Status(std::string_view)>& sink) : sink_(sink) {}
  bool Write(const void* buffer, int size) override {
    if (!status_.ok()) return false;
    status_ = sink_(std::string_view(static_cast<const char*>(buffer), static_cast<size_t>(size)));
    written_ += static_cast<uint64_t>(size);
    return status_.ok();
  }
  const Status& status() const { return status_; }
  uint64_t written() const { return written_; }

 private:
  const std::function<Status(std::string_view)>& sink_;
  Status status_;
  uint64_t written_ = 0;
};

}  // namespace

namespace {

std::string DeltaName(const HummockVersionDelta& delta) {
  return "version delta " + std::to_string(delta.id());
}

// The order of SSTs in L1..L6.
bool SstBefore(const SstableInfo* a, const SstableInfo* b) {
  if (a->smallest_key() != b->smallest_key()) return a->smallest_key() < b->smallest_key();
  return a->sst_id() < b->sst_id();
}

const CompactionGroup* FindGroup(const HummockVersion& version, uint64_t group_id) {
  const auto& groups = version.groups();
  auto it =
      std::lower_bound(groups.begin(), groups.end(), group_id,
                       [](const CompactionGroup& g, uint64_t id) { return g.group_id() < id; });
  return it != groups.end() && it->group_id() == group_id ? &*it : nullptr;
}

CompactionGroup* FindOrAddGroup(HummockVersion* version, uint64_t group_id) {
  auto* groups = version->mutable_groups();
  auto it =
      std::lower_bound(groups->begin(), groups->end(), group_id,
                       [](const CompactionGroup& g, uint64_t id) { return g.group_id() < id; });
  if (it != groups->end() && it->group_id() == group_id) return &*it;
  // Keep groups sorted by id: append, then rotate the new group into place.
  const int pos = static_cast<int>(it - groups->begin());
  CompactionGroup* added = groups->Add();
  added->set_group_id(group_id);
  for (uint32_t i = 1; i <= kMaxLevel; ++i) added->add_levels()->set_level_idx(i);
  std::rotate(groups->pointer_begin() + pos, groups->pointer_end() - 1, groups->pointer_end());
  return groups->Mutable(pos);
}

// The position of L0 sub-level `sub_level_id` in `group` (sub-levels are sorted by id, newest
// first), or -1.
int FindSubLevel(const CompactionGroup& group, uint64_t sub_level_id) {
  const auto& subs = group.l0_sub_levels();
  auto it =
      std::lower_bound(subs.begin(), subs.end(), sub_level_id,
                       [](const Level& level, uint64_t id) { return level.sub_level_id() > id; });
  return it != subs.end() && it->sub_level_id() == sub_level_id
             ? static_cast<int>(it - subs.begin())
             : -1;
}

// What the group deltas of one delta have done so far to one group, so that ValidateDelta can
// check each step against the group as it would then be without building it.
class GroupOverlay {
 public:
  GroupOverlay(const CompactionGroup* stored, const VersionIndex& index, uint64_t group_id)
      : stored_(stored), index_(index), group_id_(group_id) {}

  // Whether the group holds `object_id` now.
  bool Holds(uint64_t object_id) const {
    return added_.contains(object_id) ||
           (index_.Find(group_id_, object_id) != nullptr && !removed_.contains(object_id));
  }

  // Removes `object_id`; false if the group does not hold it.
  bool Remove(uint64_t object_id) {
    VersionIndex::Location where;
    if (auto it = added_.find(object_id); it != added_.end()) {
      where = it->second;
      added_.erase(it);
    } else if (const VersionIndex::Location* stored = index_.Find(group_id_, object_id);
               stored != nullptr && !removed_.contains(object_id)) {
      where = *stored;
      removed_.insert(object_id);
    } else {
      return false;
    }
    if (where.level_idx == 0) {
      SubLevel& sub = Touch(where.sub_level_id);
      // An emptied sub-level is gone; L1..L6 stay even when empty.
      if (--sub.size == 0) sub.live = false;
    }
    return true;
  }

  void Insert(uint64_t object_id, VersionIndex::Location where) { added_[object_id] = where; }

  // A new L0 sub-level of `size` SSTs.
  void AddSubLevel(uint64_t sub_level_id, int64_t size) {
    sub_levels_[sub_level_id] = {.size = size, .live = true};
  }

  // The id of the newest L0 sub-level the group has now, if any.
  std::optional<uint64_t> NewestSubLevel() const {
    std::optional<uint64_t> newest;
    for (auto it = sub_levels_.rbegin(); it != sub_levels_.rend(); ++it) {
      if (it->second.live) {
        newest = it->first;
        break;
      }
    }
    if (stored_ != nullptr) {
      // Skips the stored sub-levels emptied so far: at most one per removal.
      for (const Level& sub : stored_->l0_sub_levels()) {
        auto touched = sub_levels_.find(sub.sub_level_id());
        if (touched != sub_levels_.end() && !touched->second.live) continue;
        if (!newest || sub.sub_level_id() > *newest) newest = sub.sub_level_id();
        break;
      }
    }
    return newest;
  }

 private:
  struct SubLevel {
    int64_t size = 0;
    bool live = true;
  };

  SubLevel& Touch(uint64_t sub_level_id) {
    auto [it, inserted] = sub_levels_.try_emplace(sub_level_id);
    if (inserted) {
      const int pos = stored_ == nullptr ? -1 : FindSubLevel(*stored_, sub_level_id);
      it->second.size = pos < 0 ? 0 : stored_->l0_sub_levels(pos).table_infos_size();
    }
    return it->second;
  }

  const CompactionGroup* stored_;  // nullptr: the delta creates the group
  const VersionIndex& index_;
  uint64_t group_id_;
  std::unordered_set<uint64_t> removed_;                        // stored objects removed
  std::unordered_map<uint64_t, VersionIndex::Location> added_;  // inserted, still there
  std::map<uint64_t, SubLevel> sub_levels_;                     // the sub-levels touched, by id
};

Status ValidateGroupDelta(const HummockVersionDelta& delta, const GroupDelta& gd,
                          GroupOverlay& group, const CompactionGroup* stored) {
  const std::string where = DeltaName(delta) + ": group " + std::to_string(gd.group_id());
  // A version decoded from stored bytes may be malformed; never index past its levels.
  if (stored != nullptr && stored->levels_size() != static_cast<int>(kMaxLevel)) {
    return DataLossError(where + ": version has " + std::to_string(stored->levels_size()) +
                         " levels below L0, expected " + std::to_string(kMaxLevel));
  }
  for (uint64_t object_id : gd.removed_object_ids()) {
    if (!group.Remove(object_id)) {
      return DataLossError(where + ": removes object " + std::to_string(object_id) +
                           " which the version does not hold");
    }
  }
  for (const LevelInsert& insert : gd.inserts()) {
    if (insert.level_idx() > kMaxLevel) {
      return InvalidArgumentError(where + ": insert into level " +
                                  std::to_string(insert.level_idx()) + " above L" +
                                  std::to_string(kMaxLevel));
    }
    const VersionIndex::Location at{
        .level_idx = insert.level_idx(),
        .sub_level_id = insert.level_idx() == 0 ? insert.sub_level_id() : 0};
    for (const SstableInfo& sst : insert.inserted()) {
      // Checked one by one, so that an object inserted twice by one delta is refused too.
      if (group.Holds(sst.object_id())) {
        return InvalidArgumentError(where + ": inserts object " + std::to_string(sst.object_id()) +
                                    " which is already in the group");
      }
      group.Insert(sst.object_id(), at);
    }
    if (insert.level_idx() == 0 && insert.inserted_size() > 0) {
      std::optional<uint64_t> newest = group.NewestSubLevel();
      if (newest && insert.sub_level_id() <= *newest) {
        return InvalidArgumentError(where + ": new L0 sub-level " +
                                    std::to_string(insert.sub_level_id()) +
                                    " is not newer than sub-level " + std::to_string(*newest));
      }
      group.AddSubLevel(insert.sub_level_id(), insert.inserted_size());
    }
  }
  return Status::Ok();
}

// Removes the SSTs whose object ids are in `ids` from `level`, keeping the others' order, in one
// pass.
void RemoveFromLevel(Level* level, const std::unordered_set<uint64_t>& ids) {
  auto* ssts = level->mutable_table_infos();
  int kept = 0;
  for (int i = 0; i < ssts->size(); ++i) {
    if (ids.contains(ssts->Get(i).object_id())) continue;
    if (kept != i) ssts->SwapElements(kept, i);
    ++kept;
  }
  ssts->DeleteSubrange(kept, ssts->size() - kept);
}

}  // namespace

VersionIndex::VersionIndex(const HummockVersion& version) {
  for (const CompactionGroup& group : version.groups()) {
    auto& objects = groups_[group.group_id()];
    for (const Level& sub : group.l0_sub_levels()) {
      for (const SstableInfo& sst : sub.table_infos()) {
        objects[sst.object_id()] = {.level_idx = 0, .sub_level_id = sub.sub_level_id()};
      }
    }
    // By position, as ApplyDelta addresses L1..L6.
    for (int i = 0; i < group.levels_size(); ++i) {
      for (const SstableInfo& sst : group.levels(i).table_infos()) {
        objects[sst.object_id()] = {.level_idx = static_cast<uint32_t>(i + 1)};
      }
    }
  }
}

const VersionIndex::Location* VersionIndex::Find(uint64_t group_id, uint64_t object_id) const {
  auto group = groups_.find(group_id);
  if (group == groups_.end()) return nullptr;
  auto it = group->second.find(object_id);
  return it == group->second.end() ? nullptr : &it->second;
}

Status ValidateDelta(const HummockVersion& version, const VersionIndex& index,
                     const HummockVersionDelta& delta) {
  if (delta.prev_id() != version.id()) {
    return FailedPreconditionError(DeltaName(delta) + " follows version " +
                                   std::to_string(delta.prev_id()) + ", not version " +
                                   std::to_string(version.id()));
  }
  if (delta.id() <= delta.prev_id()) {
    return InvalidArgumentError(DeltaName(delta) + ": id is not larger than prev_id " +
                                std::to_string(delta.prev_id()));
  }
  if (delta.max_committed_epoch() < version.max_committed_epoch()) {
    return InvalidArgumentError(DeltaName(delta) + ": max committed epoch goes back from " +
                                std::to_string(version.max_committed_epoch()) + " to " +
                                std::to_string(delta.max_committed_epoch()));
  }
  if (delta.safe_epoch() < version.safe_epoch()) {
    return InvalidArgumentError(DeltaName(delta) + ": safe epoch goes back from " +
                                std::to_string(version.safe_epoch()) + " to " +
                                std::to_string(delta.safe_epoch()));
  }
  if (delta.safe_epoch() > delta.max_committed_epoch()) {
    return InvalidArgumentError(
        DeltaName(delta) + ": safe epoch " + std::to_string(delta.safe_epoch()) +
        " is above the max committed epoch " + std::to_string(delta.max_committed_epoch()));
  }
  // 0 leaves the version's all-tables epoch as it is (deltas from before the field carry 0).
  const uint64_t all_tables_epoch = delta.all_tables_committed_epoch() != 0
                                        ? delta.all_tables_committed_epoch()
                                        : version.all_tables_committed_epoch();
  if (all_tables_epoch < version.all_tables_committed_epoch()) {
    return InvalidArgumentError(DeltaName(delta) + ": the epoch every table is committed at " +
                                "goes back from " +
                                std::to_string(version.all_tables_committed_epoch()) + " to " +
                                std::to_string(all_tables_epoch));
  }
  if (all_tables_epoch > delta.max_committed_epoch()) {
    return InvalidArgumentError(DeltaName(delta) + ": the epoch every table is committed at, " +
                                std::to_string(all_tables_epoch) +
                                ", is above the max committed epoch " +
                                std::to_string(delta.max_committed_epoch()));
  }
  std::map<uint64_t, GroupOverlay> groups;
  for (const GroupDelta& gd : delta.group_deltas()) {
    const CompactionGroup* stored = FindGroup(version, gd.group_id());
    auto it = groups.try_emplace(gd.group_id(), stored, index, gd.group_id()).first;
    RWMETA_RETURN_IF_ERROR(ValidateGroupDelta(delta, gd, it->second, stored));
  }
  const auto& tables = version.state_table_info();
  std::unordered_set<uint32_t> removed_tables;
  for (uint32_t table_id : delta.removed_table_ids()) {
    if (!tables.contains(table_id) || !removed_tables.insert(table_id).second) {
      return DataLossError(DeltaName(delta) + ": removes table " + std::to_string(table_id) +
                           " which the version does not hold");
    }
  }
  for (const auto& [table_id, info] : delta.state_table_info_delta()) {
    auto it = tables.find(table_id);
    if (it != tables.end() && !removed_tables.contains(table_id)) {
      const uint64_t old_epoch = CommittedEpoch(version, it->second);
      if (info.committed_epoch() < old_epoch) {
        return InvalidArgumentError(DeltaName(delta) + ": committed epoch of table " +
                                    std::to_string(table_id) + " goes back from " +
                                    std::to_string(old_epoch) + " to " +
                                    std::to_string(info.committed_epoch()));
      }
    }
    // Else the version would show another epoch than the one the delta names.
    if (info.committed_epoch() < all_tables_epoch) {
      return InvalidArgumentError(
          DeltaName(delta) + ": committed epoch of table " + std::to_string(table_id) + ", " +
          std::to_string(info.committed_epoch()) +
          ", is below the epoch every table is committed at, " + std::to_string(all_tables_epoch));
    }
  }
  return Status::Ok();
}

void ApplyValidatedDelta(HummockVersion* version, VersionIndex* index,
                         const HummockVersionDelta& delta) {
  for (const GroupDelta& gd : delta.group_deltas()) {
    CompactionGroup* group = FindOrAddGroup(version, gd.group_id());
    auto& objects = index->groups_[gd.group_id()];
    // Removals, one pass per level they touch.
    std::map<std::pair<uint32_t, uint64_t>, std::unordered_set<uint64_t>> removals;
    for (uint64_t object_id : gd.removed_object_ids()) {
      auto it = objects.find(object_id);
      removals[{it->second.level_idx, it->second.sub_level_id}].insert(object_id);
      objects.erase(it);
    }
    for (const auto& [where, ids] : removals) {
      const auto [level_idx, sub_level_id] = where;
      if (level_idx > 0) {
        RemoveFromLevel(group->mutable_levels(static_cast<int>(level_idx - 1)), ids);
        continue;
      }
      const int pos = FindSubLevel(*group, sub_level_id);
      RemoveFromLevel(group->mutable_l0_sub_levels(pos), ids);
      // An emptied sub-level is gone; L1..L6 stay even when empty.
      if (group->l0_sub_levels(pos).table_infos_size() == 0) {
        group->mutable_l0_sub_levels()->DeleteSubrange(pos, 1);
      }
    }
    for (const LevelInsert& insert : gd.inserts()) {
      if (insert.inserted_size() == 0) continue;
      if (insert.level_idx() == 0) {
        auto* subs = group->mutable_l0_sub_levels();
        Level* added = subs->Add();
        added->set_level_idx(0);
        added->set_sub_level_id(insert.sub_level_id());
        *added->mutable_table_infos() = insert.inserted();
        // Newest first: move the new sub-level to the front.
        std::rotate(subs->pointer_begin(), subs->pointer_end() - 1, subs->pointer_end());
        for (const SstableInfo& sst : insert.inserted()) {
          objects[sst.object_id()] = {.level_idx = 0, .sub_level_id = insert.sub_level_id()};
        }
        continue;
      }
      // Sorted insert: sort the new SSTs, then merge them into the (sorted) level.
      auto* ssts =
          group->mutable_levels(static_cast<int>(insert.level_idx() - 1))->mutable_table_infos();
      const int old_size = ssts->size();
      for (const SstableInfo& sst : insert.inserted()) {
        *ssts->Add() = sst;
        objects[sst.object_id()] = {.level_idx = insert.level_idx()};
      }
      std::sort(ssts->pointer_begin() + old_size, ssts->pointer_end(), SstBefore);
      std::inplace_merge(ssts->pointer_begin(), ssts->pointer_begin() + old_size,
                         ssts->pointer_end(), SstBefore);
    }
  }
  auto* tables = version->mutable_state_table_info();
  for (uint32_t table_id : delta.removed_table_ids()) tables->erase(table_id);
  for (const auto& [table_id, info] : delta.state_table_info_delta()) (*tables)[table_id] = info;
  if (delta.all_tables_committed_epoch() != 0) {
    version->set_all_tables_committed_epoch(delta.all_tables_committed_epoch());
  }
  version->set_id(delta.id());
  version->set_max_committed_epoch(delta.max_committed_epoch());
  version->set_safe_epoch(delta.safe_epoch());
}

Status ApplyDelta(HummockVersion* version, VersionIndex* index, const HummockVersionDelta& delta) {
  RWMETA_RETURN_IF_ERROR(ValidateDelta(*version, *index, delta));
  ApplyValidatedDelta(version, index, delta);
  return Status::Ok();
}

Status ApplyDelta(HummockVersion* version, const HummockVersionDelta& delta) {
  VersionIndex index(*version);
  return ApplyDelta(version, &index, delta);
}

std::vector<uint64_t> ObjectIds(const HummockVersion& version) {
  std::set<uint64_t> ids;
  for (const CompactionGroup& group : version.groups()) {
    for (const Level& level : group.l0_sub_levels()) {
      for (const SstableInfo& sst : level.table_infos()) ids.insert(sst.object_id());
    }
    for (const Level& level : group.levels()) {
      for (const SstableInfo& sst : level.table_infos()) ids.insert(sst.object_id());
    }
  }
  return {ids.begin(), ids.end()};
}

uint64_t SstCount(const HummockVersion& version) {
  uint64_t count = 0;
  for (const LevelSize& size : LevelSizes(version)) count += size.sst_count;
  return count;
}

std::vector<LevelSize> LevelSizes(const HummockVersion& version) {
  std::vector<LevelSize> sizes;
  auto add = [&sizes](uint64_t group_id, const Level& level) {
    LevelSize size{
        .group_id = group_id, .level_idx = level.level_idx(), .sub_level_id = level.sub_level_id()};
    for (const SstableInfo& sst : level.table_infos()) {
      ++size.sst_count;
      size.size_bytes += sst.file_size();
    }
    sizes.push_back(size);
  };
  for (const CompactionGroup& group : version.groups()) {
    for (const Level& level : group.l0_sub_levels()) add(group.group_id(), level);
    for (const Level& level : group.levels()) add(group.group_id(), level);
  }
  return sizes;
}

std::optional<uint64_t> CommittedEpoch(const HummockVersion& version, uint32_t table_id) {
  auto it = version.state_table_info().find(table_id);
  if (it == version.state_table_info().end()) return std::nullopt;
  return CommittedEpoch(version, it->second);
}

uint64_t CommittedEpoch(const HummockVersion& version, const StateTableInfo& info) {
  return std::max(info.committed_epoch(), version.all_tables_committed_epoch());
}

void MaterializeCommittedEpochs(HummockVersion* version) {
  const uint64_t all_tables_epoch = version->all_tables_committed_epoch();
  for (auto& [table_id, info] : *version->mutable_state_table_info()) {
    if (info.committed_epoch() < all_tables_epoch) info.set_committed_epoch(all_tables_epoch);
  }
}

Status SerializeMaterializedTo(const HummockVersion& version,
                               const std::function<Status(uint64_t)>& on_size,
                               const std::function<Status(std::string_view)>& sink) {
  // Protobuf writes a message's fields in field-number order, then its unknown fields: the id (1),
  // each group (2) as it is, then a version holding the rest (3..6, unknown fields) with the
  // entries materialized give the bytes of the materialized copy.
  HummockVersion head;
  head.set_id(version.id());
  HummockVersion tail;
  *tail.mutable_state_table_info() = version.state_table_info();
  tail.set_max_committed_epoch(version.max_committed_epoch());
  tail.set_safe_epoch(version.safe_epoch());
  tail.set_all_tables_committed_epoch(version.all_tables_committed_epoch());
  tail.GetReflection()->MutableUnknownFields(&tail)->MergeFrom(
      version.GetReflection()->GetUnknownFields(version));
  MaterializeCommittedEpochs(&tail);
  using google::protobuf::internal::WireFormatLite;
  using google::protobuf::io::CodedOutputStream;
  const uint32_t group_tag = WireFormatLite::MakeTag(HummockVersion::kGroupsFieldNumber,
                                                     WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
  // ByteSizeLong caches every message's size, which SerializeWithCachedSizes below relies on.
  uint64_t size = head.ByteSizeLong() + tail.ByteSizeLong();
  for (const CompactionGroup& group : version.groups()) {
    const size_t n = group.ByteSizeLong();
    size += CodedOutputStream::VarintSize32(group_tag) +
            CodedOutputStream::VarintSize32(static_cast<uint32_t>(n)) + n;
  }
  RWMETA_RETURN_IF_ERROR(on_size(size));
  SinkStream stream(sink);
  bool ok = true;
  {
    google::protobuf::io::CopyingOutputStreamAdaptor adaptor(&stream, 64 * 1024);
    {
      CodedOutputStream coded(&adaptor);
      coded.SetSerializationDeterministic(true);
      head.SerializeWithCachedSizes(&coded);
      for (const CompactionGroup& group : version.groups()) {
        coded.WriteTag(group_tag);
        coded.WriteVarint32(static_cast<uint32_t>(group.GetCachedSize()));
        group.SerializeWithCachedSizes(&coded);
      }
      tail.SerializeWithCachedSizes(&coded);
      ok = !coded.HadError();
    }
    ok = ok && adaptor.Flush();
  }
  if (!ok) {
    return stream.status().ok()
               ? InternalError("protobuf serialization of " + version.GetTypeName() + " failed")
               : stream.status();
  }
  if (stream.written() != size) {
    return InternalError(fmt::format("protobuf serialization of {} gave {} bytes, not {}",
                                     version.GetTypeName(), stream.written(), size));
  }
  return Status::Ok();
}

Result<std::string> SerializeMaterialized(const HummockVersion& version) {
  std::string out;
  RWMETA_RETURN_IF_ERROR(SerializeMaterializedTo(
      version,
      [&](uint64_t size) {
        out.reserve(size);
        return Status::Ok();
      },
      [&](std::string_view piece) {
        out.append(piece);
        return Status::Ok();
      }));
  return out;
}

VersionDeltaBuilder::VersionDeltaBuilder(const HummockVersion& base) {
  delta_.set_id(base.id() + 1);
  delta_.set_prev_id(base.id());
  delta_.set_max_committed_epoch(base.max_committed_epoch());
  delta_.set_safe_epoch(base.safe_epoch());
}

GroupDelta* VersionDeltaBuilder::MutableGroup(uint64_t group_id) {
  for (GroupDelta& gd : *delta_.mutable_group_deltas()) {
    if (gd.group_id() == group_id) return &gd;
  }
  GroupDelta* gd = delta_.add_group_deltas();
  gd->set_group_id(group_id);
  return gd;
}

LevelInsert* VersionDeltaBuilder::MutableL0Insert(uint64_t group_id) {
  GroupDelta* gd = MutableGroup(group_id);
  for (LevelInsert& li : *gd->mutable_inserts()) {
    if (li.level_idx() == 0 && li.sub_level_id() == delta_.id()) return &li;
  }
  LevelInsert* insert = gd->add_inserts();
  insert->set_level_idx(0);
  insert->set_sub_level_id(delta_.id());
  return insert;
}

VersionDeltaBuilder& VersionDeltaBuilder::CommitEpoch(uint64_t epoch, uint64_t group_id,
                                                      const std::vector<SstableInfo>& ssts,
                                                      const std::vector<uint32_t>& table_ids) {
  LevelInsert* insert = MutableL0Insert(group_id);
  for (const SstableInfo& sst : ssts) {
    *insert->add_inserted() = sst;
    delta_.add_new_object_ids(sst.object_id());
  }
  for (uint32_t table_id : table_ids) {
    StateTableInfo& info = (*delta_.mutable_state_table_info_delta())[table_id];
    info.set_committed_epoch(epoch);
    info.set_compaction_group_id(group_id);
  }
  delta_.set_max_committed_epoch(std::max(delta_.max_committed_epoch(), epoch));
  return *this;
}

VersionDeltaBuilder& VersionDeltaBuilder::CommitEpochForAllTables(
    uint64_t epoch, uint64_t group_id, const std::vector<SstableInfo>& ssts) {
  CommitEpoch(epoch, group_id, ssts, {});
  delta_.set_all_tables_committed_epoch(std::max(delta_.all_tables_committed_epoch(), epoch));
  return *this;
}

VersionDeltaBuilder& VersionDeltaBuilder::Compact(uint64_t group_id,
                                                  const std::vector<uint64_t>& input_object_ids,
                                                  uint32_t target_level,
                                                  const std::vector<SstableInfo>& outputs,
                                                  bool trivial_move) {
  GroupDelta* gd = MutableGroup(group_id);
  std::set<uint64_t> inputs(input_object_ids.begin(), input_object_ids.end());
  std::set<uint64_t> output_ids;
  for (const SstableInfo& sst : outputs) output_ids.insert(sst.object_id());
  for (uint64_t id : input_object_ids) {
    gd->add_removed_object_ids(id);
    if (output_ids.count(id) == 0) delta_.add_stale_object_ids(id);
  }
  LevelInsert* insert = gd->add_inserts();
  insert->set_level_idx(target_level);
  if (target_level == 0) insert->set_sub_level_id(delta_.id());
  for (const SstableInfo& sst : outputs) {
    *insert->add_inserted() = sst;
    if (inputs.count(sst.object_id()) == 0) delta_.add_new_object_ids(sst.object_id());
  }
  if (trivial_move) delta_.set_trivial_move(true);
  return *this;
}

VersionDeltaBuilder& VersionDeltaBuilder::DropTables(const std::vector<uint32_t>& table_ids) {
  for (uint32_t table_id : table_ids) delta_.add_removed_table_ids(table_id);
  return *this;
}

VersionDeltaBuilder& VersionDeltaBuilder::SetSafeEpoch(uint64_t epoch) {
  delta_.set_safe_epoch(std::max(delta_.safe_epoch(), epoch));
  return *this;
}

}  // namespace rwmeta::hummock
