// Process helpers for tests that run real programs: one-shot commands (psql, awscli, risectl) and
// long-running servers (meta-node, PostgreSQL, MariaDB, etcd, s3rver) on free loopback ports.
//
// Servers a test needs but cannot find (a binary not installed) are skipped visibly, unless
// RWMETA_REQUIRE_SERVERS=1 (set by .ci/run), where a missing server is a failure: CI must never
// count a skipped backend as a pass. See RequireServers() and RWMETA_SKIP_OR_FAIL.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace rwmeta::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

// Runs `argv` (argv[0] an absolute path) to completion, killed after `timeout`, capturing stdout
// and stderr; stdin is /dev/null; in `cwd` unless empty. The environment is the inherited one
// without the variables named in `unset_env`, with `env` entries added (or replacing). Internal if
// it cannot be started; DeadlineExceeded (with what it wrote) if it had to be killed.
// Thread-safe: tests may run commands from several threads (the pipes are close-on-exec, so one
// child never holds another's pipe open).
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 const std::map<std::string, std::string>& env = {},
                                 std::chrono::milliseconds timeout = std::chrono::seconds(60),
                                 const std::string& cwd = "",
                                 const std::vector<std::string>& unset_env = {});

// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
int PickFreePort();

// Whether a TCP connection to 127.0.0.1:`port` is accepted right now.
bool PortAccepts(int port);

// A fresh directory under $TMPDIR (default /tmp), removed with its contents by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A program running in the background with stdout+stderr appended to `log_path`. The destructor
// kills it (SIGKILL) if it is still running.
class BackgroundProcess {
 public:
  struct Options {
    std::vector<std::string> argv;  // argv[0]: absolute path
    std::map<std::string, std::string> env;
    std::string cwd;       // empty: inherit
    std::string log_path;  // required
  };

  static Result<std::unique_ptr<BackgroundProcess>> Start(Options options);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // Polls `ready` every 50 ms until it returns true (OK), the process exits (Unavailable, with its
  // exit code and log) or `timeout` passes (DeadlineExceeded, with the log).
  Status WaitUntil(const std::function<bool()>& ready, std::chrono::milliseconds timeout,
                   const std::string& what);
  // WaitUntil(PortAccepts(port)).
  Status WaitForPort(int port, std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Sends `signal` and waits up to `timeout` (then SIGKILL). Returns the exit code, or -signal when
  // killed by a signal; if it had already exited, how it exited. FailedPrecondition if it never
  // ran.
  Result<int> Stop(int signal = 15, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  bool running();
  pid_t pid() const { return pid_; }
  // Everything the process wrote so far.
  std::string Log() const;

 private:
  BackgroundProcess() = default;
  void Reaped(int status);
  Options options_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;  // set once reaped
};

// True when RWMETA_REQUIRE_SERVERS=1: a test whose server is missing must fail, not skip.
bool RequireServers();

}  // namespace rwmeta::testing

// Inside a TEST body: skips with `why` (printed), or fails when RequireServers().
#define RWMETA_SKIP_OR_FAIL(why)                                                 \
  do {                                                                           \
    if (::rwmeta::testing::RequireServers()) {                                   \
      FAIL() << "required server missing (RWMETA_REQUIRE_SERVERS=1): " << (why); \
    } else {                                                                     \
      GTEST_SKIP() << (why);                                                     \
    }                                                                            \
  } while (0)
