#include "server/meta_node.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "common/url.h"
#include "frontend/session.h"
#include "frontend/table_data.h"
#include "hummock/cluster/generation.h"
#include "hummock/cluster/state_store_guard.h"
#include "hummock/store/checkpoint_loop.h"
#include "hummock/store/hummock_manager.h"
#include "hummock/store/maintenance.h"
#include "hummock/store/state_store.h"
#include "meta/backup_manager.h"
#include "meta/bootstrap.h"
#include "meta/catalog_manager.h"
#include "meta/system_params.h"
#include "metastore/factory.h"
#include "metastore/system_param_names.h"
#include "objstore/factory.h"
#include "pgwire/server.h"
#include "rpc/meta_backend.h"
#include "rpc/rpc_server.h"
#include "server/backup_service.h"
#include "server/hummock_service.h"

namespace rwmeta::server {

namespace {

constexpr const char* kVersion = "0.1.0";

// The gRPC admin API's view of the meta layer.
class NodeMetaBackend : public rpc::MetaBackend {
 public:
  NodeMetaBackend(rpc::ClusterInfo info, meta::SystemParamsManager& params)
      : info_(std::move(info)), params_(params), started_(std::chrono::steady_clock::now()) {}

  Result<rpc::ClusterInfo> GetClusterInfo() override {
    rpc::ClusterInfo info = info_;
    info.uptime_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::steady_clock::now() - started_)
                                               .count());
    return info;
  }

  Result<std::vector<rpc::ParamInfo>> GetSystemParams() override {
    std::vector<rpc::ParamInfo> out;
    for (const auto& row : params_.Display()) {
      out.push_back({row.name, row.value, row.is_mutable, row.description});
    }
    return out;
  }

  Result<rpc::SetParamResult> SetSystemParam(const std::string& name,
                                             const std::string& value) override {
    std::vector<std::string> notices;
    RWMETA_ASSIGN_OR_RETURN(bool changed, params_.Set(name, value, &notices));
    for (const auto& row : params_.Display()) {
      if (row.name == name) {
        rpc::SetParamResult result{{row.name, row.value, row.is_mutable, row.description}, ""};
        if (!changed) notices.push_back(fmt::format("{} already had that value", name));
        for (const auto& notice : notices) {
          if (!result.notice.empty()) result.notice += "\n";
          result.notice += notice;
        }
        return result;
      }
    }
    return InternalError(fmt::format("parameter {} vanished after it was set", name));
  }

 private:
  const rpc::ClusterInfo info_;
  meta::SystemParamsManager& params_;
  const std::chrono::steady_clock::time_point started_;
};

}  // namespace

struct MetaNode::Components {
  std::unique_ptr<metastore::MetaStore> meta_store;
  std::unique_ptr<objstore::ObjectStore> state_store;
  // Declared after state_store: destroyed (renewal stopped) before the store goes away.
  std::unique_ptr<hummock::StateStoreGuard> lease;
  std::unique_ptr<meta::SystemParamsManager> params;
  std::unique_ptr<meta::CatalogManager> catalog;
  std::unique_ptr<hummock::HummockManager> hummock;
  std::unique_ptr<hummock::StateStore> data_plane;
  std::unique_ptr<frontend::TableData> table_data;
  std::unique_ptr<hummock::CheckpointLoop> checkpoints;
  // Declared before maintenance: GC stops asking it for protected objects before it goes.
  std::unique_ptr<meta::BackupManager> backup;
  std::unique_ptr<hummock::HummockMaintenance> maintenance;
  std::shared_ptr<frontend::FrontendSessionFactory> sessions;
  std::unique_ptr<pgwire::Server> pg_server;
  std::unique_ptr<NodeMetaBackend> backend;
  // Declared before rpc_server: a service outlives the server that calls it.
  std::unique_ptr<HummockManagerBackend> hummock_backend;
  std::unique_ptr<HummockServiceImpl> hummock_service;
  std::unique_ptr<BackupManagerBackend> backup_backend;
  std::unique_ptr<BackupServiceImpl> backup_service;
  std::unique_ptr<rpc::RpcServer> rpc_server;
};

MetaNode::MetaNode(NodeOptions options) : options_(std::move(options)) {}

MetaNode::~MetaNode() { Stop(); }

Status MetaNode::Start() {
  auto c = std::make_unique<Components>();
  const std::string meta_url = RedactUrl(options_.meta_store_url);
  spdlog::info("rwmeta meta node {} starting: meta store {}, state store {}/{}", kVersion, meta_url,
               RedactUrl(options_.state_store), options_.data_directory);

  RWMETA_ASSIGN_OR_RETURN(c->meta_store, metastore::OpenMetaStore(options_.meta_store_url));
  RWMETA_ASSIGN_OR_RETURN(std::string state_url, StripHummockPrefix(options_.state_store));
  auto state_store = objstore::OpenObjectStore(state_url);
  if (!state_store.ok()) return state_store.status().WithContext("state store");
  c->state_store = std::move(state_store).value();

  // A restore that committed its rows but not yet its Hummock checkpoint: refuse before bootstrap
  // touches anything (the message names the restore-meta command that completes it).
  if (Status s = hummock::CheckNoIncompleteRestore(*c->meta_store); !s.ok()) {
    return s.WithContext("meta store " + meta_url);
  }
  meta::BootstrapOptions bootstrap{options_.state_store, options_.data_directory,
                                   options_.backup_storage_url, options_.backup_storage_directory};
  auto cluster = meta::BootstrapCluster(*c->meta_store, bootstrap);
  if (!cluster.ok()) return cluster.status().WithContext("meta store " + meta_url);
  spdlog::info("{} cluster {} generation {} (meta store backend {})",
               cluster->created ? "created" : "opened", cluster->cluster_id, cluster->generation,
               c->meta_store->backend());

  // One cluster per state store: a second cluster on the same SSTs would corrupt both.
  RWMETA_RETURN_IF_ERROR(
      hummock::CheckStateStoreClusterId(*c->state_store, RedactUrl(options_.state_store),
                                        options_.data_directory, cluster->cluster_id));
  hummock::StateStoreGuardOptions lease_options;
  lease_options.ttl_ms = options_.state_store_lease_ttl_ms;
  lease_options.force = options_.force_state_store_lease;
  // Each renewal re-reads the generation: a restore that supersedes this meta store fences it.
  lease_options.generation = cluster->generation;
  lease_options.meta_store_display = meta_url;
  lease_options.state_store_display =
      fmt::format("{}/{}", RedactUrl(options_.state_store), options_.data_directory);
  RWMETA_ASSIGN_OR_RETURN(c->lease, hummock::StateStoreGuard::Acquire(
                                        *c->state_store, options_.data_directory, lease_options));
  // From here on every failed start must give the lease back, or a restart waits a TTL.
  auto release_lease = [&c] { c->lease->Release().IgnoreError(); };

  // A restore is final: a meta store that a restore superseded never writes to this state store.
  auto generation = hummock::CheckGeneration(*c->state_store, options_.data_directory,
                                             cluster->cluster_id, cluster->generation, meta_url,
                                             lease_options.state_store_display, *SystemClock());
  if (!generation.ok()) {
    release_lease();
    return generation.status();
  }
  spdlog::info("state store {} is at {}", lease_options.state_store_display,
               hummock::DescribeGeneration(*generation));
  if (!c->state_store->SupportsConditionalPut()) {
    spdlog::warn(
        "state store {} does not honour conditional puts: objects are written without "
        "if-none-match, so nothing but the generation check at start and at each lease renewal "
        "keeps a superseded meta node from overwriting them (docs/restore.md)",
        lease_options.state_store_display);
  }

  c->params = std::make_unique<meta::SystemParamsManager>(*c->meta_store);
  if (Status s = c->params->Reload(); !s.ok()) {
    release_lease();
    return s;
  }
  auto catalog = meta::CatalogManager::Open(*c->meta_store);
  if (!catalog.ok()) {
    release_lease();
    return catalog.status();
  }
  c->catalog = std::move(catalog).value();

  auto hummock = hummock::HummockManager::Open(
      *c->meta_store, *c->state_store,
      {.data_directory = options_.data_directory, .generation = cluster->generation});
  if (!hummock.ok()) {
    release_lease();
    return hummock.status().WithContext("hummock version");
  }
  c->hummock = std::move(hummock).value();
  hummock::StateStoreGuard* lease = c->lease.get();
  // Lost (another node took the lease, or a restore superseded this generation): never again.
  // Not confirmed for a TTL (a paused process): wait for the next renewal.
  c->hummock->SetWriteFence([lease]() -> Status { return lease->CheckWritable(); });
  c->data_plane = std::make_unique<hummock::StateStore>(*c->hummock);
  c->table_data = std::make_unique<frontend::TableData>(*c->data_plane, *c->catalog);
  if (Status s = c->table_data->Reconcile(); !s.ok()) {
    release_lease();
    return s.WithContext("hummock tables");
  }
  meta::SystemParamsManager* params = c->params.get();
  c->checkpoints = std::make_unique<hummock::CheckpointLoop>(*c->data_plane, [params] {
    auto number = [&](const char* name, uint64_t fallback) {
      auto v = params->Get(name);
      uint64_t out = fallback;
      if (!v.ok() || std::from_chars(v->data(), v->data() + v->size(), out).ec != std::errc()) {
        return fallback;
      }
      return out;
    };
    return std::chrono::milliseconds(
        number(metastore::params::kBarrierIntervalMs, 1000) *
        std::max<uint64_t>(1, number(metastore::params::kCheckpointFrequency, 1)));
  });

  meta::BackupManagerOptions backup_options;
  backup_options.cluster_id = cluster->cluster_id;
  backup_options.rwmeta_version = kVersion;
  hummock::StateStore* data_plane = c->data_plane.get();
  // Every statement that completed before BACKUP is in the snapshot.
  backup_options.before_cut = [data_plane]() -> Status {
    return data_plane->Checkpoint().status();
  };
  auto backup = meta::BackupManager::Open(*c->meta_store, *c->hummock, *c->params, backup_options);
  if (!backup.ok()) {
    release_lease();
    return backup.status().WithContext("backup manager");
  }
  c->backup = std::move(backup).value();

  c->maintenance =
      std::make_unique<hummock::HummockMaintenance>(*c->hummock, hummock::MaintenanceOptions{});

  rpc::ClusterInfo info;
  info.cluster_id = cluster->cluster_id;
  info.created_at_ms = cluster->created_at_ms;
  info.generation = cluster->generation;
  info.generation_started_at_ms = generation->started_at_ms;
  info.restored_snapshot_id = generation->snapshot_id;
  info.rwmeta_version = kVersion;
  info.meta_store_backend = std::string(c->meta_store->backend());
  info.meta_store_url = c->meta_store->DisplayUrl();
  info.state_store_url = RedactUrl(options_.state_store);
  c->sessions = std::make_shared<frontend::FrontendSessionFactory>(
      *c->catalog, *c->params, c->table_data.get(), c->backup.get());
  // Before the listener opens: sessions read it without a lock.
  c->sessions->SetClusterIdentity({.cluster_id = info.cluster_id,
                                   .created_at_ms = info.created_at_ms,
                                   .generation = info.generation,
                                   .generation_started_at_ms = info.generation_started_at_ms,
                                   .restored_snapshot_id = info.restored_snapshot_id,
                                   .rwmeta_version = info.rwmeta_version,
                                   .meta_store_backend = info.meta_store_backend,
                                   .state_store = info.state_store_url});
  pgwire::ServerOptions pg_options;
  pg_options.listen_address = options_.pg_listen_addr;
  c->pg_server = std::make_unique<pgwire::Server>(pg_options, c->sessions);
  if (Status s = c->pg_server->Start(); !s.ok()) {
    release_lease();
    return s;
  }

  c->backend = std::make_unique<NodeMetaBackend>(info, *c->params);
  c->rpc_server = std::make_unique<rpc::RpcServer>(c->backend.get());
  c->hummock_backend = std::make_unique<HummockManagerBackend>(*c->hummock, *c->maintenance);
  c->hummock_service = std::make_unique<HummockServiceImpl>(*c->hummock_backend);
  c->rpc_server->AddService(c->hummock_service.get());
  c->backup_backend = std::make_unique<BackupManagerBackend>(*c->backup);
  c->backup_service = std::make_unique<BackupServiceImpl>(*c->backup_backend);
  c->rpc_server->AddService(c->backup_service.get());
  Status rpc_started = c->rpc_server->Start(options_.listen_addr);
  if (!rpc_started.ok()) {
    c->pg_server->Stop();
    release_lease();
    return rpc_started;
  }
  spdlog::info("serving: gRPC on {}, PostgreSQL protocol on {} (psql -h {} -p {} -d dev -U root)",
               c->rpc_server->address(), options_.pg_listen_addr,
               options_.pg_listen_addr.substr(0, options_.pg_listen_addr.rfind(':')),
               c->pg_server->port());
  c_ = std::move(c);
  return Status::Ok();
}

void MetaNode::Stop() {
  if (!c_) return;
  if (c_->rpc_server) c_->rpc_server->Stop();
  if (c_->pg_server) c_->pg_server->Stop();
  if (c_->maintenance) c_->maintenance->Stop();
  // A running backup job finishes (its snapshot published or failed) before the stores close.
  c_->backup.reset();
  if (c_->checkpoints) {
    // The last epoch's writes are committed before the lease goes.
    Status flushed = c_->checkpoints->Stop();
    if (!flushed.ok()) spdlog::error("final checkpoint failed: {}", flushed.ToString());
  }
  if (c_->lease) {
    Status released = c_->lease->Release();
    if (!released.ok()) spdlog::warn("releasing the state store lease: {}", released.ToString());
  }
  c_.reset();
}

int MetaNode::grpc_port() const { return c_ ? c_->rpc_server->port() : 0; }
int MetaNode::pg_port() const { return c_ ? c_->pg_server->port() : 0; }

}  // namespace rwmeta::server
