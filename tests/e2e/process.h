// Helpers for end-to-end tests: run commands, and run a meta-node process on free loopback ports in
// a private working directory.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "testing/subprocess.h"

namespace rwmeta::e2e {

using testing::CommandResult;
using testing::PickFreePort;
using testing::RunCommand;
using testing::TempDir;

class MetaNodeProcess {
 public:
  struct Options {
    std::string work_dir;                 // cwd of the node (./rwmeta-data/ lands here)
    std::vector<std::string> extra_args;  // more flags
    std::map<std::string, std::string> env;
    int pg_port = 0;    // 0: pick a free one
    int grpc_port = 0;  // 0: pick a free one
  };

  // Starts the node and waits (bounded) until both ports accept connections. On failure the error
  // includes the node's log.
  static Result<std::unique_ptr<MetaNodeProcess>> Start(Options options);
  ~MetaNodeProcess();

  int pg_port() const { return options_.pg_port; }
  int grpc_port() const { return options_.grpc_port; }
  std::string meta_addr() const;
  const Options& options() const { return options_; }

  // Sends `signal` and waits for the exit. Returns the exit code (-signal if killed by a signal).
  Result<int> Stop(int signal = 15);
  // The node's process id (to pause it with SIGSTOP, for instance); -1 if not started.
  pid_t pid() const;
  // The node's stdout+stderr so far.
  std::string Log() const;

 private:
  MetaNodeProcess() = default;
  Options options_;
  std::unique_ptr<testing::BackgroundProcess> process_;
};

// psql -X -A -t -q -v ON_ERROR_STOP=1 against a node, as user `user` on database `db`.
Result<CommandResult> Psql(int port, const std::string& sql, const std::string& user = "root",
                           const std::string& db = "dev",
                           const std::map<std::string, std::string>& env = {});

// Paths of the built binaries.
std::string MetaNodeBinary();
std::string RisectlBinary();

}  // namespace rwmeta::e2e
