// Definitions of test_util.h (a *_test.cc file so that it is linked into backup_test only).
#include "backup/test_util.h"

#include <limits>

namespace rwmeta::backup::testing {

using metastore::ColumnType;

const metastore::Model& TestModel() {
  static const metastore::Model* model = [] {
    metastore::TableSchema kinds;
    kinds.name = "kinds";
    kinds.columns = {{"id", ColumnType::kInt64},      {"d", ColumnType::kDouble, true},
                     {"b", ColumnType::kBool, true},  {"t", ColumnType::kText, true},
                     {"y", ColumnType::kBytes, true}, {"j", ColumnType::kJson, true}};
    kinds.primary_key = {"id"};
    metastore::TableSchema runtime;
    runtime.name = "runtime";
    runtime.columns = {{"id", ColumnType::kInt64}};
    runtime.primary_key = {"id"};
    runtime.in_snapshot = false;
    metastore::TableSchema empty;
    empty.name = "empty";
    empty.columns = {{"k", ColumnType::kText}};
    empty.primary_key = {"k"};
    return new metastore::Model(1, {kinds, runtime, empty});
  }();
  return *model;
}

hummock::HummockVersion MakeVersion(uint64_t id, const std::vector<uint64_t>& object_ids,
                                    uint64_t epoch) {
  hummock::HummockVersion v;
  v.set_id(id);
  v.set_max_committed_epoch(epoch);
  v.set_safe_epoch(epoch / 2);
  auto* group = v.add_groups();
  group->set_group_id(2);
  auto* l0 = group->add_l0_sub_levels();
  l0->set_level_idx(0);
  l0->set_sub_level_id(id);
  for (uint32_t level = 1; level <= 6; ++level) group->add_levels()->set_level_idx(level);
  for (size_t i = 0; i < object_ids.size(); ++i) {
    hummock::SstableInfo* sst =
        i % 2 == 0 ? l0->add_table_infos() : group->mutable_levels(0)->add_table_infos();
    sst->set_object_id(object_ids[i]);
    sst->set_sst_id(object_ids[i]);
    sst->set_file_size(1000 + i);
    sst->set_smallest_key("a" + std::to_string(i));
    sst->set_largest_key("z" + std::to_string(i));
  }
  for (uint32_t table_id : {1001u, 1002u}) {
    hummock::StateTableInfo info;
    info.set_committed_epoch(epoch);
    info.set_compaction_group_id(2);
    (*v.mutable_state_table_info())[table_id] = info;
  }
  return v;
}

std::vector<metastore::Row> InterestingRows() {
  using std::monostate;
  return {
      {int64_t{std::numeric_limits<int64_t>::min()}, -1.5, true, std::string("plain"),
       std::string("\0\x01\xff", 3), std::string(R"({"a":[1,2]})")},
      {int64_t{-1}, monostate{}, monostate{}, monostate{}, monostate{}, monostate{}},
      {int64_t{0}, 0.0, false, std::string(""), std::string(""), std::string("null")},
      {int64_t{7}, std::numeric_limits<double>::infinity(), true,
       std::string("h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80"),
       std::string(1000, '\0'), monostate{}},
      {int64_t{std::numeric_limits<int64_t>::max()}, 1e308, false, std::string(5000, 'x'),
       std::string("\x00\x00", 2), std::string("{}")},
  };
}

Status NoCasObjectStore::Put(std::string_view key, std::string_view data,
                             const objstore::PutOptions& options) {
  if (options.if_none_match || options.if_match_etag) {
    return UnimplementedError("memory-nocas: conditional put is not supported");
  }
  return inner_.Put(key, data);
}

Result<std::unique_ptr<objstore::ObjectWriter>> NoCasObjectStore::OpenWriter(
    std::string_view key, const objstore::PutOptions& options) {
  if (options.if_none_match || options.if_match_etag) {
    return UnimplementedError("memory-nocas: conditional writers are not supported");
  }
  return inner_.OpenWriter(key);
}

}  // namespace rwmeta::backup::testing
