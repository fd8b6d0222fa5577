// Logging: spdlog, one process-wide logger writing to stderr.
// Use spdlog::info/warn/error directly; say what happened and to what ("snapshot 7 written: 3
// MiB"). Never log credentials: pass URLs through RedactUrl (common/url.h) first.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "common/status.h"

namespace rwmeta {

// Sets the level from a name: trace, debug, info, warn, error, off. InvalidArgument for other
// names.
Status InitLogging(std::string_view level);

}  // namespace rwmeta
