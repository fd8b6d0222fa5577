// MetaBackend: what the gRPC admin services need from the meta layer, in plain C++ types.
//
// The rpc layer depends only on this interface, not on src/meta, so both can be built at the same
// time; the meta-node main adapts the real meta layer (cluster bootstrap, system parameters) to it.
// New services (BackupService, HummockManagerService) get their own small backend interfaces beside
// this one rather than growing it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace rwmeta::rpc {

// One address the meta node listens on.
struct ListenAddress {
  std::string protocol;  // "grpc", "pgwire", ...
  std::string address;   // "127.0.0.1:5690"

  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// What `risectl meta cluster-info` shows.
struct ClusterInfo {
  std::string cluster_id;
  int64_t created_at_ms = 0;       // milliseconds since the Unix epoch, UTC
  std::string rwmeta_version;      // "0.1.0"
  std::string meta_store_backend;  // "sqlite", "postgres", "mysql", "etcd", ...
  std::string meta_store_url;      // for display; the rpc layer redacts any password again
  std::string state_store_url;     // "hummock+s3://bucket"; redacted like meta_store_url
  std::vector<ListenAddress> listen_addresses;
  uint64_t uptime_ms = 0;  // since the meta node started serving
  // The cluster generation this meta store is (1 until the first restore; hummock/cluster/
  // generation.h), when it began, and the meta snapshot whose restore began it (0: none).
  uint64_t generation = 1;
  int64_t generation_started_at_ms = 0;
  uint64_t restored_snapshot_id = 0;

  friend bool operator==(const ClusterInfo&, const ClusterInfo&) = default;
};

// One system parameter as SHOW PARAMETERS shows it.
struct ParamInfo {
  std::string name;         // "backup_storage_url"
  std::string value;        // current value as text, ALREADY REDACTED by the backend if secret
  bool is_mutable = false;  // whether SetSystemParam may change it
  std::string description;

  friend bool operator==(const ParamInfo&, const ParamInfo&) = default;
};

// The outcome of a successful SetSystemParam.
struct SetParamResult {
  ParamInfo param;     // the parameter after the change
  std::string notice;  // something the operator should know, or empty

  friend bool operator==(const SetParamResult&, const SetParamResult&) = default;
};

// Thread-safety: implementations must be thread-safe; the gRPC server calls them concurrently from
// its worker threads. The returned Status crosses the wire unchanged (code and message; see
// status_grpc.h), so its message must be fit for an operator and must not contain secrets.
class MetaBackend {
 public:
  virtual ~MetaBackend() = default;

  // Returns the cluster's identity and where it keeps its state.
  // Errors: Unavailable if the meta store cannot be read; Internal on a bug.
  virtual Result<ClusterInfo> GetClusterInfo() = 0;

  // Returns every system parameter in display order, values redacted.
  // Errors: Unavailable if the meta store cannot be read.
  virtual Result<std::vector<ParamInfo>> GetSystemParams() = 0;

  // Sets parameter `name` to `value` (text, parsed by the parameter's type) durably, and returns it
  // as it now is. Errors: InvalidArgument for an unknown parameter ("unknown parameter x") or a
  // value it does not accept; FailedPrecondition if the parameter is immutable; Aborted if a
  // concurrent change won (the caller may retry); Unavailable if the meta store cannot be written.
  virtual Result<SetParamResult> SetSystemParam(const std::string& name,
                                                const std::string& value) = 0;
};

}  // namespace rwmeta::rpc
