#include "meta/bootstrap.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <random>

#include "common/clock.h"
#include "common/url.h"
#include "hummock/cluster/generation.h"
#include "meta/catalog_manager.h"
#include "meta/system_params.h"
#include "metastore/system_param_names.h"

namespace rwmeta::meta {

namespace {

using metastore::Model;
using metastore::Row;

// Reported in the cluster row; reaches disk (informational only).
constexpr const char* kRwmetaVersion = "0.1.0";

}  // namespace

std::string NewUuidV4() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof(b)) != 1) {
    // OpenSSL's generator failing is unheard of; fall back to the OS source rather than fail.
    std::random_device rd;
    for (auto& c : b) c = static_cast<unsigned char>(rd());
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += fmt::format("{:02x}", b[i]);
  }
  return out;
}

Result<ClusterInfo> BootstrapCluster(metastore::MetaStore& store, const BootstrapOptions& options) {
  RWMETA_RETURN_IF_ERROR(store.Migrate());
  const auto& cluster_table = Model::Get().Table("cluster");
  ClusterInfo info;
  ParamValues persisted;
  RWMETA_RETURN_IF_ERROR(
      metastore::RunTransaction(store, [&](metastore::Transaction& txn) -> Status {
        info = ClusterInfo{};
        std::optional<Row> existing;
        RWMETA_RETURN_IF_ERROR(txn.Scan(cluster_table, [&](const Row& row) {
          existing = row;
          return Status::Ok();
        }));
        if (existing) {
          info.cluster_id = std::get<std::string>((*existing)[0]);
          info.created_at_ms = std::get<int64_t>((*existing)[1]);
          info.generation = hummock::ClusterRowGeneration(*existing);
          RWMETA_ASSIGN_OR_RETURN(persisted, ReadParamRows(txn));
          return Status::Ok();
        }
        RWMETA_ASSIGN_OR_RETURN(
            ParamValues params,
            InitialParamValues(options.state_store, options.data_directory,
                               options.backup_storage_url, options.backup_storage_directory));
        info.cluster_id = NewUuidV4();
        info.created_at_ms = UnixNowMs();
        info.created = true;
        RWMETA_RETURN_IF_ERROR(txn.Insert(
            cluster_table, Row{info.cluster_id, info.created_at_ms, std::string(kRwmetaVersion),
                               static_cast<int64_t>(info.generation)}));
        RWMETA_RETURN_IF_ERROR(WriteParamRows(txn, params));
        UserInfo root;
        root.name = kRootUserName;
        root.is_super = true;
        root.can_create_db = true;
        root.can_create_user = true;
        root.can_login = true;
        RWMETA_ASSIGN_OR_RETURN(int64_t root_id, InsertUserRows(txn, root));
        return InsertDatabaseRows(txn, kDefaultDatabaseName, root_id).status();
      }));

  if (info.created) {
    spdlog::info("cluster {} created: state store {}, data directory {}", info.cluster_id,
                 RedactUrl(options.state_store), options.data_directory);
    return info;
  }
  // Persisted immutable parameters win over options: after a restore the store is the truth.
  auto warn_if_differs = [&](const char* name, const std::string& given, bool is_url) {
    auto it = persisted.find(name);
    if (it == persisted.end() || given.empty() || it->second == given) return;
    spdlog::warn("{} {} given at startup differs from the persisted {}; using the persisted value",
                 name, is_url ? RedactUrl(given) : given,
                 is_url ? RedactUrl(it->second) : it->second);
  };
  warn_if_differs(metastore::params::kStateStore, options.state_store, true);
  warn_if_differs(metastore::params::kDataDirectory, options.data_directory, false);
  spdlog::info("cluster {} loaded from meta store {}", info.cluster_id, store.DisplayUrl());
  return info;
}

}  // namespace rwmeta::meta
