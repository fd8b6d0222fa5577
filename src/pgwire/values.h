// Conversions between PostgreSQL's binary value format and the text format the front end speaks,
// for the types the server handles in binary: bool, int2, int4, int8, float4, float8, and the text
// types (text, varchar, name). Everything else is text-only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rwmeta::pgwire {

// True if values of `type_oid` can be sent or received in binary format.
bool SupportsBinary(uint32_t type_oid);

// Converts one binary-format value of `type_oid` to its text form ("42", "t", "1.5", "NaN").
// Returns InvalidArgument with SQLSTATE 22P03 (invalid_binary_representation) if the bytes have the
// wrong length for the type, and InvalidArgument with SQLSTATE 0A000 if the type has no binary
// support here.
Result<std::string> BinaryToText(uint32_t type_oid, std::string_view binary);

// Converts the text form of a value of `type_oid` to binary format. Returns InvalidArgument with
// SQLSTATE 22P02 (invalid_text_representation) if the text does not parse as the type, and with
// 0A000 if the type has no binary support here.
Result<std::string> TextToBinary(uint32_t type_oid, std::string_view text);

}  // namespace rwmeta::pgwire
