#pragma once

// The one way object-store keys are joined and numbered names are spelled. Every component that
// names an object under a directory ("backup/manifest.json", "hummock_001/12.data",
// "hummock_001/checkpoint/0") builds the key here, so a directory written with or without a
// trailing '/' names the same objects everywhere. Each component's own names (which objects it
// keeps, and what they are called) have one home beside it: hummock/names.h, backup/names.h.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rwmeta::objstore {

// "dir/" for a non-empty `directory` (trailing '/'s dropped first, so "dir//" is "dir/"), "" for
// an empty one: the prefix to List a directory's objects with, and to strip from listed keys.
std::string DirectoryPrefix(std::string_view directory);

// DirectoryPrefix(directory) + name: "dir/name", or "name" for an empty directory.
std::string JoinKey(std::string_view directory, std::string_view name);

// The name of `key` inside `directory` (the key without DirectoryPrefix(directory)), or nullopt
// when the key is not under that directory or names nothing in it (the key is the prefix itself).
// The name may contain '/' (an object in a subdirectory).
std::optional<std::string_view> NameInDirectory(std::string_view directory, std::string_view key);

// "<number><suffix>" with the number in canonical decimal: NumberedName(12, ".data") is "12.data".
std::string NumberedName(uint64_t number, std::string_view suffix);

// The number of a name NumberedName(number, suffix) spells, and nullopt for every other spelling:
// leading zeros ("007.data"), a sign, no digits, a number beyond uint64, anything after the suffix
// ("12.data.tmp"). So a number has one name, and a name one number.
std::optional<uint64_t> ParseNumberedName(std::string_view name, std::string_view suffix);

}  // namespace rwmeta::objstore
