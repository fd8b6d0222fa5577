// UTF-8 well-formedness: text that goes into protobuf `string` fields, PostgreSQL text columns and
// pgwire messages must be valid UTF-8 (no overlong forms, surrogates, or code points above
// U+10FFFF), and an error may quote stored bytes that are not.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rwmeta {

// The length (1 to 4) of the well-formed UTF-8 sequence starting at text[i], or 0 if none does.
// REQUIRES: i < text.size().
size_t Utf8SequenceLength(std::string_view text, size_t i);

// Whether all of `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

// `text` with every byte that is not part of a well-formed sequence written as \xNN (lower-case
// hex); valid text comes back unchanged.
std::string EscapeInvalidUtf8(std::string_view text);

}  // namespace rwmeta
