#pragma once

// The one way object-store keys are joined. Every component that names an object under a
// directory ("backup/manifest.json", "hummock_001/12.data", "hummock_001/checkpoint/0") builds the
// key here, so a directory written with or without a trailing '/' names the same objects
// everywhere.

#include <string>
#include <string_view>

namespace rwmeta::objstore {

// "dir/" for a non-empty `directory` (trailing '/'s dropped first, so "dir//" is "dir/"), "" for
// an empty one: the prefix to List a directory's objects with, and to strip from listed keys.
std::string DirectoryPrefix(std::string_view directory);

// DirectoryPrefix(directory) + name: "dir/name", or "name" for an empty directory.
std::string JoinKey(std::string_view directory, std::string_view name);

}  // namespace rwmeta::objstore
