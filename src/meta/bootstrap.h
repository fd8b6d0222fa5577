// Cluster bootstrap: brings a meta store to the model's schema and, on the first start, writes the
// cluster's initial state in one transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "metastore/meta_store.h"

namespace rwmeta::meta {

struct BootstrapOptions {
  // "hummock+fs:///data", "hummock+memory", ... Persisted as the immutable `state_store`.
  std::string state_store;
  // Persisted as the immutable `data_directory`.
  std::string data_directory;
  // Override the derived backup location on the first start only (later starts keep the
  // persisted values, which ALTER SYSTEM changes).
  std::optional<std::string> backup_storage_url;
  std::optional<std::string> backup_storage_directory;
};

struct ClusterInfo {
  // Random UUID v4, fixed at the first start: "0b0e5a5c-3f0e-4c1b-9a5e-2f0f3c1e7d42".
  std::string cluster_id;
  int64_t created_at_ms = 0;
  // Which generation of the cluster this meta store is (src/hummock/cluster/generation.h): 1 at
  // the first start, raised by every restore.
  uint64_t generation = 1;
  // True if this call created the cluster.
  bool created = false;
};

// Name of the superuser created on the first start (no password).
inline constexpr const char* kRootUserName = "root";
// Name of the database created on the first start, owned by root.
inline constexpr const char* kDefaultDatabaseName = "dev";

// Runs Migrate, then:
// - first start (no `cluster` row): in ONE transaction writes the cluster row (random UUID v4),
//   the system parameters (InitialParamValues from `options`), the superuser `root`, the database
//   `dev` owned by root and its schemas `public`, `pg_catalog`, `rw_catalog`, `information_schema`;
// - later starts: loads the cluster row; a persisted immutable parameter that disagrees with
//   `options` is logged as a warning and the persisted value wins.
// Errors: InvalidArgument for bad options on the first start; store errors pass through.
// Thread-compatible: run once per process before serving.
Result<ClusterInfo> BootstrapCluster(metastore::MetaStore& store, const BootstrapOptions& options);

// A random UUID version 4 in canonical lower-case text form.
std::string NewUuidV4();

}  // namespace rwmeta::meta
