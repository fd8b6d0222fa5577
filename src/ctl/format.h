// Text rendering for risectl output: tables, durations, timestamps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rwmeta::ctl {

// "1d 2h 3m 4s", "5m 0s", "0s". Sub-second parts are dropped.
std::string FormatDurationMs(uint64_t ms);

// "2025-11-24 16:00:00 UTC" for milliseconds since the Unix epoch; sub-second parts are dropped.
std::string FormatUnixMs(int64_t unix_ms);

// Rows with their columns left-aligned and separated by two spaces, no trailing spaces, each line
// ending in '\n'. Rows may differ in length; missing cells are empty.
std::string FormatAligned(const std::vector<std::vector<std::string>>& rows);

// FormatAligned of the header row followed by `rows`.
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

}  // namespace rwmeta::ctl
