// Test-only: the parts of a meta node that the gRPC services and risectl's commands are tested
// against, on memory stores and served on loopback, so that server/*_service_test.cc and
// ctl/*_commands_test.cc build them once.
//
//   CommitRows      one epoch with one SST in a HummockManager (what a FLUSH leaves)
//   ServedServices  an RpcServer on 127.0.0.1:0 (over a FakeMetaBackend) serving given services
//   BackupTestNode  a bootstrapped memory meta store, its system parameters, a HummockManager, a
//                   BackupManager whose location ("memory", directory "backup") is private to the
//                   node and whose jobs can be held or failed before their cut, and the
//                   BackupService over it
#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "hummock/store/hummock_manager.h"
#include "meta/backup_manager.h"
#include "meta/system_params.h"
#include "metastore/memory/memory_meta_store.h"
#include "objstore/memory/memory_object_store.h"
#include "objstore/object_store.h"
#include "proto/backup_service.grpc.pb.h"
#include "rpc/meta_client.h"
#include "rpc/rpc_server.h"
#include "rpc/testing/fake_meta_backend.h"
#include "server/backup_backend.h"
#include "server/backup_service.h"

namespace rwmeta::server::testing {

// The state store's data directory and the one state table the helpers write.
inline constexpr std::string_view kDataDirectory = "hummock_001";
inline constexpr uint32_t kTableId = 1001;

// Commits the next epoch of `hummock` with one SST holding `rows` keys ("key1000", ...) of
// `table_id`, written to `objects` under kDataDirectory. Returns the SST's object id.
Result<uint64_t> CommitRows(hummock::HummockManager& hummock, objstore::ObjectStore& objects,
                            int rows, uint32_t table_id = kTableId);

// An RpcServer with a FakeMetaBackend for the ClusterService and SystemParamsService, serving the
// given services too, on 127.0.0.1 at a free port. The services are not owned and must outlive
// this object; Stop (or the destructor) stops serving before they go.
class ServedServices {
 public:
  ServedServices() = default;
  ~ServedServices() { Stop(); }
  ServedServices(const ServedServices&) = delete;
  ServedServices& operator=(const ServedServices&) = delete;

  // REQUIRES: called once.
  Status Start(const std::vector<grpc::Service*>& services);
  void Stop() { server_.Stop(); }
  // "127.0.0.1:<port>".
  std::string address() const { return server_.address(); }
  // A client of `Service` (served here), with risectl's deadline and error mapping.
  template <typename Service>
  Result<rpc::ServiceClient<Service>> Connect() const {
    RWMETA_ASSIGN_OR_RETURN(std::unique_ptr<rpc::MetaClient> meta,
                            rpc::MetaClient::Connect(address()));
    return rpc::ServiceClient<Service>(std::move(meta));
  }

 private:
  rpc::testing::FakeMetaBackend backend_;
  rpc::RpcServer server_{&backend_};
};

class BackupTestNode {
 public:
  struct Options {
    // Written into each snapshot's header.
    std::string rwmeta_version = "rwmeta-test";
    size_t max_snapshots = 1000;  // meta::BackupManagerOptions's default
  };

  // Bootstraps the meta store (state store "hummock+memory", backup location "memory" directory
  // "backup") and opens the managers. Does not serve yet (see Serve).
  static Result<std::unique_ptr<BackupTestNode>> Open(Options options);
  static Result<std::unique_ptr<BackupTestNode>> Open() { return Open(Options{}); }
  // Stops serving, then lets a held job finish.
  ~BackupTestNode();
  BackupTestNode(const BackupTestNode&) = delete;
  BackupTestNode& operator=(const BackupTestNode&) = delete;

  // Serves the BackupService over `backend` (not owned; it must outlive this node), or over the
  // node's own BackupManagerBackend if null. REQUIRES: called once.
  Status Serve(BackupBackend* backend = nullptr);
  // Where Serve listens: "127.0.0.1:<port>".
  std::string address() const { return served_.address(); }
  Result<rpc::ServiceClient<backup_service::BackupService>> Connect() const {
    return served_.Connect<backup_service::BackupService>();
  }

  // Jobs wait before their cut while held (at most 30 s, then they fail with DeadlineExceeded),
  // so a test sees them RUNNING.
  void HoldJobs();
  void ReleaseJobs();
  // Jobs that reach their cut fail with `status` (OK: they run on).
  void FailJobsWith(Status status);

  // CommitRows into this node's HummockManager and state store.
  Result<uint64_t> CommitRows(int rows) { return testing::CommitRows(*hummock_, objects_, rows); }
  // Starts a job through the manager (not the service) and waits for it; FailedPrecondition with
  // the job's message unless it SUCCEEDED. Returns its id.
  Result<uint64_t> Backup(std::optional<std::string> remarks = std::nullopt);
  // The ids the current manifest lists, in order.
  Result<std::vector<uint64_t>> ListedIds();

  const std::string& cluster_id() const { return cluster_id_; }
  metastore::MemoryMetaStore& meta_store() { return meta_; }
  meta::SystemParamsManager& params() { return *params_; }
  hummock::HummockManager& hummock() { return *hummock_; }
  meta::BackupManager& manager() { return *manager_; }
  // The backup location "memory" as the manager sees it (what a test corrupts).
  objstore::MemoryObjectStore& backup_objects() { return *backup_objects_; }

 private:
  BackupTestNode() = default;
  Status BeforeCut();

  metastore::MemoryMetaStore meta_;
  objstore::MemoryObjectStore objects_;
  std::unique_ptr<objstore::MemoryObjectStore> backup_objects_;
  std::string cluster_id_;
  std::unique_ptr<meta::SystemParamsManager> params_;
  std::unique_ptr<hummock::HummockManager> hummock_;
  std::mutex mu_;
  std::condition_variable released_;
  bool held_ = false;         // guarded by mu_
  Status before_cut_status_;  // guarded by mu_
  std::unique_ptr<meta::BackupManager> manager_;
  std::unique_ptr<BackupManagerBackend> backend_;
  std::unique_ptr<BackupServiceImpl> service_;
  // Declared last: stops serving before the service and the managers go.
  ServedServices served_;
};

}  // namespace rwmeta::server::testing
