#include "restore/restore_internal.h"

#include <fmt/format.h>

#include <algorithm>

#include "hummock/names.h"
#include "objstore/key.h"

namespace rwmeta::restore::internal {

std::string JoinIds(const std::vector<uint64_t>& ids, size_t limit) {
  std::string out;
  for (size_t i = 0; i < ids.size() && i < limit; ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(ids[i]);
  }
  if (ids.size() > limit) out += fmt::format(", ... ({} in all)", ids.size());
  return out;
}

Result<backup::SnapshotMetadata> FindSnapshot(const backup::Manifest& manifest, uint64_t id,
                                              std::string_view where) {
  if (const backup::SnapshotMetadata* entry = manifest.Find(id)) return *entry;
  std::vector<uint64_t> ids;
  for (const auto& s : manifest.snapshots) ids.push_back(s.id);
  std::sort(ids.begin(), ids.end());
  return NotFoundError(
      fmt::format("meta snapshot {} not found in {}: {}", id, where,
                  ids.empty() ? std::string("it lists no snapshots (is the location right?)")
                              : "it lists snapshots " + JoinIds(ids)));
}

Status CheckAgainstEntry(const backup::SnapshotContents& c, const backup::SnapshotMetadata& entry,
                         const std::string& object) {
  if (c.snapshot_id != entry.id || c.size_bytes != entry.size_bytes ||
      c.checksum != entry.checksum || c.version.id() != entry.hummock_version_id) {
    return DataLossError(fmt::format(
        "{}: the object does not match its manifest entry (id {} vs {}, size {} vs {}, checksum "
        "{:016x} vs {:016x}, hummock version {} vs {})",
        object, c.snapshot_id, entry.id, c.size_bytes, entry.size_bytes, c.checksum, entry.checksum,
        c.version.id(), entry.hummock_version_id));
  }
  return Status::Ok();
}

Result<std::vector<uint64_t>> ListSstObjectIds(objstore::ObjectStore& state_store,
                                               std::string_view directory) {
  RWMETA_ASSIGN_OR_RETURN(std::vector<objstore::ObjectMeta> objects,
                          state_store.List(objstore::DirectoryPrefix(directory)));
  std::vector<uint64_t> ids;
  for (const objstore::ObjectMeta& o : objects) {
    if (std::optional<uint64_t> id = hummock::ParseSstObjectKey(directory, o.key)) {
      ids.push_back(*id);
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

metastore::Row RowForModel(const metastore::TableSchema& table, const metastore::Row& row) {
  metastore::Row out = row;
  out.resize(table.columns.size());
  return out;
}

Status ParentFirstObjects::Add(metastore::Row row, const Insert& insert) {
  if (!ParentsIn(row)) {
    waiting_.push_back(std::move(row));
    return Status::Ok();
  }
  RWMETA_RETURN_IF_ERROR(InsertOne(row, insert));
  // Rows that waited for this one (or for each other).
  for (bool progress = true; progress && !waiting_.empty();) {
    progress = false;
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (!ParentsIn(*it)) {
        ++it;
        continue;
      }
      RWMETA_RETURN_IF_ERROR(InsertOne(*it, insert));
      it = waiting_.erase(it);
      progress = true;
    }
  }
  return Status::Ok();
}

Status ParentFirstObjects::Flush(const Insert& insert) {
  std::vector<metastore::Row> rows = std::move(waiting_);
  waiting_.clear();
  for (const metastore::Row& row : rows) RWMETA_RETURN_IF_ERROR(InsertOne(row, insert));
  return Status::Ok();
}

Status ParentFirstObjects::InsertOne(const metastore::Row& row, const Insert& insert) {
  RWMETA_RETURN_IF_ERROR(insert(row));
  // Only databases and schemas are parents: remembering just their oids keeps memory flat as the
  // number of tables grows.
  const auto* type = std::get_if<std::string>(&row[object_.ColumnIndex("obj_type")]);
  if (type != nullptr && (*type == "database" || *type == "schema")) {
    if (const auto* oid = std::get_if<int64_t>(&row[0])) inserted_oids_.insert(*oid);
  }
  return Status::Ok();
}

bool ParentFirstObjects::ParentsIn(const metastore::Row& row) const {
  const auto* self = std::get_if<int64_t>(&row[0]);
  for (const char* column : {"database_id", "schema_id"}) {
    const auto* parent = std::get_if<int64_t>(&row[object_.ColumnIndex(column)]);
    if (parent != nullptr && (self == nullptr || *parent != *self) &&
        !inserted_oids_.contains(*parent)) {
      return false;
    }
  }
  return true;
}

}  // namespace rwmeta::restore::internal
