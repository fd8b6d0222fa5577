// `risectl hummock ...`: inspect and maintain the meta node's Hummock state store
// (proto/hummock_service.proto), spelled as RisingWave's risectl spells them.
//
//   hummock list-version [--verbose]   version id, max committed and safe epoch, per compaction
//                                      group each level (L0 sub-levels newest first, L1..L6) with
//                                      SST count and bytes, tables with their committed epoch;
//                                      --verbose adds every SST (as list-ssts does)
//   hummock list-ssts                  (alias list-sst-info) one line per SST of the current
//                                      version, then the stale objects waiting for vacuum
//   hummock trigger-full-gc -s SECS    (--sst-retention-time-sec) a full GC pass after a
//                                      compaction and vacuum round; prints what it listed,
//                                      deleted and kept. A negative SECS is a usage error (exit 2)
//   hummock trigger-compaction         one compaction and vacuum round now
//
// Epochs are printed as numbers followed by the wall-clock time they encode (RisingWave's layout:
// milliseconds since 2021-01-01 UTC shifted left by 16).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "ctl/ctl_context.h"
#include "proto/hummock.pb.h"
#include "proto/hummock_service.pb.h"

namespace rwmeta::ctl {

// Adds the `hummock` command group to `root` and returns it. When one of its commands is parsed,
// its action is stored in `*action` (which must outlive parsing); it uses `ctx`, which must
// outlive the action.
CLI::App* AddHummockCommands(CLI::App& root, CtlContext& ctx, CommandAction* action);

// "7340032 (2021-01-01 00:00:00.112 UTC)": `epoch` and the time it encodes; "0" for 0.
std::string FormatEpoch(uint64_t epoch);

// The text of `list-version` (with every SST if `verbose`), `list-ssts` and `trigger-full-gc`
// for the given responses. Exposed for tests.
std::string RenderVersion(const hummock::HummockVersion& version, bool verbose);
std::string RenderSsts(const hummock::GetCurrentVersionResponse& response);
std::string RenderFullGc(int64_t retention_secs, const hummock::TriggerFullGcResponse& report);

}  // namespace rwmeta::ctl
