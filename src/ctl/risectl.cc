#include "ctl/risectl.h"

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "ctl/backup_commands.h"
#include "ctl/ctl_context.h"
#include "ctl/hummock_commands.h"
#include "ctl/meta_commands.h"
#include "ctl/restore_commands.h"
#include "rpc/address.h"

#ifndef RWMETA_VERSION
#error "RWMETA_VERSION must be defined by the build"
#endif

namespace rwmeta::ctl {
namespace {

// The most specific command given on the command line: `risectl meta system-params` gives the
// system-params App.
const CLI::App* DeepestSelected(const CLI::App* app) {
  while (!app->get_subcommands().empty()) app = app->get_subcommands().front();
  return app;
}

// CLI11's usage errors, in our words and followed by the usage of the command concerned.
std::string UsageFailureMessage(const CLI::App* app, const CLI::Error& e) {
  const CLI::App* command = DeepestSelected(app);
  std::string what = e.what();
  // `risectl meta bogus` fails "A subcommand is required" before CLI11 looks at "bogus": name it.
  std::vector<std::string> unparsed = app->remaining(/*recurse=*/true);
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr &&
      !command->get_subcommands([](const CLI::App*) { return true; }).empty() &&
      !unparsed.empty()) {
    what = "unknown command \"" + unparsed.front() + "\"";
  }
  // The root's help() shows the help of the deepest command given, with its full path in "Usage:".
  return "error: " + what + "\n\n" + app->help();
}

}  // namespace

int RunRisectl(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CtlContext ctx;
  ctx.out = &out;
  ctx.err = &err;
  CommandAction action;

  CLI::App app(
      "risectl: operate an rwmeta cluster (meta node, system parameters, ...).\n"
      "Commands that talk to the meta node reach it at --meta-addr, or $RW_META_ADDR, or "
      "http://127.0.0.1:5690.",
      "risectl");
  // Global flags may also follow the subcommand: `risectl meta cluster-info --meta-addr ...`.
  app.fallthrough();
  app.require_subcommand(1);
  app.failure_message(UsageFailureMessage);
  app.set_version_flag("--version", std::string("risectl (rwmeta) ") + RWMETA_VERSION);
  app.add_option("--meta-addr", ctx.meta_addr,
                 "Meta node gRPC address: http://host:port or host:port")
      ->envname(kMetaAddrEnv)
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& addr) {
            Result<rpc::HostPort> parsed = rpc::ParseMetaAddress(addr);
            return parsed.ok() ? std::string() : parsed.status().message();
          },
          "ADDR"));
  app.add_option("--rpc-timeout-ms", ctx.rpc_timeout_ms,
                 "Deadline of each call to the meta node, in milliseconds")
      ->check(CLI::Range(int64_t{1}, int64_t{24} * 3600 * 1000))
      ->capture_default_str();

  CLI::App* meta = AddMetaCommands(app, ctx, &action);
  AddRestoreCommands(*meta, ctx, &action);
  AddBackupCommands(*meta, ctx, &action);
  AddHummockCommands(app, ctx, &action);
  // After the subcommands are added: they copy their parent's footer when created.
  app.footer(
      "Examples:\n"
      "  export RW_META_ADDR=http://127.0.0.1:5690\n"
      "  risectl meta cluster-info\n"
      "  risectl meta system-params get\n"
      "  risectl meta system-params set backup_storage_url s3://backup_bucket\n"
      "  risectl meta backup-meta --remarks nightly\n"
      "  risectl meta list-meta-snapshots\n"
      "  risectl hummock list-version\n"
      "  risectl hummock trigger-full-gc -s 3600\n"
      "Run `risectl <command> --help` for the flags of each command.");

  // CLI11 reports usage errors and --help/--version by exception; this is its adapter.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int cli_code = app.exit(e, out, err);
    return cli_code == static_cast<int>(CLI::ExitCodes::Success) ? kExitOk : kExitUsage;
  }
  if (!action) {
    // Every leaf command sets an action; a group without its command fails require_subcommand.
    err << "error: no command given\n\n" << app.help();
    return kExitUsage;
  }
  Status status = action();
  if (!status.ok()) {
    err << "error: " << status.message() << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace rwmeta::ctl
