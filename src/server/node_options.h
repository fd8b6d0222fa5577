// meta-node's options: the flags of DESIGN.md section 3, their environment variables and TOML keys,
// and the embedded defaults used when nothing is given (everything under ./rwmeta-data/).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace rwmeta::server {

inline constexpr const char* kDefaultListenAddr = "127.0.0.1:5690";
inline constexpr const char* kDefaultPgListenAddr = "127.0.0.1:4566";
inline constexpr const char* kEmbeddedDataRoot = "rwmeta-data";
inline constexpr const char* kDefaultDataDirectory = "hummock_001";

struct NodeOptions {
  std::string listen_addr;     // gRPC
  std::string pg_listen_addr;  // Postgres wire protocol
  std::string meta_store_url;  // for OpenMetaStore
  std::string state_store;     // "hummock+fs:///abs/rwmeta-data/state"
  std::string data_directory;  // "hummock_001"
  std::optional<std::string> backup_storage_url;
  std::optional<std::string> backup_storage_directory;
  std::string log_level;
  // The state store lease (hummock/cluster/state_store_guard.h).
  bool force_state_store_lease = false;
  int64_t state_store_lease_ttl_ms = 6000;
};

// The option table (keys, flags, environment variables, defaults, help).
Config MakeNodeConfig();

// Resolves the layered config into options. Relative paths become absolute against `cwd`.
// InvalidArgument naming the flag for a bad combination (postgres without --sql-database, a state
// store without the hummock+ prefix, ...).
Result<NodeOptions> ResolveNodeOptions(const Config& config, const std::string& cwd);

}  // namespace rwmeta::server
