// Value helpers and the built-in scalar functions of the executor.
#include <algorithm>
#include <cmath>
#include <limits>

#include "common/clock.h"
#include "frontend/sql/decimal.h"
#include "frontend/sql/expr.h"
#include "frontend/sql/sql_error.h"

namespace rwmeta::frontend::sql::internal {
namespace {

Status IntOutOfRange(TypeId t) {
  return OutOfRange(std::string(t == TypeId::kInt16   ? "smallint"
                                : t == TypeId::kInt32 ? "integer"
                                                      : "bigint") +
                    " out of range");
}

Result<Datum> CheckIntRange(int64_t v, TypeId t) {
  if (t == TypeId::kInt16 && (v < INT16_MIN || v > INT16_MAX)) return IntOutOfRange(t);
  if (t == TypeId::kInt32 && (v < INT32_MIN || v > INT32_MAX)) return IntOutOfRange(t);
  return Datum{v};
}

// UTF-8 characters of `s` (a malformed byte counts as one character).
std::vector<std::string> Chars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    n = std::min(n, s.size() - i);
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string Join(const std::vector<std::string>& v, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to && i < v.size(); ++i) out += v[i];
  return out;
}

std::string Trim(const std::string& s, const std::string& chars, bool left, bool right) {
  std::vector<std::string> cs = Chars(s), set = Chars(chars);
  auto in = [&](const std::string& c) { return std::find(set.begin(), set.end(), c) != set.end(); };
  size_t b = 0, e = cs.size();
  while (left && b < e && in(cs[b])) ++b;
  while (right && e > b && in(cs[e - 1])) --e;
  return Join(cs, b, e);
}

bool IsPlainIdent(const std::string& s) {
  if (s.empty() || !(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '$')) {
      return false;
    }
  }
  static const char* kReserved[] = {
      "select", "from", "where", "table", "user", "order", "group",   "all",   "and",   "or",
      "not",    "null", "true",  "false", "as",   "limit", "offset",  "union", "case",  "when",
      "then",   "else", "end",   "join",  "on",   "using", "default", "check", "column"};
  for (const char* k : kReserved) {
    if (s == k) return false;
  }
  return true;
}

std::string FormatTypeName(int64_t oid) {
  switch (oid) {
    case 16:
      return "boolean";
    case 17:
      return "bytea";
    case 18:
      return "\"char\"";
    case 19:
      return "name";
    case 20:
      return "bigint";
    case 21:
      return "smallint";
    case 23:
      return "integer";
    case 25:
      return "text";
    case 26:
      return "oid";
    case 700:
      return "real";
    case 701:
      return "double precision";
    case 705:
      return "unknown";
    case 1009:
      return "text[]";
    case 1043:
      return "character varying";
    case 1082:
      return "date";
    case 1114:
      return "timestamp without time zone";
    case 1184:
      return "timestamp with time zone";
    case 1700:
      return "numeric";
    case 3802:
      return "jsonb";
    case 114:
      return "json";
    case 1000:
      return "boolean[]";
    case 1005:
      return "smallint[]";
    case 1007:
      return "integer[]";
    case 1016:
      return "bigint[]";
    case 1015:
      return "character varying[]";
    default:
      return "???";
  }
}

using Args = std::vector<Datum>;
using Impl = std::function<Result<Datum>(const Args&)>;

// A function of evaluated arguments. Strict: NULL in, NULL out (unless `strict` is false).
Expr Make(TypeId type, std::vector<Expr> args, Impl impl, bool strict = true) {
  auto shared = std::make_shared<std::vector<Expr>>(std::move(args));
  return Expr{type, [shared, impl, strict](const RowCtx* row) -> Result<Datum> {
                Args values;
                values.reserve(shared->size());
                for (const Expr& a : *shared) {
                  RWMETA_ASSIGN_OR_RETURN(Datum v, a.eval(row));
                  if (strict && v.is_null()) return Datum::Null();
                  values.push_back(std::move(v));
                }
                return impl(values);
              }};
}

const std::string& S(const Datum& d) { return std::get<std::string>(d.v); }
int64_t I(const Datum& d) { return std::get<int64_t>(d.v); }

}  // namespace

Expr ConstExpr(Datum d, TypeId type) {
  return Expr{type, [d](const RowCtx*) -> Result<Datum> { return d; }};
}

bool IsInteger(TypeId t) {
  return t == TypeId::kInt16 || t == TypeId::kInt32 || t == TypeId::kInt64;
}
bool IsNumeric(TypeId t) {
  return IsInteger(t) || t == TypeId::kFloat32 || t == TypeId::kFloat64 || t == TypeId::kDecimal;
}

std::string AsText(const Datum& d, TypeId t) {
  if (t == TypeId::kUnknown) t = TypeId::kVarchar;
  return DatumToText(d, t).value_or("");
}

Result<Datum> CastValue(const Datum& d, TypeId from, TypeId to) {
  if (d.is_null() || from == to) return d;
  if (to == TypeId::kVarchar || to == TypeId::kUnknown) {
    // boolean's cast to text says "true"/"false"; its output function says "t"/"f".
    if (from == TypeId::kBoolean) return Datum{std::string(std::get<bool>(d.v) ? "true" : "false")};
    return Datum{AsText(d, from)};
  }
  if (from == TypeId::kVarchar || from == TypeId::kUnknown) {
    return DatumFromText(std::get<std::string>(d.v), to);
  }
  if (IsInteger(from) && IsInteger(to)) return CheckIntRange(I(d), to);
  if (IsInteger(from) && (to == TypeId::kFloat32 || to == TypeId::kFloat64)) {
    return Datum{static_cast<double>(I(d))};
  }
  if (IsInteger(from) && to == TypeId::kDecimal) return Datum{std::to_string(I(d))};
  if (from == TypeId::kDecimal && (to == TypeId::kFloat32 || to == TypeId::kFloat64)) {
    RWMETA_ASSIGN_OR_RETURN(Decimal dec, Decimal::Parse(S(d)));
    return Datum{dec.ToDouble()};
  }
  if (from == TypeId::kDecimal && IsInteger(to)) {
    RWMETA_ASSIGN_OR_RETURN(Decimal dec, Decimal::Parse(S(d)));
    RWMETA_ASSIGN_OR_RETURN(Decimal r, dec.Rescale(0));
    if (r.mantissa > INT64_MAX || r.mantissa < INT64_MIN) return IntOutOfRange(to);
    return CheckIntRange(static_cast<int64_t>(r.mantissa), to);
  }
  if ((from == TypeId::kFloat32 || from == TypeId::kFloat64)) {
    double v = std::get<double>(d.v);
    if (to == TypeId::kFloat32 || to == TypeId::kFloat64) {
      return Datum{to == TypeId::kFloat32 ? static_cast<double>(static_cast<float>(v)) : v};
    }
    if (IsInteger(to)) {
      double r = std::nearbyint(v);
      if (std::isnan(r) || r < -9.2233720368547758e18 || r >= 9.2233720368547758e18) {
        return IntOutOfRange(to);
      }
      return CheckIntRange(static_cast<int64_t>(r), to);
    }
    if (to == TypeId::kDecimal) {
      if (std::isnan(v) || std::isinf(v)) return OutOfRange("cannot convert infinity to numeric");
      return DatumFromText(AsText(d, from), TypeId::kDecimal);
    }
  }
  if (from == TypeId::kDate && to == TypeId::kTimestamp) return Datum{I(d) * 86400000000LL};
  if (from == TypeId::kTimestamp && to == TypeId::kDate) {
    int64_t us = I(d);
    return Datum{us >= 0 ? us / 86400000000LL : -((-us + 86400000000LL - 1) / 86400000000LL)};
  }
  if (from == TypeId::kBoolean && IsInteger(to)) return Datum{int64_t{std::get<bool>(d.v) ? 1 : 0}};
  if (IsInteger(from) && to == TypeId::kBoolean) return Datum{I(d) != 0};
  return SqlError(StatusCode::kInvalidArgument, "42846",
                  "cannot cast type " + TypeName(from) + " to " + TypeName(to));
}

Expr Coerce(Expr e, TypeId to) {
  if (e.type == to) return e;
  TypeId from = e.type;
  EvalFn inner = std::move(e.eval);
  return Expr{to, [inner, from, to](const RowCtx* row) -> Result<Datum> {
                RWMETA_ASSIGN_OR_RETURN(Datum d, inner(row));
                return CastValue(d, from, to);
              }};
}

int CompareValues(const Datum& a, const Datum& b, TypeId t) {
  if (t == TypeId::kDecimal) {
    auto x = Decimal::Parse(S(a)), y = Decimal::Parse(S(b));
    if (x.ok() && y.ok()) return DecimalCompare(*x, *y);
  }
  if (const double* x = std::get_if<double>(&a.v)) {
    double y = std::get<double>(b.v);
    if (std::isnan(*x) || std::isnan(y)) return std::isnan(*x) - std::isnan(y);  // NaN is largest
    return *x < y ? -1 : (*x > y ? 1 : 0);
  }
  if (a.v.index() != b.v.index()) return a.v.index() < b.v.index() ? -1 : 1;
  return a.v < b.v ? -1 : (b.v < a.v ? 1 : 0);
}

Result<Expr> CompileFunction(const std::string& name, std::vector<Expr> args, QueryContext& ctx) {
  const size_t n = args.size();
  auto type_list = [&] {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += (i ? ", " : "") + TypeName(args[i].type);
    return s;
  };
  auto no_such = [&]() -> Status {
    return SqlError(StatusCode::kNotFound, "42883",
                    "function " + name + "(" + type_list() + ") does not exist");
  };
  // Brings string arguments to text; false if one is of another type (PostgreSQL does not cast
  // integer to text implicitly: lower(1) does not exist).
  auto text_args = [&](size_t from = 0) {
    for (size_t i = from; i < n; ++i) {
      if (args[i].type != TypeId::kVarchar && args[i].type != TypeId::kUnknown) return false;
      args[i] = Coerce(std::move(args[i]), TypeId::kVarchar);
    }
    return true;
  };
  auto int_arg = [&](size_t i) -> bool {
    if (args[i].type == TypeId::kUnknown) args[i] = Coerce(std::move(args[i]), TypeId::kInt64);
    if (!IsInteger(args[i].type)) return false;
    args[i] = Coerce(std::move(args[i]), TypeId::kInt64);
    return true;
  };
  QueryContext* qctx = &ctx;

  // --- strings
  if ((name == "lower" || name == "upper") && n == 1) {
    if (!text_args()) return no_such();
    bool up = name == "upper";
    return Make(TypeId::kVarchar, std::move(args), [up](const Args& a) -> Result<Datum> {
      std::string s = S(a[0]);
      for (char& c : s) {
        c = static_cast<char>(up ? std::toupper(static_cast<unsigned char>(c))
                                 : std::tolower(static_cast<unsigned char>(c)));
      }
      return Datum{s};
    });
  }
  if ((name == "length" || name == "char_length" || name == "character_length" ||
       name == "octet_length") &&
      n == 1) {
    if (!text_args()) return no_such();
    bool octets = name == "octet_length";
    return Make(TypeId::kInt32, std::move(args), [octets](const Args& a) -> Result<Datum> {
      return Datum{static_cast<int64_t>(octets ? S(a[0]).size() : Chars(S(a[0])).size())};
    });
  }
  if ((name == "substr" || name == "substring") && (n == 2 || n == 3)) {
    args[0] = Coerce(std::move(args[0]), TypeId::kVarchar);
    for (size_t i = 1; i < n; ++i) {
      if (!int_arg(i)) return no_such();
    }
    return Make(TypeId::kVarchar, std::move(args), [n](const Args& a) -> Result<Datum> {
      std::vector<std::string> cs = Chars(S(a[0]));
      int64_t start = I(a[1]);
      int64_t end = static_cast<int64_t>(cs.size()) + 1;
      if (n == 3) {
        if (I(a[2]) < 0) {
          return SqlError(StatusCode::kInvalidArgument, "22011",
                          "negative substring length not allowed");
        }
        end = std::min(end, start + I(a[2]));
      }
      start = std::max<int64_t>(start, 1);
      if (end <= start) return Datum{std::string()};
      return Datum{Join(cs, static_cast<size_t>(start - 1), static_cast<size_t>(end - 1))};
    });
  }
  if ((name == "btrim" || name == "ltrim" || name == "rtrim" || name == "trim") &&
      (n == 1 || n == 2)) {
    if (!text_args()) return no_such();
    bool left = name != "rtrim", right = name != "ltrim";
    return Make(TypeId::kVarchar, std::move(args),
                [left, right, n](const Args& a) -> Result<Datum> {
                  return Datum{Trim(S(a[0]), n == 2 ? S(a[1]) : " ", left, right)};
                });
  }
  if (name == "replace" && n == 3) {
    if (!text_args()) return no_such();
    return Make(TypeId::kVarchar, std::move(args), [](const Args& a) -> Result<Datum> {
      std::string s = S(a[0]);
      const std::string &from = S(a[1]), &to = S(a[2]);
      if (from.empty()) return Datum{s};
      std::string out;
      size_t pos = 0;
      for (size_t f; (f = s.find(from, pos)) != std::string::npos; pos = f + from.size()) {
        out += s.substr(pos, f - pos) + to;
      }
      return Datum{out + s.substr(pos)};
    });
  }
  if ((name == "concat" || name == "concat_ws") && n >= (name == "concat" ? 1u : 2u)) {
    bool ws = name == "concat_ws";
    std::vector<TypeId> types;
    for (auto& e : args) types.push_back(e.type);
    return Make(
        TypeId::kVarchar, std::move(args),
        [ws, types](const Args& a) -> Result<Datum> {
          if (ws && a[0].is_null()) return Datum::Null();
          std::string out;
          bool first = true;
          for (size_t i = ws ? 1 : 0; i < a.size(); ++i) {
            if (a[i].is_null()) continue;
            if (ws && !first) out += AsText(a[0], types[0]);
            out += AsText(a[i], types[i]);
            first = false;
          }
          return Datum{out};
        },
        /*strict=*/false);
  }
  if ((name == "left" || name == "right") && n == 2) {
    args[0] = Coerce(std::move(args[0]), TypeId::kVarchar);
    if (!int_arg(1)) return no_such();
    bool left = name == "left";
    return Make(TypeId::kVarchar, std::move(args), [left](const Args& a) -> Result<Datum> {
      std::vector<std::string> cs = Chars(S(a[0]));
      int64_t len = static_cast<int64_t>(cs.size()), k = I(a[1]);
      int64_t take = k >= 0 ? std::min(k, len) : std::max<int64_t>(0, len + k);
      return Datum{left ? Join(cs, 0, static_cast<size_t>(take))
                        : Join(cs, static_cast<size_t>(len - take), cs.size())};
    });
  }
  if ((name == "position" || name == "strpos") && n == 2) {
    if (!text_args()) return no_such();
    return Make(TypeId::kInt32, std::move(args), [](const Args& a) -> Result<Datum> {
      size_t f = S(a[0]).find(S(a[1]));
      if (f == std::string::npos) return Datum{int64_t{0}};
      return Datum{static_cast<int64_t>(Chars(S(a[0]).substr(0, f)).size()) + 1};
    });
  }
  if (name == "quote_ident" && n == 1) {
    if (!text_args()) return no_such();
    return Make(TypeId::kVarchar, std::move(args), [](const Args& a) -> Result<Datum> {
      const std::string& s = S(a[0]);
      if (IsPlainIdent(s)) return Datum{s};
      std::string out = "\"";
      for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
      return Datum{out + "\""};
    });
  }
  if (name == "array_to_string" && (n == 2 || n == 3)) {
    if (args[0].type == TypeId::kUnknown) args[0] = Coerce(std::move(args[0]), TypeId::kTextArray);
    if (args[0].type != TypeId::kTextArray) return no_such();
    if (!text_args(1)) return no_such();
    return Make(TypeId::kVarchar, std::move(args), [](const Args& a) -> Result<Datum> {
      const auto& items = std::get<std::vector<std::string>>(a[0].v);
      std::string out;
      for (size_t i = 0; i < items.size(); ++i) out += (i ? S(a[1]) : "") + items[i];
      return Datum{out};
    });
  }
  if ((name == "array_upper" || name == "array_length" || name == "cardinality") &&
      (n == 1 || n == 2)) {
    if (args[0].type == TypeId::kUnknown) args[0] = Coerce(std::move(args[0]), TypeId::kTextArray);
    if (args[0].type != TypeId::kTextArray) return no_such();
    return Make(TypeId::kInt32, std::move(args), [](const Args& a) -> Result<Datum> {
      const auto& items = std::get<std::vector<std::string>>(a[0].v);
      if (items.empty()) return Datum::Null();
      return Datum{static_cast<int64_t>(items.size())};
    });
  }
  // --- numbers
  if ((name == "abs" || name == "ceil" || name == "ceiling" || name == "floor") && n == 1) {
    TypeId t = args[0].type == TypeId::kUnknown ? TypeId::kFloat64 : args[0].type;
    if (!IsNumeric(t)) return no_such();
    args[0] = Coerce(std::move(args[0]), t);
    std::string op = name;
    return Make(t, std::move(args), [op, t](const Args& a) -> Result<Datum> {
      if (IsInteger(t)) {
        int64_t v = I(a[0]);
        if (op != "abs") return Datum{v};
        if (v == INT64_MIN) return IntOutOfRange(t);
        return CheckIntRange(v < 0 ? -v : v, t);
      }
      if (t == TypeId::kDecimal) {
        RWMETA_ASSIGN_OR_RETURN(Decimal d, Decimal::Parse(S(a[0])));
        if (op == "abs")
          return Datum{Decimal{d.mantissa < 0 ? -d.mantissa : d.mantissa, d.scale}.ToString()};
        RWMETA_ASSIGN_OR_RETURN(Decimal r, d.Rescale(0));
        RWMETA_ASSIGN_OR_RETURN(Decimal back, r.Rescale(d.scale));
        int cmp = DecimalCompare(back, d);
        if (op == "floor" && cmp > 0) r.mantissa -= 1;
        if (op != "floor" && cmp < 0) r.mantissa += 1;
        return Datum{r.ToString()};
      }
      double v = std::get<double>(a[0].v);
      return Datum{op == "abs" ? std::fabs(v) : op == "floor" ? std::floor(v) : std::ceil(v)};
    });
  }
  if (name == "round" && (n == 1 || n == 2)) {
    TypeId t = args[0].type;
    if (t == TypeId::kUnknown || IsInteger(t)) t = TypeId::kDecimal;
    if (!IsNumeric(t)) return no_such();
    if (n == 2 && (t != TypeId::kDecimal || !int_arg(1))) return no_such();
    args[0] = Coerce(std::move(args[0]), t);
    return Make(t, std::move(args), [t](const Args& a) -> Result<Datum> {
      if (t == TypeId::kDecimal) {
        RWMETA_ASSIGN_OR_RETURN(Decimal d, Decimal::Parse(S(a[0])));
        int scale = a.size() == 2 ? static_cast<int>(std::clamp<int64_t>(I(a[1]), 0, 38)) : 0;
        RWMETA_ASSIGN_OR_RETURN(Decimal r, d.Rescale(scale));
        return Datum{r.ToString()};
      }
      return Datum{std::nearbyint(std::get<double>(a[0].v))};  // half to even, like rint()
    });
  }
  if (name == "mod" && n == 2) {
    TypeId a0 = args[0].type, a1 = args[1].type;
    if (a0 == TypeId::kUnknown) a0 = a1 == TypeId::kUnknown ? TypeId::kInt32 : a1;
    if (a1 == TypeId::kUnknown) a1 = a0;
    if (!IsNumeric(a0) || !IsNumeric(a1)) return no_such();
    TypeId t = IsInteger(a0) && IsInteger(a1) ? std::max(a0, a1) : TypeId::kDecimal;
    args[0] = Coerce(std::move(args[0]), t);
    args[1] = Coerce(std::move(args[1]), t);
    return Make(t, std::move(args), [t](const Args& a) -> Result<Datum> {
      if (t == TypeId::kDecimal) {
        RWMETA_ASSIGN_OR_RETURN(Decimal x, Decimal::Parse(S(a[0])));
        RWMETA_ASSIGN_OR_RETURN(Decimal y, Decimal::Parse(S(a[1])));
        RWMETA_ASSIGN_OR_RETURN(Decimal r, DecimalMod(x, y));
        return Datum{r.ToString()};
      }
      if (I(a[1]) == 0) return SqlError(StatusCode::kInvalidArgument, "22012", "division by zero");
      if (I(a[1]) == -1) return Datum{int64_t{0}};
      return Datum{I(a[0]) % I(a[1])};
    });
  }
  // --- session and catalog information
  if (name == "now" && n == 0) {
    return Expr{TypeId::kTimestamp,
                [](const RowCtx*) -> Result<Datum> { return Datum{UnixNowMicros()}; }};
  }
  if (name == "current_database" && n == 0) {
    return ConstExpr(Datum{ctx.CurrentDatabase()}, TypeId::kVarchar);
  }
  if (name == "current_schema" && n == 0) {
    std::vector<std::string> path = ctx.SearchPath();
    return ConstExpr(path.empty() ? Datum::Null() : Datum{path[0]}, TypeId::kVarchar);
  }
  if (name == "current_schemas" && n == 1) {
    args[0] = Coerce(std::move(args[0]), TypeId::kBoolean);
    if (args[0].type != TypeId::kBoolean) return no_such();
    return Make(TypeId::kTextArray, std::move(args), [qctx](const Args& a) -> Result<Datum> {
      std::vector<std::string> path = qctx->SearchPath();
      bool has_catalog = std::find(path.begin(), path.end(), "pg_catalog") != path.end();
      if (std::get<bool>(a[0].v) && !has_catalog) path.insert(path.begin(), "pg_catalog");
      return Datum{path};
    });
  }
  if (name == "version" && n == 0) {
    return ConstExpr(Datum{std::string("PostgreSQL 13.14-RisingWave-compatible rwmeta 0.1.0")},
                     TypeId::kVarchar);
  }
  if ((name == "current_user" || name == "session_user" || name == "user") && n == 0) {
    return ConstExpr(Datum{ctx.CurrentUser()}, TypeId::kVarchar);
  }
  if (name == "pg_table_is_visible" && n == 1) {
    if (!int_arg(0)) return no_such();
    return Make(TypeId::kBoolean, std::move(args), [qctx](const Args& a) -> Result<Datum> {
      return Datum{qctx->TableIsVisible(I(a[0]))};
    });
  }
  if (name == "pg_get_userbyid" && n == 1) {
    if (!int_arg(0)) return no_such();
    return Make(TypeId::kVarchar, std::move(args), [qctx](const Args& a) -> Result<Datum> {
      return Datum{qctx->UserNameById(I(a[0]))};
    });
  }
  if (name == "format_type" && n == 2) {
    if (!int_arg(0) || !int_arg(1)) return no_such();
    return Make(
        TypeId::kVarchar, std::move(args),
        [](const Args& a) -> Result<Datum> {
          std::string base = FormatTypeName(I(a[0]));
          int64_t mod = I(a[1]);
          if (I(a[0]) == 1043 && mod >= 4) base += "(" + std::to_string(mod - 4) + ")";
          return Datum{base};
        },
        /*strict=*/false);
  }
  if (name == "pg_encoding_to_char" && n == 1) {
    if (!int_arg(0)) return no_such();
    return Make(TypeId::kVarchar, std::move(args), [](const Args& a) -> Result<Datum> {
      return Datum{std::string(I(a[0]) == 6 ? "UTF8" : I(a[0]) == 0 ? "SQL_ASCII" : "")};
    });
  }
  if ((name == "obj_description" || name == "col_description" || name == "shobj_description" ||
       name == "pg_get_expr" || name == "pg_get_viewdef" || name == "pg_get_indexdef" ||
       name == "pg_get_constraintdef" || name == "pg_get_statisticsobjdef_columns" ||
       name == "pg_get_triggerdef" || name == "pg_get_ruledef") &&
      n >= 1 && n <= 3) {
    return ConstExpr(Datum::Null(), TypeId::kVarchar);
  }
  if (name == "pg_relation_is_publishable" && n == 1) {
    return ConstExpr(Datum{false}, TypeId::kBoolean);
  }
  if ((name == "has_table_privilege" || name == "has_schema_privilege" ||
       name == "has_database_privilege" || name == "has_column_privilege" ||
       name == "has_any_column_privilege") &&
      n >= 2 && n <= 4) {
    return ConstExpr(Datum{true}, TypeId::kBoolean);
  }
  if (name == "pg_backend_pid" && n == 0) return ConstExpr(Datum{int64_t{0}}, TypeId::kInt32);
  return no_such();
}

}  // namespace rwmeta::frontend::sql::internal
