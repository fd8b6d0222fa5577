// FakeMetaBackend: an in-memory MetaBackend for tests of the rpc layer and of risectl.
//
// Holds a ClusterInfo and a parameter list; SetSystemParam changes a mutable parameter, refuses an
// immutable one (FailedPrecondition) and an unknown one (InvalidArgument "unknown parameter x").
// A test may force the next calls to fail with FailWith(). Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rpc/meta_backend.h"

namespace rwmeta::rpc::testing {

class FakeMetaBackend : public MetaBackend {
 public:
  FakeMetaBackend() {
    info_.cluster_id = "5f3c2a9e-1d2b-4c6e-9a8f-0b1c2d3e4f50";
    info_.created_at_ms = 1764000000000;  // 2025-11-24T16:00:00Z
    info_.rwmeta_version = "0.1.0";
    info_.meta_store_backend = "postgres";
    info_.meta_store_url = "postgres://meta:s3cret@127.0.0.1:5432/meta";
    info_.state_store_url = "hummock+minio://hummockadmin:hummockpass@127.0.0.1:9301/hummock001";
    info_.listen_addresses = {{"grpc", "127.0.0.1:5690"}, {"pgwire", "127.0.0.1:4566"}};
    info_.uptime_ms = 93784000;  // 1d 2h 3m 4s
    info_.generation = 3;
    info_.generation_started_at_ms = 1764086400000;  // 2025-11-25T16:00:00Z
    info_.restored_snapshot_id = 7;
    params_ = {
        {"barrier_interval_ms", "1000", true, "The interval of periodic barrier."},
        {"checkpoint_frequency", "1", true, "There will be a checkpoint for every n barriers."},
        {"state_store", "hummock+fs:///var/lib/rwmeta/state", false,
         "The state store URL, with hummock+ prefix."},
        {"data_directory", "hummock_001", false,
         "Remote directory for storing data and metadata objects."},
        {"backup_storage_url", "fs:///var/lib/rwmeta/state", true,
         "Remote storage url for storing snapshots."},
        {"backup_storage_directory", "hummock_001/backup", true,
         "Remote directory for storing snapshots."},
    };
  }

  // Makes every following call fail with `status` until FailWith(std::nullopt).
  void FailWith(std::optional<Status> status) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_with_ = std::move(status);
  }
  void set_cluster_info(ClusterInfo info) {
    std::lock_guard<std::mutex> lock(mu_);
    info_ = std::move(info);
  }
  ClusterInfo cluster_info() const {
    std::lock_guard<std::mutex> lock(mu_);
    return info_;
  }
  std::vector<ParamInfo> params() const {
    std::lock_guard<std::mutex> lock(mu_);
    return params_;
  }
  // The notice SetSystemParam returns when it changes `backup_storage_url`.
  static constexpr const char* kBackupUrlNotice =
      "snapshots at the old backup location are no longer listed";

  Result<ClusterInfo> GetClusterInfo() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_with_) return *fail_with_;
    return info_;
  }

  Result<std::vector<ParamInfo>> GetSystemParams() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_with_) return *fail_with_;
    return params_;
  }

  Result<SetParamResult> SetSystemParam(const std::string& name,
                                        const std::string& value) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_with_) return *fail_with_;
    for (ParamInfo& param : params_) {
      if (param.name != name) continue;
      if (!param.is_mutable) {
        return FailedPreconditionError("parameter " + name + " cannot be changed");
      }
      param.value = value;
      return SetParamResult{param, name == "backup_storage_url" ? kBackupUrlNotice : ""};
    }
    return InvalidArgumentError("unknown parameter " + name);
  }

 private:
  mutable std::mutex mu_;
  ClusterInfo info_;
  std::vector<ParamInfo> params_;
  std::optional<Status> fail_with_;
};

}  // namespace rwmeta::rpc::testing
