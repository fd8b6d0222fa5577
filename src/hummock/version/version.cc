#include "hummock/version/version.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <set>
#include <string>

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

Status SerializeDeterministicTo(const google::protobuf::Message& message,
                                const std::function<Status(uint64_t)>& on_size,
                                const std::function<Status(std::string_view)>& sink) {
  const uint64_t size = message.ByteSizeLong();
  RWMETA_RETURN_IF_ERROR(on_size(size));
  SinkStream stream(sink);
  {
    google::protobuf::io::CopyingOutputStreamAdaptor adaptor(&stream, 64 * 1024);
    {
      google::protobuf::io::CodedOutputStream coded(&adaptor);
      coded.SetSerializationDeterministic(true);
      // The sizes ByteSizeLong cached just above.
      message.SerializeWithCachedSizes(&coded);
      if (coded.HadError()) {
        return stream.status().ok()
                   ? InternalError("protobuf serialization of " + message.GetTypeName() + " failed")
                   : stream.status();
      }
    }
    if (!adaptor.Flush()) {
      return stream.status().ok()
                 ? InternalError("protobuf serialization of " + message.GetTypeName() + " failed")
                 : stream.status();
    }
  }
  if (stream.written() != size) {
    return InternalError(fmt::format("protobuf serialization of {} gave {} bytes, not {}",
                                     message.GetTypeName(), stream.written(), size));
  }
  return Status::Ok();
}

namespace {

std::string DeltaName(const HummockVersionDelta& delta) {
  return "version delta " + std::to_string(delta.id());
}

CompactionGroup* FindOrAddGroup(HummockVersion* version, uint64_t group_id) {
  auto* groups = version->mutable_groups();
  auto it =
      std::lower_bound(groups->begin(), groups->end(), group_id,
                       [](const CompactionGroup& g, uint64_t id) { return g.group_id() < id; });
  if (it != groups->end() && it->group_id() == group_id) return &*it;
  // Keep groups sorted by id: append, then rotate the new group into place.
  size_t pos = static_cast<size_t>(it - groups->begin());
  CompactionGroup* added = groups->Add();
  added->set_group_id(group_id);
  for (uint32_t i = 1; i <= kMaxLevel; ++i) added->add_levels()->set_level_idx(i);
  for (size_t i = static_cast<size_t>(groups->size()) - 1; i > pos; --i) {
    groups->SwapElements(static_cast<int>(i), static_cast<int>(i - 1));
  }
  return groups->Mutable(static_cast<int>(pos));
}

// Removes the SST with `object_id` from any level of `group`. Returns whether it was there.
bool RemoveObject(CompactionGroup* group, uint64_t object_id) {
  auto remove_from = [object_id](Level* level) {
    auto* ssts = level->mutable_table_infos();
    for (int i = 0; i < ssts->size(); ++i) {
      if (ssts->Get(i).object_id() == object_id) {
        ssts->DeleteSubrange(i, 1);
        return true;
      }
    }
    return false;
  };
  auto* sub_levels = group->mutable_l0_sub_levels();
  for (int i = 0; i < sub_levels->size(); ++i) {
    if (remove_from(sub_levels->Mutable(i))) {
      // An emptied sub-level is gone; L1..L6 stay even when empty.
      if (sub_levels->Get(i).table_infos_size() == 0) sub_levels->DeleteSubrange(i, 1);
      return true;
    }
  }
  for (Level& level : *group->mutable_levels()) {
    if (remove_from(&level)) return true;
  }
  return false;
}

bool GroupHasObject(const CompactionGroup& group, uint64_t object_id) {
  auto has = [object_id](const Level& level) {
    return std::any_of(level.table_infos().begin(), level.table_infos().end(),
                       [object_id](const SstableInfo& s) { return s.object_id() == object_id; });
  };
  return std::any_of(group.l0_sub_levels().begin(), group.l0_sub_levels().end(), has) ||
         std::any_of(group.levels().begin(), group.levels().end(), has);
}

Status ApplyGroupDelta(const HummockVersionDelta& delta, const GroupDelta& gd,
                       HummockVersion* version) {
  CompactionGroup* group = FindOrAddGroup(version, gd.group_id());
  const std::string where = DeltaName(delta) + ": group " + std::to_string(gd.group_id());
  // A version decoded from stored bytes may be malformed; never index past its levels.
  if (group->levels_size() != static_cast<int>(kMaxLevel)) {
    return DataLossError(where + ": version has " + std::to_string(group->levels_size()) +
                         " levels below L0, expected " + std::to_string(kMaxLevel));
  }
  for (uint64_t object_id : gd.removed_object_ids()) {
    if (!RemoveObject(group, object_id)) {
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
    for (const SstableInfo& sst : insert.inserted()) {
      if (GroupHasObject(*group, sst.object_id())) {
        return InvalidArgumentError(where + ": inserts object " + std::to_string(sst.object_id()) +
                                    " which is already in the group");
      }
    }
    if (insert.level_idx() == 0) {
      if (insert.inserted_size() == 0) continue;
      if (group->l0_sub_levels_size() > 0 &&
          insert.sub_level_id() <= group->l0_sub_levels(0).sub_level_id()) {
        return InvalidArgumentError(where + ": new L0 sub-level " +
                                    std::to_string(insert.sub_level_id()) +
                                    " is not newer than sub-level " +
                                    std::to_string(group->l0_sub_levels(0).sub_level_id()));
      }
      Level* added = group->add_l0_sub_levels();
      added->set_level_idx(0);
      added->set_sub_level_id(insert.sub_level_id());
      *added->mutable_table_infos() = insert.inserted();
      // Newest first: move the new sub-level to the front.
      for (int i = group->l0_sub_levels_size() - 1; i > 0; --i) {
        group->mutable_l0_sub_levels()->SwapElements(i, i - 1);
      }
      continue;
    }
    Level* level = group->mutable_levels(static_cast<int>(insert.level_idx() - 1));
    for (const SstableInfo& sst : insert.inserted()) *level->add_table_infos() = sst;
    std::sort(level->mutable_table_infos()->begin(), level->mutable_table_infos()->end(),
              [](const SstableInfo& a, const SstableInfo& b) {
                if (a.smallest_key() != b.smallest_key())
                  return a.smallest_key() < b.smallest_key();
                return a.sst_id() < b.sst_id();
              });
  }
  return Status::Ok();
}

}  // namespace

Status ApplyDelta(HummockVersion* version, const HummockVersionDelta& delta) {
  if (delta.prev_id() != version->id()) {
    return FailedPreconditionError(DeltaName(delta) + " follows version " +
                                   std::to_string(delta.prev_id()) + ", not version " +
                                   std::to_string(version->id()));
  }
  if (delta.id() <= delta.prev_id()) {
    return InvalidArgumentError(DeltaName(delta) + ": id is not larger than prev_id " +
                                std::to_string(delta.prev_id()));
  }
  if (delta.max_committed_epoch() < version->max_committed_epoch()) {
    return InvalidArgumentError(DeltaName(delta) + ": max committed epoch goes back from " +
                                std::to_string(version->max_committed_epoch()) + " to " +
                                std::to_string(delta.max_committed_epoch()));
  }
  if (delta.safe_epoch() < version->safe_epoch()) {
    return InvalidArgumentError(DeltaName(delta) + ": safe epoch goes back from " +
                                std::to_string(version->safe_epoch()) + " to " +
                                std::to_string(delta.safe_epoch()));
  }
  if (delta.safe_epoch() > delta.max_committed_epoch()) {
    return InvalidArgumentError(
        DeltaName(delta) + ": safe epoch " + std::to_string(delta.safe_epoch()) +
        " is above the max committed epoch " + std::to_string(delta.max_committed_epoch()));
  }
  // Work on a copy so that a failing delta leaves the version untouched.
  HummockVersion next = *version;
  for (const GroupDelta& gd : delta.group_deltas()) {
    RWMETA_RETURN_IF_ERROR(ApplyGroupDelta(delta, gd, &next));
  }
  auto* tables = next.mutable_state_table_info();
  for (uint32_t table_id : delta.removed_table_ids()) {
    if (tables->erase(table_id) == 0) {
      return DataLossError(DeltaName(delta) + ": removes table " + std::to_string(table_id) +
                           " which the version does not hold");
    }
  }
  for (const auto& [table_id, info] : delta.state_table_info_delta()) {
    auto it = tables->find(table_id);
    if (it != tables->end() && info.committed_epoch() < it->second.committed_epoch()) {
      return InvalidArgumentError(DeltaName(delta) + ": committed epoch of table " +
                                  std::to_string(table_id) + " goes back from " +
                                  std::to_string(it->second.committed_epoch()) + " to " +
                                  std::to_string(info.committed_epoch()));
    }
    (*tables)[table_id] = info;
  }
  next.set_id(delta.id());
  next.set_max_committed_epoch(delta.max_committed_epoch());
  next.set_safe_epoch(delta.safe_epoch());
  version->Swap(&next);
  return Status::Ok();
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
  return it->second.committed_epoch();
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

VersionDeltaBuilder& VersionDeltaBuilder::CommitEpoch(uint64_t epoch, uint64_t group_id,
                                                      const std::vector<SstableInfo>& ssts,
                                                      const std::vector<uint32_t>& table_ids) {
  GroupDelta* gd = MutableGroup(group_id);
  LevelInsert* insert = nullptr;
  for (LevelInsert& li : *gd->mutable_inserts()) {
    if (li.level_idx() == 0 && li.sub_level_id() == delta_.id()) insert = &li;
  }
  if (insert == nullptr) {
    insert = gd->add_inserts();
    insert->set_level_idx(0);
    insert->set_sub_level_id(delta_.id());
  }
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
