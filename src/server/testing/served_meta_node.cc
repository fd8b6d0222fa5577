#include "server/testing/served_meta_node.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <utility>

#include "hummock/sst/sst_writer.h"
#include "hummock/version/version.h"
#include "meta/bootstrap.h"

namespace rwmeta::server::testing {

Result<uint64_t> CommitRows(hummock::HummockManager& hummock, objstore::ObjectStore& objects,
                            int rows, uint32_t table_id) {
  const uint64_t epoch = hummock::NextEpoch(hummock.current()->max_committed_epoch());
  RWMETA_ASSIGN_OR_RETURN(uint64_t id, hummock.NewObjectIds(1));
  RWMETA_ASSIGN_OR_RETURN(auto out, objects.OpenWriter(hummock::SstObjectKey(kDataDirectory, id)));
  hummock::SstWriter writer(std::move(out), {.object_id = id});
  for (int i = 0; i < rows; ++i) {
    RWMETA_RETURN_IF_ERROR(writer.Add(table_id, "key" + std::to_string(1000 + i), epoch,
                                      hummock::Value::Put("value" + std::to_string(i))));
  }
  RWMETA_ASSIGN_OR_RETURN(hummock::SstInfo info, writer.Finish());
  RWMETA_RETURN_IF_ERROR(hummock.CommitEpoch(epoch, {hummock::ToSstableInfo(info)}, {table_id}));
  return id;
}

Status ServedServices::Start(const std::vector<grpc::Service*>& services) {
  for (grpc::Service* service : services) server_.AddService(service);
  return server_.Start("127.0.0.1:0");
}

Result<std::unique_ptr<BackupTestNode>> BackupTestNode::Open(Options options) {
  std::unique_ptr<BackupTestNode> node(new BackupTestNode());
  // A backup location private to this node: every open of the same URL sees the same objects.
  static std::atomic<int> counter{0};
  const std::string prefix = fmt::format("backup-test-node-{}-{}/", getpid(), counter++);
  node->backup_objects_ = objstore::MemoryObjectStore::OpenShared(prefix + "memory");
  meta::BootstrapOptions bootstrap;
  bootstrap.state_store = "hummock+memory";
  bootstrap.data_directory = std::string(kDataDirectory);
  bootstrap.backup_storage_url = "memory";
  bootstrap.backup_storage_directory = "backup";
  RWMETA_ASSIGN_OR_RETURN(meta::ClusterInfo cluster,
                          meta::BootstrapCluster(node->meta_, bootstrap));
  node->cluster_id_ = cluster.cluster_id;
  node->params_ = std::make_unique<meta::SystemParamsManager>(node->meta_);
  RWMETA_RETURN_IF_ERROR(node->params_->Reload());
  RWMETA_ASSIGN_OR_RETURN(node->hummock_, hummock::HummockManager::Open(
                                              node->meta_, node->objects_,
                                              {.data_directory = std::string(kDataDirectory)}));
  meta::BackupManagerOptions manager_options;
  manager_options.cluster_id = node->cluster_id_;
  manager_options.rwmeta_version = options.rwmeta_version;
  manager_options.max_snapshots = options.max_snapshots;
  BackupTestNode* raw = node.get();
  manager_options.before_cut = [raw] { return raw->BeforeCut(); };
  manager_options.open_store =
      [prefix](std::string_view url) -> Result<std::unique_ptr<objstore::ObjectStore>> {
    return std::unique_ptr<objstore::ObjectStore>(
        objstore::MemoryObjectStore::OpenShared(prefix + std::string(url)));
  };
  RWMETA_ASSIGN_OR_RETURN(node->manager_,
                          meta::BackupManager::Open(node->meta_, *node->hummock_, *node->params_,
                                                    std::move(manager_options)));
  node->backend_ = std::make_unique<BackupManagerBackend>(*node->manager_);
  return node;
}

BackupTestNode::~BackupTestNode() {
  served_.Stop();
  ReleaseJobs();
}

Status BackupTestNode::Serve(BackupBackend* backend) {
  service_ = std::make_unique<BackupServiceImpl>(backend != nullptr ? *backend : *backend_);
  return served_.Start({service_.get()});
}

void BackupTestNode::HoldJobs() {
  std::lock_guard lock(mu_);
  held_ = true;
}

void BackupTestNode::ReleaseJobs() {
  std::lock_guard lock(mu_);
  held_ = false;
  released_.notify_all();
}

void BackupTestNode::FailJobsWith(Status status) {
  std::lock_guard lock(mu_);
  before_cut_status_ = std::move(status);
}

Status BackupTestNode::BeforeCut() {
  std::unique_lock lock(mu_);
  // Bounded: a test that forgets to release fails its job instead of hanging.
  if (!released_.wait_for(lock, std::chrono::seconds(30), [this] { return !held_; })) {
    return DeadlineExceededError("jobs stayed held");
  }
  return before_cut_status_;
}

Result<uint64_t> BackupTestNode::Backup(std::optional<std::string> remarks) {
  RWMETA_ASSIGN_OR_RETURN(uint64_t id, manager_->StartBackup(std::move(remarks)));
  RWMETA_ASSIGN_OR_RETURN(meta::BackupJobInfo job,
                          manager_->WaitForJob(id, std::chrono::seconds(30)));
  if (job.state != meta::BackupJobState::kSucceeded) {
    return FailedPreconditionError(fmt::format("backup job {} did not succeed: {} {}", id,
                                               meta::BackupJobStateName(job.state), job.message));
  }
  return id;
}

Result<std::vector<uint64_t>> BackupTestNode::ListedIds() {
  RWMETA_ASSIGN_OR_RETURN(backup::Manifest manifest, manager_->GetManifest());
  std::vector<uint64_t> ids;
  for (const backup::SnapshotMetadata& s : manifest.snapshots) ids.push_back(s.id);
  return ids;
}

}  // namespace rwmeta::server::testing
