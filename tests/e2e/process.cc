#include "e2e/process.h"

#include <fmt/format.h>

namespace rwmeta::e2e {

Result<std::unique_ptr<MetaNodeProcess>> MetaNodeProcess::Start(Options options) {
  std::unique_ptr<MetaNodeProcess> p(new MetaNodeProcess());
  if (options.pg_port == 0) options.pg_port = PickFreePort();
  if (options.grpc_port == 0) options.grpc_port = PickFreePort();
  p->options_ = options;
  std::vector<std::string> args = {
      MetaNodeBinary(), "--listen-addr", fmt::format("127.0.0.1:{}", options.grpc_port),
      "--pg-listen-addr", fmt::format("127.0.0.1:{}", options.pg_port)};
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  RWMETA_ASSIGN_OR_RETURN(
      p->process_,
      testing::BackgroundProcess::Start(
          {.argv = args,
           .env = options.env,
           .cwd = options.work_dir,
           .log_path = options.work_dir + fmt::format("/meta-node-{}.log", options.pg_port)}));
  int pg = options.pg_port, grpc = options.grpc_port;
  RWMETA_RETURN_IF_ERROR(p->process_->WaitUntil(
      [pg, grpc] { return testing::PortAccepts(pg) && testing::PortAccepts(grpc); },
      std::chrono::seconds(30), "listening on both ports"));
  return p;
}

MetaNodeProcess::~MetaNodeProcess() = default;

std::string MetaNodeProcess::meta_addr() const {
  return fmt::format("http://127.0.0.1:{}", options_.grpc_port);
}

Result<int> MetaNodeProcess::Stop(int signal) {
  if (process_ == nullptr) return FailedPreconditionError("meta-node was not started");
  return process_->Stop(signal);
}

pid_t MetaNodeProcess::pid() const { return process_ ? process_->pid() : -1; }

std::string MetaNodeProcess::Log() const { return process_ ? process_->Log() : ""; }

Result<CommandResult> Psql(int port, const std::string& sql, const std::string& user,
                           const std::string& db, const std::map<std::string, std::string>& env) {
  return RunCommand({"/usr/bin/psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                     "127.0.0.1", "-p", std::to_string(port), "-U", user, "-d", db, "-c", sql},
                    env);
}

std::string MetaNodeBinary() { return RWMETA_META_NODE_BIN; }
std::string RisectlBinary() { return RWMETA_RISECTL_BIN; }

}  // namespace rwmeta::e2e
