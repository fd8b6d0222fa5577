#include "ctl/format.h"

#include <algorithm>

#include "common/time_format.h"

namespace rwmeta::ctl {

std::string FormatDurationMs(uint64_t ms) {
  uint64_t seconds = ms / 1000;
  uint64_t days = seconds / 86400;
  uint64_t hours = seconds / 3600 % 24;
  uint64_t minutes = seconds / 60 % 60;
  std::string text;
  // Print from the largest non-zero unit down to seconds, so "2h 0m 5s" keeps its zero minutes.
  if (days > 0) text += std::to_string(days) + "d ";
  if (days > 0 || hours > 0) text += std::to_string(hours) + "h ";
  if (days > 0 || hours > 0 || minutes > 0) text += std::to_string(minutes) + "m ";
  text += std::to_string(seconds % 60) + "s";
  return text;
}

std::string FormatUnixMs(int64_t unix_ms) { return FormatUnixMsUtc(unix_ms, kUtcReadableFormat); }

std::string FormatAligned(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string text;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      line += cell;
      if (i + 1 < widths.size()) line += std::string(widths[i] - cell.size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    text += line + "\n";
  }
  return text;
}

std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::vector<std::string>> all;
  all.reserve(rows.size() + 1);
  all.push_back(header);
  all.insert(all.end(), rows.begin(), rows.end());
  return FormatAligned(all);
}

}  // namespace rwmeta::ctl
