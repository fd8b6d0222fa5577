// SQL types and values of the front end's executor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"

namespace rwmeta::frontend::sql {

enum class TypeId {
  kUnknown,  // an untyped literal or parameter not yet coerced; also the type of a bare NULL
  kBoolean,
  kInt16,
  kInt32,
  kInt64,
  kFloat32,
  kFloat64,
  kDecimal,
  kVarchar,  // varchar and text
  kDate,
  kTimestamp,  // without time zone
  kJsonb,
  kBytea,
  kTextArray,  // text[]; enough for the catalogs psql reads
};

// PostgreSQL type OID for the wire (RowDescription), pg_type.typlen, and the SQL name ("integer").
uint32_t PgTypeOid(TypeId type);
int16_t PgTypeSize(TypeId type);
std::string TypeName(TypeId type);
// Parses a SQL type name as written in DDL ("int", "bigint", "varchar(20)", "timestamp", ...).
// InvalidArgument (SQLSTATE 42704) for unknown names.
Result<TypeId> TypeFromName(const std::string& name);

// A value. Representation by type:
//   kBoolean → bool; kInt16/32/64 → int64_t; kFloat32/64 → double;
//   kDecimal → std::string (canonical decimal text); kVarchar/kJsonb/kBytea → std::string;
//   kDate → int32 days since 1970-01-01 kept as int64_t; kTimestamp → int64_t microseconds since
//   1970-01-01 00:00:00; kTextArray → std::vector<std::string>.
struct Datum {
  using Storage =
      std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<std::string>>;
  Storage v;
  bool is_null() const { return std::holds_alternative<std::monostate>(v); }
  static Datum Null() { return Datum{}; }
};

using Tuple = std::vector<Datum>;

struct ColumnDesc {
  std::string name;
  TypeId type = TypeId::kVarchar;
};

// Text form as PostgreSQL prints it in text-format results ("t"/"f", "1.5", "2024-01-02",
// "2024-01-02 03:04:05", JSON as stored, bytea as \x hex). nullopt for NULL.
std::optional<std::string> DatumToText(const Datum& d, TypeId type);
// Parses text into a value of `type` (parameters, casts, literals). InvalidArgument with SQLSTATE
// 22P02 naming the type and the text on bad input.
Result<Datum> DatumFromText(const std::string& text, TypeId type);

}  // namespace rwmeta::frontend::sql
