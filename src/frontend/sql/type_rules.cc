// The type rules of the executor (PostgreSQL's, simplified):
//   - string literals and $n parameters are `unknown` and take the type of the other operand;
//   - integer literals are integer, larger ones bigint, others numeric (kDecimal);
//   - numeric operands promote smallint < integer < bigint < numeric < real < double precision;
//   - sum(int2/int4) is bigint, sum(int8/numeric) numeric, avg(integers/numeric) numeric with
//     PostgreSQL's division scale, avg(real/double) double precision; array_agg gives text[].
//   - text compares bytewise (the "C" collation).
// Here: the operand types of comparisons and arithmetic, the common type of CASE, COALESCE,
// VALUES and UNION, and arithmetic itself. Casts and coercions are in functions.cc (expr.h).
#include <algorithm>
#include <cmath>

#include "frontend/sql/compiler.h"
#include "frontend/sql/decimal.h"
#include "frontend/sql/sql_error.h"

namespace rwmeta::frontend::sql::internal {

namespace {

Status DivisionByZero() {
  return SqlError(StatusCode::kInvalidArgument, "22012", "division by zero");
}

}  // namespace

Status NoOperator(const std::string& op, TypeId l, TypeId r) {
  return SqlError(StatusCode::kNotFound, "42883",
                  "operator does not exist: " + TypeName(l) + " " + op + " " + TypeName(r));
}

// The type both sides of a comparison are brought to.
Result<TypeId> ComparisonType(const std::string& op, TypeId l, TypeId r) {
  if (l == r) return l == TypeId::kUnknown ? TypeId::kVarchar : l;
  if (l == TypeId::kUnknown) return r;
  if (r == TypeId::kUnknown) return l;
  if (IsNumeric(l) && IsNumeric(r)) {
    if (l == TypeId::kFloat64 || r == TypeId::kFloat64 || l == TypeId::kFloat32 ||
        r == TypeId::kFloat32) {
      return TypeId::kFloat64;
    }
    return std::max(l, r);  // int16 < int32 < int64 < decimal in TypeId order
  }
  if ((l == TypeId::kDate && r == TypeId::kTimestamp) ||
      (l == TypeId::kTimestamp && r == TypeId::kDate)) {
    return TypeId::kTimestamp;
  }
  return NoOperator(op, l, r);
}

TypeId ArithmeticType(TypeId l, TypeId r) {
  if (l == TypeId::kFloat64 || r == TypeId::kFloat64) return TypeId::kFloat64;
  if (l == TypeId::kFloat32 || r == TypeId::kFloat32) {
    return (l == TypeId::kFloat32 && r == TypeId::kFloat32) ? TypeId::kFloat32 : TypeId::kFloat64;
  }
  return std::max(l, r);
}

Result<Datum> IntegerResult(__int128 v, TypeId t) {
  __int128 lo = t == TypeId::kInt16 ? INT16_MIN : t == TypeId::kInt32 ? INT32_MIN : INT64_MIN;
  __int128 hi = t == TypeId::kInt16 ? INT16_MAX : t == TypeId::kInt32 ? INT32_MAX : INT64_MAX;
  if (v < lo || v > hi) {
    return OutOfRange(std::string(t == TypeId::kInt16   ? "smallint"
                                  : t == TypeId::kInt32 ? "integer"
                                                        : "bigint") +
                      " out of range");
  }
  return Datum{static_cast<int64_t>(v)};
}

Result<Datum> Arithmetic(char op, const Datum& a, const Datum& b, TypeId t) {
  if (IsInteger(t)) {
    __int128 x = std::get<int64_t>(a.v), y = std::get<int64_t>(b.v);
    switch (op) {
      case '+':
        return IntegerResult(x + y, t);
      case '-':
        return IntegerResult(x - y, t);
      case '*':
        return IntegerResult(x * y, t);
      case '/':
        if (y == 0) return DivisionByZero();
        return IntegerResult(x / y, t);
      case '%':
        if (y == 0) return DivisionByZero();
        return IntegerResult(x % y, t);
    }
  }
  if (t == TypeId::kDecimal) {
    RWMETA_ASSIGN_OR_RETURN(Decimal x, Decimal::Parse(std::get<std::string>(a.v)));
    RWMETA_ASSIGN_OR_RETURN(Decimal y, Decimal::Parse(std::get<std::string>(b.v)));
    Result<Decimal> r = op == '+'   ? DecimalAdd(x, y)
                        : op == '-' ? DecimalSub(x, y)
                        : op == '*' ? DecimalMul(x, y)
                        : op == '/' ? DecimalDiv(x, y)
                                    : DecimalMod(x, y);
    if (!r.ok()) return r.status();
    return Datum{r->ToString()};
  }
  double x = std::get<double>(a.v), y = std::get<double>(b.v), r = 0;
  switch (op) {
    case '+':
      r = x + y;
      break;
    case '-':
      r = x - y;
      break;
    case '*':
      r = x * y;
      break;
    case '/':
      if (y == 0) return DivisionByZero();
      r = x / y;
      break;
    case '%':
      return NoOperator("%", t, t);
  }
  if (std::isinf(r) && !std::isinf(x) && !std::isinf(y)) {
    return OutOfRange("value out of range: overflow");
  }
  if (t == TypeId::kFloat32) r = static_cast<double>(static_cast<float>(r));
  return Datum{r};
}

Result<TypeId> Compiler::CommonType(const std::vector<TypeId>& types, const char* context) {
  TypeId t = TypeId::kUnknown;
  for (TypeId x : types) {
    if (x == TypeId::kUnknown || x == t) continue;
    if (t == TypeId::kUnknown) {
      t = x;
    } else if (IsNumeric(t) && IsNumeric(x)) {
      t = ArithmeticType(t, x);
    } else if ((t == TypeId::kDate && x == TypeId::kTimestamp) ||
               (t == TypeId::kTimestamp && x == TypeId::kDate)) {
      t = TypeId::kTimestamp;
    } else {
      return SqlError(StatusCode::kInvalidArgument, "42804",
                      std::string(context) + " types " + TypeName(t) + " and " + TypeName(x) +
                          " cannot be matched");
    }
  }
  return t == TypeId::kUnknown ? TypeId::kVarchar : t;
}

}  // namespace rwmeta::frontend::sql::internal
