// System catalogs: the rw_catalog, pg_catalog and information_schema relations, built per query as
// sql::MemoryRelation from one CatalogSnapshot, and the sql::QueryContext that resolves names
// (system catalogs, user tables, views) through the session's search path.
//
// Object ids are the meta store's: pg_class.oid = rw_tables.id = the object's oid, pg_namespace.oid
// = the schema id, pg_database.oid = the database id, pg_roles.oid = the user id. Tables, views and
// schemas are those of the session's database; databases and users are cluster-wide.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backup/manifest.h"
#include "common/status.h"
#include "frontend/sql/executor.h"
#include "hummock/epoch.h"
#include "meta/catalog_manager.h"
#include "meta/system_params.h"
#include "proto/hummock.pb.h"

namespace rwmeta::frontend {

class TableData;

// The cluster the meta node serves, for rw_catalog.rw_cluster_info (risectl meta cluster-info's
// facts). URLs are already redacted.
struct ClusterIdentity {
  std::string cluster_id;
  int64_t created_at_ms = 0;
  // hummock/cluster/generation.h: 1 until the first restore.
  uint64_t generation = 1;
  int64_t generation_started_at_ms = 0;
  // The meta snapshot whose restore began the generation; 0 for the first generation.
  uint64_t restored_snapshot_id = 0;
  std::string rwmeta_version;
  std::string meta_store_backend;
  std::string state_store;
};

// What the catalogs need to know about the session asking.
struct CatalogSessionInfo {
  std::string user;
  std::string database;
  // The search_path setting as the user wrote it, parsed into names ("$user", "public").
  std::vector<std::string> search_path;
  // Session variables, for pg_settings.
  std::map<std::string, std::string> settings;
  // System parameters, for rw_catalog.rw_system_parameters (nullptr: none).
  const meta::ParamValues* params = nullptr;
  // For rw_catalog.rw_cluster_info (nullptr: the catalog has no rows).
  const ClusterIdentity* cluster = nullptr;
  // Where table rows live (nullptr: tables resolve to no rows, for catalog-only tests).
  TableData* table_data = nullptr;
  // Read the state store's write buffers too (DML and materialized-view refreshes).
  bool uncommitted_reads = false;
  // The table a DML statement changes: it resolves with a leading "_rw_key" column.
  int64_t dml_target_id = 0;
  // The meta snapshots of the current backup location, in manifest order, for
  // rw_catalog.rw_meta_snapshot (empty function: the catalog answers 0A000 when scanned).
  std::function<Result<backup::Manifest>()> meta_snapshots;
  // The details (state table info) of one of those snapshots: BackupManager::SnapshotDetails.
  std::function<Result<std::shared_ptr<const backup::SnapshotDetails>>(
      const backup::SnapshotMetadata&)>
      meta_snapshot_details;
  // SET QUERY_EPOCH: when non-zero, user tables and materialized views read as of the meta
  // snapshot whose state_table_info has the table committed at exactly this epoch (system
  // catalogs stay live).
  uint64_t query_epoch = 0;
  // That snapshot's Hummock version for (table id, epoch): BackupManager::VersionForEpoch. Empty:
  // reads under a non-zero query_epoch answer 0A000.
  std::function<Result<std::shared_ptr<const hummock::HummockVersion>>(uint32_t table_id,
                                                                       uint64_t epoch)>
      snapshot_version;
};

// The Unix time in microseconds of an epoch's physical part: epochs are made by hummock::NextEpoch
// as (milliseconds since 2021-01-01T00:00:00Z) << 16 (RisingWave counts from 2021-04-01; ours does
// not). nullopt for epoch 0 (no epoch).
std::optional<int64_t> EpochToUnixMicros(uint64_t epoch);

// The schemas holding system catalogs: "pg_catalog", "rw_catalog", "information_schema".
bool IsSystemSchema(std::string_view schema);

// Builds the system relation `schema`.`name`; nullptr if there is no such system catalog.
std::shared_ptr<sql::Relation> BuildSystemRelation(const meta::CatalogSnapshot& snapshot,
                                                   const CatalogSessionInfo& session,
                                                   std::string_view schema, std::string_view name);

// The schemas a one-part name is looked up in, in order: pg_catalog and rw_catalog first (unless
// listed explicitly), then the search path with "$user" replaced by the user name; schemas that
// do not exist in the session's database are left out (system schemas always count).
std::vector<std::string> EffectiveSearchPath(const meta::CatalogSnapshot& snapshot,
                                             const CatalogSessionInfo& session);

// A QueryContext over one snapshot. Not thread-safe; lives for one statement.
class CatalogQueryContext : public sql::QueryContext {
 public:
  // `params`: the bound parameters of the extended protocol (empty otherwise). REQUIRES: both
  // outlive the context.
  CatalogQueryContext(std::shared_ptr<const meta::CatalogSnapshot> snapshot,
                      const CatalogSessionInfo& session,
                      const std::vector<std::optional<std::string>>& params)
      : snapshot_(std::move(snapshot)), session_(session), params_(params) {}

  // NotFound 42P01 for unknown names, 3F000 for an unknown schema, 0A000 for another database.
  // User tables and materialized views resolve to their rows in the state store (see
  // CatalogSessionInfo::table_data).
  Result<sql::ResolvedRelation> ResolveRelation(const std::vector<std::string>& name) override;
  std::string CurrentUser() const override { return session_.user; }
  std::string CurrentDatabase() const override { return session_.database; }
  std::vector<std::string> SearchPath() const override;
  std::string UserNameById(int64_t user_id) const override;
  bool TableIsVisible(int64_t oid) const override;
  Result<std::optional<std::string>> Parameter(int n) const override;
  int ParameterCount() const override { return static_cast<int>(params_.size()); }

  // The ids of the user tables and views resolved so far (a view's dependencies).
  const std::vector<int64_t>& resolved_ids() const { return resolved_ids_; }

 private:
  // The relation named `name` in schema `schema` of the session's database, or nullopt.
  std::optional<sql::ResolvedRelation> Lookup(const std::string& schema, const std::string& name);

  std::shared_ptr<const meta::CatalogSnapshot> snapshot_;
  const CatalogSessionInfo& session_;
  const std::vector<std::optional<std::string>>& params_;
  std::vector<int64_t> resolved_ids_;
};

}  // namespace rwmeta::frontend
