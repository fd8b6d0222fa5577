// `risectl meta restore-meta` and `risectl meta create-meta-store-schema`: offline commands that
// work straight on the stores (no meta node runs; --meta-addr is ignored). The engine is
// src/restore (restore.h); docs/restore.md is the operator's page.
#pragma once

#include <CLI/CLI.hpp>

#include "ctl/ctl_context.h"

namespace rwmeta::ctl {

// Adds both commands to `meta` (the group AddMetaCommands returns). As there, the parsed
// command's action goes to `*action`, which must outlive parsing; `ctx` must outlive the action.
// restore-meta prints progress per table on stderr when stderr is a terminal, logs each step on
// stderr, and prints a one-line summary on `ctx.out`.
void AddRestoreCommands(CLI::App& meta, CtlContext& ctx, CommandAction* action);

}  // namespace rwmeta::ctl
