// `risectl meta ...`: commands that act on the meta node.
//
// Now: `meta cluster-info`, `meta system-params get [NAME]`, `meta system-params set NAME VALUE`.
// The meta-snapshot commands (backup-meta, delete-meta-snapshots, ...: backup_commands.h) and the
// offline commands that work straight on the stores (restore-meta, create-meta-store-schema:
// restore_commands.h) live in their own files and register on the `meta` group this returns.
#pragma once

#include <CLI/CLI.hpp>

#include "ctl/ctl_context.h"

namespace rwmeta::ctl {

// Adds the `meta` command group to `root` and returns it. When one of its commands is parsed, the
// command's action is stored in `*action` (which must outlive parsing); it uses `ctx`, which must
// outlive the action.
CLI::App* AddMetaCommands(CLI::App& root, CtlContext& ctx, CommandAction* action);

}  // namespace rwmeta::ctl
