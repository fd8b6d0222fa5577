// What every risectl command shares: where the meta node is, where output goes, and the shape of a
// command's action.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>

#include "common/status.h"
#include "rpc/meta_client.h"

namespace rwmeta::ctl {

// The meta node address used when neither --meta-addr nor RW_META_ADDR is given.
inline constexpr const char* kDefaultMetaAddr = "http://127.0.0.1:5690";
// The environment variable RisingWave's risectl reads the meta address from.
inline constexpr const char* kMetaAddrEnv = "RW_META_ADDR";

struct CtlContext {
  // From --meta-addr, else RW_META_ADDR, else kDefaultMetaAddr; filled in during parsing.
  std::string meta_addr = kDefaultMetaAddr;
  // Deadline of each call to the meta node (--rpc-timeout-ms).
  int64_t rpc_timeout_ms = 10000;
  // Results go to `out`; notices go to `err`. Errors are printed by the runner, not the commands.
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;

  // A client for the meta node at meta_addr. InvalidArgument for a malformed address. Does not
  // contact the node; the first call does (Unavailable "cannot reach meta node at ..." then).
  Result<std::unique_ptr<rpc::MetaClient>> ConnectMeta() const {
    rpc::MetaClientOptions options;
    options.rpc_timeout = std::chrono::milliseconds(rpc_timeout_ms);
    return rpc::MetaClient::Connect(meta_addr, options);
  }
  // A client of the meta node's `Service` (BackupService, ...) over ConnectMeta's connection.
  template <typename Service>
  Result<rpc::ServiceClient<Service>> Connect() const {
    RWMETA_ASSIGN_OR_RETURN(std::unique_ptr<rpc::MetaClient> meta, ConnectMeta());
    return rpc::ServiceClient<Service>(std::move(meta));
  }
};

// A parsed command ready to run. A command group's parse callback stores one in the slot the
// runner passes it; the runner runs it after parsing succeeded and maps its Status to the exit
// code (see risectl.h).
using CommandAction = std::function<Status()>;

}  // namespace rwmeta::ctl
