#include "objstore/key.h"

#include <charconv>

namespace rwmeta::objstore {

std::string DirectoryPrefix(std::string_view directory) {
  while (!directory.empty() && directory.back() == '/') directory.remove_suffix(1);
  std::string prefix(directory);
  if (!prefix.empty()) prefix.push_back('/');
  return prefix;
}

std::string JoinKey(std::string_view directory, std::string_view name) {
  return DirectoryPrefix(directory) + std::string(name);
}

std::optional<std::string_view> NameInDirectory(std::string_view directory, std::string_view key) {
  const std::string prefix = DirectoryPrefix(directory);
  if (key.size() <= prefix.size() || !key.starts_with(prefix)) return std::nullopt;
  return key.substr(prefix.size());
}

std::string NumberedName(uint64_t number, std::string_view suffix) {
  return std::to_string(number) + std::string(suffix);
}

std::optional<uint64_t> ParseNumberedName(std::string_view name, std::string_view suffix) {
  if (name.size() <= suffix.size() || !name.ends_with(suffix)) return std::nullopt;
  const std::string_view digits = name.substr(0, name.size() - suffix.size());
  // from_chars takes no sign and no spaces; the canonical form has no leading zero but "0" itself.
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return number;
}

}  // namespace rwmeta::objstore
