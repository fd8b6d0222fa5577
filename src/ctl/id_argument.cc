#include "ctl/id_argument.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

namespace rwmeta::ctl {

const CLI::Validator& IdValidator() {
  static const CLI::Validator* const kValidator = new CLI::Validator(
      [](std::string& value) -> std::string {
        if (value.empty()) return "an empty value is not an id";
        if (value.front() == '-') return "an id cannot be negative: " + value;
        const std::string kMax = std::to_string(std::numeric_limits<uint64_t>::max());
        const bool digits = value.find_first_not_of("0123456789") == std::string::npos;
        std::string significant =
            value.substr(std::min(value.find_first_not_of('0'), value.size()));
        // Of the same length, decimal strings compare as their numbers.
        if (!digits || significant.size() > kMax.size() ||
            (significant.size() == kMax.size() && significant > kMax)) {
          return fmt::format("not an id: \"{}\" (ids are decimal numbers from 0 to {})", value,
                             kMax);
        }
        return std::string();
      },
      /*validator_desc=*/"");
  return *kValidator;
}

}  // namespace rwmeta::ctl
