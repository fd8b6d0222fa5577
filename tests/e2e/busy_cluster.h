// Helpers for the meta-snapshot end-to-end tests (cross_backend_test.cc, s3_backup_test.cc): a
// cluster busy with every kind of catalog object and data, a meta snapshot of it, changes after the
// snapshot, the cluster's whole observable state as text, and restore-meta into another meta store.
//
// Everything goes through the operator's tools (meta-node, psql, risectl), except DumpCatalogRows,
// which reads the meta store in-process.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "e2e/process.h"
#include "metastore/endpoint.h"

namespace rwmeta::e2e {

// A meta store spelled as meta-node's --backend flags and risectl's --meta-store-type flags (the
// same RisingWave spelling; metastore::MetaStoreEndpoint holds both).
struct MetaStoreSpec {
  std::string label;  // "sqlite", "postgres", "mysql", "etcd", "etcd+auth": for messages
  metastore::MetaStoreEndpoint endpoint;

  // meta-node flags: --backend TYPE --sql-endpoint ... / --etcd-endpoints ... [--etcd-auth ...].
  std::vector<std::string> NodeFlags() const;
  // risectl flags: --meta-store-type TYPE --sql-endpoint ... / --etcd-endpoints ... [--etcd-auth].
  std::vector<std::string> RisectlFlags() const;
  // The meta-store URL (metastore::BuildMetaStoreUrl), for opening the store in-process.
  Result<std::string> Url() const;
};

// Where a cluster keeps its state store and its meta snapshots. URLs are object-store URLs
// (fs:///dir, minio://key:secret@host:port/bucket); the state store is `hummock+<state_url>`.
struct StorageSpec {
  std::string state_url;
  std::string data_directory = "hummock_001";
  std::string backup_url;
  std::string backup_directory = "backup";
};

// meta-node flags for a cluster on `store` and `storage` (state store, backup location, a short
// state-store lease so a restart after a crash does not wait long).
std::vector<std::string> NodeArgs(const MetaStoreSpec& store, const StorageSpec& storage);

// Starts meta-node in `work_dir` on `store` and `storage`.
Result<std::unique_ptr<MetaNodeProcess>> StartNode(const std::string& work_dir,
                                                   const MetaStoreSpec& store,
                                                   const StorageSpec& storage);

// psql against `port` as `user` on `db`, NULL shown as "NULL"; exit code other than 0 is an
// Internal error with psql's stderr and the statement.
Result<std::string> Sql(int port, const std::string& sql, const std::string& db = "dev",
                        const std::string& user = "root", const std::string& password = "");

// Labelled queries, run in order.
using Queries = std::vector<std::pair<std::string, std::string>>;
// Runs every query of `queries` in ONE psql as root on `db` and returns label -> output (as Sql
// shows it). Internal with psql's stderr when one fails.
Result<std::map<std::string, std::string>> SqlBatch(int port, const std::string& db,
                                                    const Queries& queries);

// risectl with `args`, RW_META_ADDR set to `meta_addr` if not empty.
Result<CommandResult> Risectl(const std::vector<std::string>& args,
                              const std::string& meta_addr = "");

// Makes the cluster busy: system parameters altered; databases dev and analytics, a schema ops;
// users alice and bob with passwords and grants; a secret; a table `typed` with every column type
// and 300 rows (NULLs, unicode, extremes), a table without primary key, a view, an index and
// materialized views; then FLUSH. `rows` scales the number of rows of `typed`.
Status MakeBusyCluster(int port, int rows = 300);

// Changes every part MakeBusyCluster made (rows added, deleted and updated, a table dropped, a
// table and a database created, a grant revoked, the secret dropped, a user created, a parameter
// altered), then FLUSH. None of it may survive a restore of a snapshot taken before.
Status ChangeAfterSnapshot(int port);

// The cluster's observable state, label -> text: rw_catalog and pg_catalog listings of every
// database (databases, schemas, tables, columns, users, privileges, views, materialized views,
// indexes, secrets), SHOW PARAMETERS, every row of every user table and materialized view
// (ORDER BY every column), the cluster id and creation time (risectl meta cluster-info, labels
// "Cluster ID:" and "Created at:") and what alice sees when she
// logs in with her password.
using ClusterState = std::map<std::string, std::string>;
Result<ClusterState> CaptureState(const MetaNodeProcess& node);

// Takes a meta snapshot of the cluster `node` runs with SQL `BACKUP` (which returns when the job
// finished) and returns its id, checking that rw_catalog.rw_meta_snapshot lists it.
Result<uint64_t> TakeSnapshot(const MetaNodeProcess& node);

// risectl meta restore-meta of snapshot `id` from `storage`'s backup location into `target`, the
// state store staying where it is.
std::vector<std::string> RestoreArgs(uint64_t id, const MetaStoreSpec& target,
                                     const StorageSpec& storage);

// The rows of the catalog tables of the meta store (cluster, system parameters, users, objects,
// databases, schemas, tables, views, indexes, secrets, dependencies, privileges, catalog
// versions), read in-process: label "meta store table <name>" -> one line per row. Privileges and
// secrets are not visible through SQL, so this is where a restore shows it kept them. The
// `cluster` row leaves out its `generation`, which every restore raises.
Result<ClusterState> DumpCatalogRows(const MetaStoreSpec& store);

// New DDL and DML on a restored cluster (a MakeBusyCluster one): a new table with rows, rows added
// to and updated in `typed`, a new user and database; checks the answers (exact rows), that the
// materialized view follows, and that the new table's id is above every id the restored catalog
// holds (no id reused). Returns the first mismatch as Internal.
Status CheckNewWorkOnRestored(int port);

}  // namespace rwmeta::e2e
