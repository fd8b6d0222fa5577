// meta-node: the rwmeta meta service.
//
// With no flags it keeps everything under ./rwmeta-data/ (SQLite meta store, file-system state
// store) and listens on 127.0.0.1:5690 (gRPC, risectl) and 127.0.0.1:4566 (psql).
// Configuration layers: built-in defaults < --config TOML file < RW_* environment < flags.

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "common/config.h"
#include "common/logging.h"
#include "server/meta_node.h"
#include "server/node_options.h"

namespace {

using rwmeta::Config;
using rwmeta::Status;

int Fail(const Status& s) {
  spdlog::error("meta node cannot start: {}", s.message());
  std::fprintf(stderr, "error: %s\n", s.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Config config = rwmeta::server::MakeNodeConfig();

  CLI::App app{
      "rwmeta meta node: the meta service of a streaming database, with meta snapshots.\n"
      "Without flags it keeps everything under ./rwmeta-data/ and listens on 127.0.0.1:5690 "
      "(gRPC,\n"
      "for risectl) and 127.0.0.1:4566 (PostgreSQL protocol, for psql -h 127.0.0.1 -p 4566 -d dev "
      "-U root).\n"
      "Each flag can also be set by the environment variable shown, or in the --config TOML file\n"
      "([meta], [system] and [log] tables); flags win over the environment, which wins over the "
      "file.",
      "meta-node"};
  app.get_formatter()->column_width(40);

  std::string config_path;
  app.add_option("--config", config_path, "TOML configuration file")->envname("RW_CONFIG_PATH");

  std::map<std::string, std::string> flag_values;
  std::map<std::string, bool> presence_flags;
  for (const auto& o : config.options()) {
    if (o.flag.empty()) continue;
    std::string help = o.help;
    if (!o.env.empty()) help += " [env " + o.env + "]";
    if (o.default_value.has_value() && !o.default_value->empty() && *o.default_value != "false") {
      help += " (default " + *o.default_value + ")";
    }
    if (o.default_value == "false") {
      presence_flags[o.key] = false;
      app.add_flag(o.flag, presence_flags[o.key], help);
    } else {
      app.add_option(o.flag, flag_values[o.key], help);
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (!config_path.empty()) {
    if (Status s = config.LoadTomlFile(config_path); !s.ok()) return Fail(s);
  }
  config.LoadEnv();
  for (const auto& o : config.options()) {
    if (o.flag.empty()) continue;
    if (app.count(o.flag) == 0) continue;
    std::string value = presence_flags.count(o.key) ? "true" : flag_values[o.key];
    if (Status s = config.SetFlag(o.key, value); !s.ok()) return Fail(s);
  }

  std::error_code ec;
  std::string cwd = std::filesystem::current_path(ec).string();
  if (ec) return Fail(rwmeta::InternalError("cannot read the current directory: " + ec.message()));
  auto options = rwmeta::server::ResolveNodeOptions(config, cwd);
  if (!options.ok()) return Fail(options.status());
  if (Status s = rwmeta::InitLogging(options->log_level); !s.ok()) return Fail(s);

  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A client that goes away mid-write must not kill the node.
  signal(SIGPIPE, SIG_IGN);

  rwmeta::server::MetaNode node(*options);
  if (Status s = node.Start(); !s.ok()) return Fail(s);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  node.Stop();
  spdlog::info("meta node stopped");
  return 0;
}
