// risectl: the command-line tool for operating an rwmeta cluster (RisingWave's `risectl`).
//
// Command tree (each level has --help):
//   risectl [--meta-addr ADDR] [--rpc-timeout-ms N]
//     meta cluster-info
//     meta system-params get [NAME]
//     meta system-params set NAME VALUE
//     meta restore-meta ... | create-meta-store-schema ...  (offline: restore_commands.h)
//     meta backup-meta | delete-meta-snapshots | list-meta-snapshots | show-meta-snapshot |
//          backup-job-status | list-backup-jobs | backup-metrics  (backup_commands.h)
//     hummock list-version [--verbose] | list-ssts | trigger-full-gc -s SECS | trigger-compaction
// Each command group lives in its own file (meta_commands.cc, ...) and is added in RunRisectl.
//
// Exit codes:
//   0  success (also --help and --version)
//   1  the command failed: "error: <message>" on stderr
//   2  usage error: unknown command or flag, missing argument, no command; the error and the
//      usage of the command concerned are printed on stderr
#pragma once

#include <ostream>

namespace rwmeta::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Parses `argv` (argv[0] is the program name) and runs the command, writing results to `out` and
// errors, notices and usage errors to `err`. Returns the exit code. Reads RW_META_ADDR from the
// environment. Thread-compatible.
int RunRisectl(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace rwmeta::ctl
