// The check every risectl id argument carries (snapshot ids, job ids).
#pragma once

#include <CLI/CLI.hpp>

namespace rwmeta::ctl {

// Accepts decimal digits only, at most 18446744073709551615. CLI11 alone reads "-1" into a
// uint64_t as 18446744073709551615, "0x10" as 16 and "" as 0; with this check each is a usage
// error (exit 2) that names the value ("--snapshot-ids: an id cannot be negative: -1"). Applied
// to each element of a delimited list.
const CLI::Validator& IdValidator();

}  // namespace rwmeta::ctl
