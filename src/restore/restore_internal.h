// What restore-meta (restore.cc) and the restore drill (drill.cc) share: finding a snapshot in the
// manifest, checking what was read against its entry, listing the state store's SSTs, and putting a
// snapshot's rows into a meta store the way restore does. Internal to src/restore.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "backup/manifest.h"
#include "backup/snapshot_format.h"
#include "common/status.h"
#include "metastore/model.h"
#include "objstore/object_store.h"

namespace rwmeta::restore::internal {

// "1, 2, 3" with at most `limit` ids, then ", ... (N in all)".
std::string JoinIds(const std::vector<uint64_t>& ids, size_t limit = 20);

// The manifest's entry for snapshot `id`, or NotFound naming `where` (the backup location) and the
// ids the manifest lists.
Result<backup::SnapshotMetadata> FindSnapshot(const backup::Manifest& manifest, uint64_t id,
                                              std::string_view where);

// DataLoss naming `object` unless what was read (`contents`) is what the manifest entry describes:
// snapshot id, size, checksum, Hummock version id.
Status CheckAgainstEntry(const backup::SnapshotContents& contents,
                         const backup::SnapshotMetadata& entry, const std::string& object);

// Object ids of the SST objects under `directory` of the state store, ascending and distinct (a
// vector: a fifth of a set's memory for the same ids; look one up with std::binary_search): one
// List, parsed with hummock::ParseSstObjectKey (the rule full GC uses). The store's error
// otherwise.
Result<std::vector<uint64_t>> ListSstObjectIds(objstore::ObjectStore& state_store,
                                               std::string_view directory);

// `row` as a row of `table` (this build's model): a snapshot of an older model has fewer columns,
// and the newer ones are nullable (model.h's rules), so they are NULL.
// REQUIRES: the snapshot's table passed backup::CheckTableAgainstModel.
metastore::Row RowForModel(const metastore::TableSchema& table, const metastore::Row& row);

// Puts the rows of table `object` into a store whose inserts check foreign keys, parents first.
// Rows come in oid order, but a row's database_id/schema_id may name a larger oid (an object moved
// to a newer schema; RisingWave #19791): such a row waits until its parents are in. Memory: the
// oids of the databases and schemas inserted (the only parents) and the rows waiting, not every
// object's. Not thread-safe.
class ParentFirstObjects {
 public:
  using Insert = std::function<Status(const metastore::Row&)>;

  // REQUIRES: `object` is the model's object table and outlives this.
  explicit ParentFirstObjects(const metastore::TableSchema& object) : object_(object) {}

  // Inserts `row` with `insert` if its parents are in (then every waiting row whose parents now
  // are), else keeps it waiting. Returns the first error of `insert`.
  Status Add(metastore::Row row, const Insert& insert);

  // Inserts the rows whose parents never came, in arrival order (the store's insert then says
  // which foreign key fails). Returns the first error of `insert`.
  Status Flush(const Insert& insert);

 private:
  bool ParentsIn(const metastore::Row& row) const;
  Status InsertOne(const metastore::Row& row, const Insert& insert);

  const metastore::TableSchema& object_;
  std::set<int64_t> inserted_oids_;
  std::vector<metastore::Row> waiting_;
};

}  // namespace rwmeta::restore::internal
