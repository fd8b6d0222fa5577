#include "objstore/key.h"

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

}  // namespace rwmeta::objstore
