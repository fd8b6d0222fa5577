// The binder and executor: compiles libpg_query's SelectStmt JSON into closures over in-memory
// rows, then runs them. Everything is materialized; relations are small (catalogs) or scanned once.
//
// Type rules, in short (PostgreSQL's, simplified):
//   - string literals and $n parameters are `unknown` and take the type of the other operand;
//   - integer literals are integer, larger ones bigint, others numeric (kDecimal);
//   - numeric operands promote smallint < integer < bigint < numeric < real < double precision;
//   - sum(int2/int4) is bigint, sum(int8/numeric) numeric, avg(integers/numeric) numeric with
//     PostgreSQL's division scale, avg(real/double) double precision; array_agg gives text[].
//   - text compares bytewise (the "C" collation).
#include "frontend/sql/executor.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>
#include <unordered_map>

#include "frontend/sql/decimal.h"
#include "frontend/sql/expr.h"
#include "frontend/sql/parser.h"
#include "frontend/sql/sql_error.h"

namespace rwmeta::frontend::sql {

Status MemoryRelation::Scan(const std::function<Status(const Tuple&)>& visit) {
  for (const Tuple& row : rows_) {
    RWMETA_RETURN_IF_ERROR(visit(row));
  }
  return Status::Ok();
}

namespace {

using internal::CastValue;
using internal::Coerce;
using internal::CompareValues;
using internal::ConstExpr;
using internal::EvalFn;
using internal::Expr;
using internal::IsInteger;
using internal::IsNumeric;
using internal::Json;
using internal::RowCtx;

// ---------------------------------------------------------------- JSON access (never throws)

const Json* Get(const Json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}
std::string GetStr(const Json& j, const char* key) {
  const Json* v = Get(j, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}
int64_t GetInt(const Json& j, const char* key, int64_t def = 0) {
  const Json* v = Get(j, key);
  return v && v->is_number_integer() ? v->get<int64_t>() : def;
}
bool GetBool(const Json& j, const char* key) {
  const Json* v = Get(j, key);
  return v && v->is_boolean() && v->get<bool>();
}
const Json& EmptyArray() {
  static const Json kEmpty = Json::array();
  return kEmpty;
}
const Json& GetList(const Json& j, const char* key) {
  const Json* v = Get(j, key);
  return v && v->is_array() ? *v : EmptyArray();
}
// The single key of a node object ("ColumnRef") and its body.
std::string NodeKind(const Json& n, const Json** body) {
  if (!n.is_object() || n.size() != 1) {
    *body = nullptr;
    return "";
  }
  *body = &n.begin().value();
  return n.begin().key();
}
// [{"String":{"sval":"a"}}, ...] → {"a", ...}
std::vector<std::string> StringList(const Json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const Json& item : list) {
    const Json* s = Get(item, "String");
    out.push_back(s ? GetStr(*s, "sval") : std::string());
  }
  return out;
}
Json StripLocations(const Json& j) {
  if (j.is_object()) {
    Json out = Json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() != "location") out[it.key()] = StripLocations(it.value());
    }
    return out;
  }
  if (j.is_array()) {
    Json out = Json::array();
    for (const Json& x : j) out.push_back(StripLocations(x));
    return out;
  }
  return j;
}

Status Unsupported(const std::string& what) { return NotSupported(what + " is not supported"); }

// ---------------------------------------------------------------- scopes and plans

struct ScopeCol {
  std::string table;  // alias or relation name; empty for USING-merged and unnamed columns
  std::string name;
  TypeId type = TypeId::kVarchar;
  bool qualified_only = false;  // a join's USING input column: only `t.col` reaches it
  bool in_star = true;
};

struct Scope {
  std::vector<ScopeCol> cols;
  const Scope* outer = nullptr;
};

using RowsFn = std::function<Result<std::vector<Tuple>>(const RowCtx*)>;

struct Plan {
  std::vector<ColumnDesc> columns;
  RowsFn run;
};

struct Source {
  std::vector<ScopeCol> cols;
  RowsFn run;
};

struct SortKey {
  size_t index;  // into the row of outputs followed by hidden sort values
  bool desc = false;
  bool nulls_first = false;
};

// Aggregation in progress: the bound GROUP BY keys and the aggregate calls found so far. The row
// after aggregation is [key values..., aggregate results...].
struct AggCall {
  std::string name;
  bool star = false;
  bool distinct = false;
  std::vector<Expr> args;
  std::vector<Expr> order;  // ORDER BY inside the call (string_agg(x, ',' ORDER BY x))
  std::vector<SortKey> order_keys;
  std::optional<Expr> filter;  // FILTER (WHERE ...): rows where it is not true are skipped
  TypeId type = TypeId::kUnknown;
};

struct AggMode {
  std::vector<Json> key_nodes;   // without locations
  std::vector<int> key_columns;  // input column of a key that is a plain column reference, or -1
  std::vector<TypeId> key_types;
  std::vector<AggCall> calls;
  const Scope* input = nullptr;
};

bool IsAggregateName(const std::string& n) {
  return n == "count" || n == "sum" || n == "min" || n == "max" || n == "avg" || n == "bool_and" ||
         n == "bool_or" || n == "every" || n == "string_agg" || n == "array_agg";
}

std::string FuncName(const Json& func_call) {
  std::vector<std::string> parts = StringList(GetList(func_call, "funcname"));
  if (parts.empty()) return "";
  std::string n = parts.back();
  for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n;
}

// Whether `node` contains an aggregate call outside any subquery.
bool HasAggregate(const Json& node) {
  if (node.is_array()) {
    for (const Json& x : node) {
      if (HasAggregate(x)) return true;
    }
    return false;
  }
  if (!node.is_object()) return false;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it.key() == "SubLink" || it.key() == "SelectStmt") continue;
    if (it.key() == "FuncCall" && IsAggregateName(FuncName(it.value())) &&
        !Get(it.value(), "over")) {
      return true;
    }
    if (HasAggregate(it.value())) return true;
  }
  return false;
}

// PostgreSQL's FigureColname: how an output column without AS is called.
std::string FigureColname(const Json& node, int* strength) {
  const Json* b;
  std::string kind = NodeKind(node, &b);
  *strength = 2;
  if (kind == "ColumnRef") {
    const Json& fields = GetList(*b, "fields");
    if (!fields.empty()) {
      const Json* s = Get(fields.back(), "String");
      if (s) return GetStr(*s, "sval");
    }
  } else if (kind == "A_Indirection") {
    const Json& ind = GetList(*b, "indirection");
    if (!ind.empty() && Get(ind.back(), "String"))
      return GetStr(*Get(ind.back(), "String"), "sval");
    if (const Json* arg = Get(*b, "arg")) return FigureColname(*arg, strength);
  } else if (kind == "FuncCall") {
    return FuncName(*b);
  } else if (kind == "A_Expr") {
    if (GetStr(*b, "kind") == "AEXPR_NULLIF") return "nullif";
  } else if (kind == "TypeCast") {
    if (const Json* arg = Get(*b, "arg")) {
      int s;
      std::string n = FigureColname(*arg, &s);
      if (s == 2) return n;
    }
    if (const Json* tn = Get(*b, "typeName")) {
      std::vector<std::string> names = StringList(GetList(*tn, "names"));
      if (!names.empty()) {
        *strength = 1;
        return names.back();
      }
    }
  } else if (kind == "CollateClause") {
    if (const Json* arg = Get(*b, "arg")) return FigureColname(*arg, strength);
  } else if (kind == "SubLink") {
    std::string t = GetStr(*b, "subLinkType");
    if (t == "EXISTS_SUBLINK") return "exists";
    if (t == "ARRAY_SUBLINK") return "array";
    if (t == "EXPR_SUBLINK") {
      const Json* sel = Get(*b, "subselect");
      const Json* body = sel ? Get(*sel, "SelectStmt") : nullptr;
      if (body) {
        const Json& targets = GetList(*body, "targetList");
        if (targets.size() == 1) {
          const Json* rt = Get(targets[0], "ResTarget");
          if (rt && !GetStr(*rt, "name").empty()) return GetStr(*rt, "name");
          if (rt && Get(*rt, "val")) {
            int s;
            std::string n = FigureColname(*Get(*rt, "val"), &s);
            if (s == 2) return n;
          }
        }
      }
    }
  } else if (kind == "CaseExpr") {
    *strength = 1;
    return "case";
  } else if (kind == "A_ArrayExpr") {
    *strength = 1;
    return "array";
  } else if (kind == "CoalesceExpr") {
    return "coalesce";
  } else if (kind == "MinMaxExpr") {
    return GetStr(*b, "op") == "IS_GREATEST" ? "greatest" : "least";
  } else if (kind == "SQLValueFunction") {
    std::string op = GetStr(*b, "op");
    if (op.rfind("SVFOP_", 0) == 0) {
      op = op.substr(6);
      for (char& c : op) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (op == "current_catalog") return "current_catalog";
      return op;
    }
  }
  *strength = 0;
  return "?column?";
}

std::string EncodeKey(const Tuple& t, const std::vector<TypeId>& types) {
  std::string key;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].is_null()) {
      key += '\0';
      continue;
    }
    std::string text = internal::AsText(t[i], i < types.size() ? types[i] : TypeId::kVarchar);
    if (i < types.size() && types[i] == TypeId::kDecimal && text.find('.') != std::string::npos) {
      while (text.back() == '0') text.pop_back();
      if (text.back() == '.') text.pop_back();
    }
    key += '\1' + std::to_string(text.size()) + ':' + text;
  }
  return key;
}

// NULLs sort as larger than every value (last ascending, first descending) unless told otherwise.
int CompareForSort(const Datum& a, const Datum& b, TypeId t, const SortKey& k) {
  if (a.is_null() || b.is_null()) {
    if (a.is_null() && b.is_null()) return 0;
    return a.is_null() == k.nulls_first ? -1 : 1;
  }
  int c = CompareValues(a, b, t);
  return k.desc ? -c : c;
}

void SortRows(std::vector<Tuple>* rows, const std::vector<SortKey>& keys,
              const std::vector<TypeId>& types) {
  if (keys.empty()) return;
  std::stable_sort(rows->begin(), rows->end(), [&](const Tuple& a, const Tuple& b) {
    for (const SortKey& k : keys) {
      int c = CompareForSort(a[k.index], b[k.index], types[k.index], k);
      if (c != 0) return c < 0;
    }
    return false;
  });
}

void ParseSortDirection(const Json& sort_by, SortKey* key) {
  std::string dir = GetStr(sort_by, "sortby_dir");
  std::string nulls = GetStr(sort_by, "sortby_nulls");
  key->desc = dir == "SORTBY_DESC";
  if (dir == "SORTBY_USING") {  // ORDER BY x USING > is descending
    std::vector<std::string> op = StringList(GetList(sort_by, "useOp"));
    key->desc = !op.empty() && (op.back() == ">" || op.back() == ">=");
  }
  key->nulls_first = nulls == "SORTBY_NULLS_FIRST" || (nulls != "SORTBY_NULLS_LAST" && key->desc);
}

Status DivisionByZero() {
  return SqlError(StatusCode::kInvalidArgument, "22012", "division by zero");
}

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

// LIKE with % and _ and backslash escapes.
bool LikeMatch(const std::string& s, size_t si, const std::string& p, size_t pi) {
  while (pi < p.size()) {
    char c = p[pi];
    if (c == '%') {
      while (pi < p.size() && p[pi] == '%') ++pi;
      if (pi == p.size()) return true;
      for (size_t k = si; k <= s.size(); ++k) {
        if (LikeMatch(s, k, p, pi)) return true;
      }
      return false;
    }
    if (si >= s.size()) return false;
    if (c == '_') {
      ++si;
      ++pi;
      continue;
    }
    if (c == '\\' && pi + 1 < p.size()) c = p[++pi];
    if (s[si] != c) return false;
    ++si;
    ++pi;
  }
  return si == s.size();
}

std::string LowerAscii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---------------------------------------------------------------- the compiler

class Compiler {
 public:
  explicit Compiler(QueryContext& ctx) : ctx_(ctx) {}

  Result<Plan> CompileSelect(const Json& stmt, const Scope* outer);
  Result<Expr> CompileExpr(const Json& node, const Scope* scope, AggMode* agg);

 private:
  Result<Plan> CompileSetOp(const Json& stmt, const Scope* outer);
  Result<Plan> CompileValues(const Json& stmt, const Scope* outer);
  Result<Source> CompileFrom(const Json& from_list, const Scope* outer);
  Result<Source> CompileFromItem(const Json& item, const Scope* outer);
  Result<Source> CompileJoin(const Json& join, const Scope* outer);
  Result<Source> CompileRangeFunction(const Json& rf, const Scope* outer);
  Result<Expr> CompileColumnRef(const Json& body, const Scope* scope, AggMode* agg);
  Result<Expr> CompileAExpr(const Json& body, const Scope* scope, AggMode* agg);
  Result<Expr> CompileFuncCall(const Json& body, const Scope* scope, AggMode* agg);
  Result<Expr> CompileAggregate(const Json& body, const std::string& name, AggMode* agg);
  Result<Expr> CompileSubLink(const Json& body, const Scope* scope, AggMode* agg);
  Result<Expr> CompileTypeCast(const Json& body, const Scope* scope, AggMode* agg);
  Result<Expr> CompileCase(const Json& body, const Scope* scope, AggMode* agg);
  Result<Expr> CompileConst(const Json& body);
  Result<Expr> MakeBinary(const std::string& op, Expr l, Expr r);
  Result<Expr> MakeBool(Expr e, const char* where);
  Result<std::vector<Expr>> CompileList(const Json& list, const Scope* scope, AggMode* agg);
  // The common type of several expressions (CASE, COALESCE, VALUES, UNION); 42804 on conflict.
  Result<TypeId> CommonType(const std::vector<TypeId>& types, const char* context);
  // Applies ORDER BY (already bound to row indexes), DISTINCT, OFFSET and LIMIT.
  // `distinct_on` (row indexes) keeps the first row of each DISTINCT ON group after sorting.
  Result<std::vector<Tuple>> Finish(std::vector<Tuple> rows, size_t n_out, bool distinct,
                                    const std::vector<TypeId>& types,
                                    const std::vector<SortKey>& keys, const Expr* offset,
                                    const Expr* limit, const RowCtx* outer,
                                    const std::vector<size_t>& distinct_on = {});
  Result<std::pair<Expr*, Expr*>> CompileLimit(const Json& stmt, Expr* offset, Expr* limit);

  QueryContext& ctx_;
  int view_depth_ = 0;
  // WITH queries in scope, innermost last; a name in FROM looks here before the catalog.
  std::vector<std::pair<std::string, std::shared_ptr<Plan>>> ctes_;
};

Result<Expr> Compiler::MakeBool(Expr e, const char* where) {
  if (e.type == TypeId::kUnknown) e = Coerce(std::move(e), TypeId::kBoolean);
  if (e.type != TypeId::kBoolean) {
    return SqlError(StatusCode::kInvalidArgument, "42804",
                    std::string("argument of ") + where + " must be type boolean, not type " +
                        TypeName(e.type));
  }
  return e;
}

Result<std::vector<Expr>> Compiler::CompileList(const Json& list, const Scope* scope,
                                                AggMode* agg) {
  std::vector<Expr> out;
  if (!list.is_array()) return out;
  for (const Json& item : list) {
    RWMETA_ASSIGN_OR_RETURN(Expr e, CompileExpr(item, scope, agg));
    out.push_back(std::move(e));
  }
  return out;
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

Result<Expr> Compiler::CompileConst(const Json& body) {
  if (GetBool(body, "isnull")) return ConstExpr(Datum::Null(), TypeId::kUnknown);
  if (const Json* iv = Get(body, "ival")) {
    return ConstExpr(Datum{GetInt(*iv, "ival", 0)}, TypeId::kInt32);
  }
  if (const Json* fv = Get(body, "fval")) {
    std::string text = GetStr(*fv, "fval");
    bool integral = text.find_first_of(".eE") == std::string::npos;
    if (integral) {
      // Like PostgreSQL's make_const: integer if it fits, else bigint, else numeric.
      auto as_int = DatumFromText(text, TypeId::kInt64);
      if (as_int.ok()) {
        int64_t v = std::get<int64_t>(as_int->v);
        bool fits32 = v >= INT32_MIN && v <= INT32_MAX;
        return ConstExpr(*as_int, fits32 ? TypeId::kInt32 : TypeId::kInt64);
      }
    }
    Result<Datum> d = DatumFromText(text, TypeId::kDecimal);
    if (!d.ok()) {
      // Beyond our numeric's 38 digits (1e300): keep the value as double precision.
      RWMETA_ASSIGN_OR_RETURN(Datum f, DatumFromText(text, TypeId::kFloat64));
      return ConstExpr(f, TypeId::kFloat64);
    }
    return ConstExpr(*d, TypeId::kDecimal);
  }
  if (const Json* bv = Get(body, "boolval")) {
    return ConstExpr(Datum{GetBool(*bv, "boolval")}, TypeId::kBoolean);
  }
  if (const Json* sv = Get(body, "sval")) {
    return ConstExpr(Datum{GetStr(*sv, "sval")}, TypeId::kUnknown);
  }
  if (Get(body, "bsval")) return Unsupported("bit string literal");
  return ConstExpr(Datum::Null(), TypeId::kUnknown);
}

Result<Expr> Compiler::CompileExpr(const Json& node, const Scope* scope, AggMode* agg) {
  if (agg != nullptr && !agg->key_nodes.empty()) {
    Json stripped = StripLocations(node);
    for (size_t i = 0; i < agg->key_nodes.size(); ++i) {
      if (agg->key_nodes[i] == stripped) {
        return Expr{agg->key_types[i],
                    [i](const RowCtx* row) -> Result<Datum> { return (*row->row)[i]; }};
      }
    }
  }
  const Json* b;
  std::string kind = NodeKind(node, &b);
  if (kind == "A_Const") return CompileConst(*b);
  if (kind == "ColumnRef") return CompileColumnRef(*b, scope, agg);
  if (kind == "ParamRef") {
    int n = static_cast<int>(GetInt(*b, "number", 0));
    QueryContext* ctx = &ctx_;
    return Expr{TypeId::kUnknown, [ctx, n](const RowCtx*) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(std::optional<std::string> v, ctx->Parameter(n));
                  if (!v) return Datum::Null();
                  return Datum{*v};
                }};
  }
  if (kind == "A_Expr") return CompileAExpr(*b, scope, agg);
  if (kind == "BoolExpr") {
    std::string op = GetStr(*b, "boolop");
    RWMETA_ASSIGN_OR_RETURN(std::vector<Expr> args, CompileList(GetList(*b, "args"), scope, agg));
    for (Expr& a : args) {
      RWMETA_ASSIGN_OR_RETURN(a, MakeBool(std::move(a), op == "NOT_EXPR"   ? "NOT"
                                                        : op == "AND_EXPR" ? "AND"
                                                                           : "OR"));
    }
    auto shared = std::make_shared<std::vector<Expr>>(std::move(args));
    if (op == "NOT_EXPR") {
      return Expr{TypeId::kBoolean, [shared](const RowCtx* row) -> Result<Datum> {
                    RWMETA_ASSIGN_OR_RETURN(Datum v, (*shared)[0].eval(row));
                    if (v.is_null()) return v;
                    return Datum{!std::get<bool>(v.v)};
                  }};
    }
    bool is_and = op == "AND_EXPR";
    return Expr{TypeId::kBoolean, [shared, is_and](const RowCtx* row) -> Result<Datum> {
                  bool saw_null = false;
                  for (const Expr& e : *shared) {
                    RWMETA_ASSIGN_OR_RETURN(Datum v, e.eval(row));
                    if (v.is_null()) {
                      saw_null = true;
                    } else if (std::get<bool>(v.v) != is_and) {
                      return Datum{!is_and};  // AND saw false / OR saw true
                    }
                  }
                  return saw_null ? Datum::Null() : Datum{is_and};
                }};
  }
  if (kind == "NullTest") {
    RWMETA_ASSIGN_OR_RETURN(Expr arg, CompileExpr(b->value("arg", Json()), scope, agg));
    bool is_null = GetStr(*b, "nulltesttype") == "IS_NULL";
    EvalFn f = arg.eval;
    return Expr{TypeId::kBoolean, [f, is_null](const RowCtx* row) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(Datum v, f(row));
                  return Datum{v.is_null() == is_null};
                }};
  }
  if (kind == "BooleanTest") {
    RWMETA_ASSIGN_OR_RETURN(Expr arg, CompileExpr(b->value("arg", Json()), scope, agg));
    RWMETA_ASSIGN_OR_RETURN(arg, MakeBool(std::move(arg), "IS TRUE"));
    std::string t = GetStr(*b, "booltesttype");
    EvalFn f = arg.eval;
    return Expr{TypeId::kBoolean, [f, t](const RowCtx* row) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(Datum v, f(row));
                  bool is_null = v.is_null();
                  bool val = !is_null && std::get<bool>(v.v);
                  if (t == "IS_TRUE") return Datum{!is_null && val};
                  if (t == "IS_NOT_TRUE") return Datum{is_null || !val};
                  if (t == "IS_FALSE") return Datum{!is_null && !val};
                  if (t == "IS_NOT_FALSE") return Datum{is_null || val};
                  if (t == "IS_UNKNOWN") return Datum{is_null};
                  return Datum{!is_null};
                }};
  }
  if (kind == "TypeCast") return CompileTypeCast(*b, scope, agg);
  if (kind == "CollateClause") return CompileExpr(b->value("arg", Json()), scope, agg);
  if (kind == "FuncCall") return CompileFuncCall(*b, scope, agg);
  if (kind == "SubLink") return CompileSubLink(*b, scope, agg);
  if (kind == "CaseExpr") return CompileCase(*b, scope, agg);
  if (kind == "CoalesceExpr" || kind == "MinMaxExpr") {
    RWMETA_ASSIGN_OR_RETURN(std::vector<Expr> args, CompileList(GetList(*b, "args"), scope, agg));
    std::vector<TypeId> types;
    for (const Expr& e : args) types.push_back(e.type);
    bool coalesce = kind == "CoalesceExpr";
    RWMETA_ASSIGN_OR_RETURN(TypeId t, CommonType(types, coalesce ? "COALESCE" : "GREATEST/LEAST"));
    for (Expr& e : args) e = Coerce(std::move(e), t);
    auto shared = std::make_shared<std::vector<Expr>>(std::move(args));
    bool greatest = GetStr(*b, "op") == "IS_GREATEST";
    return Expr{t, [shared, coalesce, greatest, t](const RowCtx* row) -> Result<Datum> {
                  Datum best;
                  for (const Expr& e : *shared) {
                    RWMETA_ASSIGN_OR_RETURN(Datum v, e.eval(row));
                    if (v.is_null()) continue;
                    if (coalesce) return v;
                    if (best.is_null() || (CompareValues(v, best, t) > 0) == greatest) {
                      if (best.is_null() || CompareValues(v, best, t) != 0) best = std::move(v);
                    }
                  }
                  return best;
                }};
  }
  if (kind == "SQLValueFunction") {
    std::string op = GetStr(*b, "op");
    if (op == "SVFOP_CURRENT_USER" || op == "SVFOP_USER" || op == "SVFOP_SESSION_USER" ||
        op == "SVFOP_CURRENT_ROLE") {
      return ConstExpr(Datum{ctx_.CurrentUser()}, TypeId::kVarchar);
    }
    if (op == "SVFOP_CURRENT_CATALOG")
      return ConstExpr(Datum{ctx_.CurrentDatabase()}, TypeId::kVarchar);
    if (op == "SVFOP_CURRENT_SCHEMA") return internal::CompileFunction("current_schema", {}, ctx_);
    if (op == "SVFOP_CURRENT_TIMESTAMP" || op == "SVFOP_LOCALTIMESTAMP" ||
        op == "SVFOP_CURRENT_TIMESTAMP_N" || op == "SVFOP_LOCALTIMESTAMP_N") {
      return internal::CompileFunction("now", {}, ctx_);
    }
    if (op == "SVFOP_CURRENT_DATE") {
      RWMETA_ASSIGN_OR_RETURN(Expr now, internal::CompileFunction("now", {}, ctx_));
      return Coerce(std::move(now), TypeId::kDate);
    }
    return Unsupported(op);
  }
  if (kind == "A_ArrayExpr") {
    RWMETA_ASSIGN_OR_RETURN(std::vector<Expr> elems,
                            CompileList(GetList(*b, "elements"), scope, agg));
    auto shared = std::make_shared<std::vector<Expr>>(std::move(elems));
    return Expr{TypeId::kTextArray, [shared](const RowCtx* row) -> Result<Datum> {
                  std::vector<std::string> out;
                  for (const Expr& e : *shared) {
                    RWMETA_ASSIGN_OR_RETURN(Datum v, e.eval(row));
                    if (v.is_null()) return Unsupported("NULL array element");
                    out.push_back(internal::AsText(v, e.type));
                  }
                  return Datum{out};
                }};
  }
  if (kind == "A_Indirection") {
    RWMETA_ASSIGN_OR_RETURN(Expr arg, CompileExpr(b->value("arg", Json()), scope, agg));
    const Json& ind = GetList(*b, "indirection");
    if (ind.size() != 1 || !Get(ind[0], "A_Indices") || arg.type != TypeId::kTextArray) {
      return Unsupported("this indirection");
    }
    const Json& idx = *Get(ind[0], "A_Indices");
    if (GetBool(idx, "is_slice") || !Get(idx, "uidx")) return Unsupported("array slices");
    RWMETA_ASSIGN_OR_RETURN(Expr sub, CompileExpr(*Get(idx, "uidx"), scope, agg));
    sub = Coerce(std::move(sub), TypeId::kInt64);
    if (sub.type != TypeId::kInt64) return Unsupported("non-integer array subscripts");
    EvalFn fa = arg.eval, fs = sub.eval;
    // Arrays hold text; an element is untyped so that `attnum = prattrs[s]` compares as a number.
    return Expr{TypeId::kUnknown, [fa, fs](const RowCtx* row) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(Datum a, fa(row));
                  RWMETA_ASSIGN_OR_RETURN(Datum s, fs(row));
                  if (a.is_null() || s.is_null()) return Datum::Null();
                  const auto& items = std::get<std::vector<std::string>>(a.v);
                  int64_t i = std::get<int64_t>(s.v);
                  if (i < 1 || i > static_cast<int64_t>(items.size())) return Datum::Null();
                  return Datum{items[static_cast<size_t>(i - 1)]};
                }};
  }
  if (kind.empty()) return InternalError("malformed expression node");
  return Unsupported("expression " + kind);
}

// The index in `scope` (not its outer scopes) a column reference names, or -1.
int ResolveLocalColumn(const Json& cref, const Scope& scope) {
  std::vector<std::string> parts = StringList(GetList(cref, "fields"));
  if (parts.empty()) return -1;
  std::string name = parts.back();
  std::string table = parts.size() >= 2 ? parts[parts.size() - 2] : std::string();
  int found = -1;
  for (size_t i = 0; i < scope.cols.size(); ++i) {
    const ScopeCol& c = scope.cols[i];
    if (c.name != name || (table.empty() ? c.qualified_only : c.table != table)) continue;
    if (found >= 0) return -1;
    found = static_cast<int>(i);
  }
  return found;
}

Result<Expr> Compiler::CompileColumnRef(const Json& body, const Scope* scope, AggMode* agg) {
  std::vector<std::string> parts;
  for (const Json& f : GetList(body, "fields")) {
    if (Get(f, "A_Star")) return Unsupported("* in this position");
    const Json* s = Get(f, "String");
    parts.push_back(s ? GetStr(*s, "sval") : std::string());
  }
  if (parts.empty() || parts.size() > 4) return InternalError("malformed column reference");
  std::string name = parts.back();
  std::string table = parts.size() >= 2 ? parts[parts.size() - 2] : std::string();
  std::string shown = table.empty() ? name : table + "." + name;
  int depth = 0;
  bool table_seen = false;
  for (const Scope* s = scope; s != nullptr; s = s->outer, ++depth) {
    int found = -1;
    for (size_t i = 0; i < s->cols.size(); ++i) {
      const ScopeCol& c = s->cols[i];
      if (!table.empty() && c.table == table) table_seen = true;
      if (c.name != name) continue;
      if (table.empty() ? c.qualified_only : c.table != table) continue;
      if (found >= 0) {
        return SqlError(StatusCode::kInvalidArgument, "42702",
                        "column reference \"" + shown + "\" is ambiguous");
      }
      found = static_cast<int>(i);
    }
    if (found < 0) continue;
    if (agg != nullptr && depth == 0) {
      for (size_t k = 0; k < agg->key_columns.size(); ++k) {
        if (agg->key_columns[k] == found) {
          return Expr{agg->key_types[k],
                      [k](const RowCtx* row) -> Result<Datum> { return (*row->row)[k]; }};
        }
      }
      const ScopeCol& col = s->cols[static_cast<size_t>(found)];
      if (table.empty() && !col.table.empty()) shown = col.table + "." + name;
      return SqlError(
          StatusCode::kInvalidArgument, "42803",
          "column \"" + shown +
              "\" must appear in the GROUP BY clause or be used in an aggregate function");
    }
    size_t index = static_cast<size_t>(found);
    int d = depth;
    return Expr{s->cols[index].type, [index, d](const RowCtx* row) -> Result<Datum> {
                  for (int k = 0; k < d && row != nullptr; ++k) row = row->outer;
                  if (row == nullptr || row->row == nullptr || index >= row->row->size()) {
                    return InternalError("column reference outside its row");
                  }
                  return (*row->row)[index];
                }};
  }
  if (!table.empty() && !table_seen) {
    return SqlError(StatusCode::kNotFound, "42P01",
                    "missing FROM-clause entry for table \"" + table + "\"");
  }
  return SqlError(
      StatusCode::kNotFound, "42703",
      "column " + (table.empty() ? "\"" + name + "\"" : table + "." + name) + " does not exist");
}

Result<Expr> Compiler::MakeBinary(const std::string& op, Expr l, Expr r) {
  if (op == "=" || op == "<>" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=") {
    if (l.type == TypeId::kTextArray && r.type == TypeId::kUnknown)
      r = Coerce(std::move(r), l.type);
    if (r.type == TypeId::kTextArray && l.type == TypeId::kUnknown)
      l = Coerce(std::move(l), r.type);
    RWMETA_ASSIGN_OR_RETURN(TypeId t, ComparisonType(op, l.type, r.type));
    l = Coerce(std::move(l), t);
    r = Coerce(std::move(r), t);
    EvalFn fl = l.eval, fr = r.eval;
    return Expr{TypeId::kBoolean, [fl, fr, op, t](const RowCtx* row) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(Datum a, fl(row));
                  if (a.is_null()) return Datum::Null();
                  RWMETA_ASSIGN_OR_RETURN(Datum b, fr(row));
                  if (b.is_null()) return Datum::Null();
                  int c = CompareValues(a, b, t);
                  bool v = op == "="    ? c == 0
                           : op == "<"  ? c < 0
                           : op == "<=" ? c <= 0
                           : op == ">"  ? c > 0
                           : op == ">=" ? c >= 0
                                        : c != 0;
                  return Datum{v};
                }};
  }
  if (op == "+" || op == "-" || op == "*" || op == "/" || op == "%") {
    // date ± integer, date - date
    if (l.type == TypeId::kDate && (IsInteger(r.type) || r.type == TypeId::kUnknown) &&
        (op == "+" || op == "-")) {
      r = Coerce(std::move(r), TypeId::kInt64);
      EvalFn fl = l.eval, fr = r.eval;
      bool plus = op == "+";
      return Expr{TypeId::kDate, [fl, fr, plus](const RowCtx* row) -> Result<Datum> {
                    RWMETA_ASSIGN_OR_RETURN(Datum a, fl(row));
                    RWMETA_ASSIGN_OR_RETURN(Datum b, fr(row));
                    if (a.is_null() || b.is_null()) return Datum::Null();
                    int64_t d = std::get<int64_t>(b.v);
                    return Datum{std::get<int64_t>(a.v) + (plus ? d : -d)};
                  }};
    }
    if (l.type == TypeId::kDate && r.type == TypeId::kDate && op == "-") {
      EvalFn fl = l.eval, fr = r.eval;
      return Expr{TypeId::kInt32, [fl, fr](const RowCtx* row) -> Result<Datum> {
                    RWMETA_ASSIGN_OR_RETURN(Datum a, fl(row));
                    RWMETA_ASSIGN_OR_RETURN(Datum b, fr(row));
                    if (a.is_null() || b.is_null()) return Datum::Null();
                    return Datum{std::get<int64_t>(a.v) - std::get<int64_t>(b.v)};
                  }};
    }
    TypeId lt = l.type == TypeId::kUnknown ? r.type : l.type;
    TypeId rt = r.type == TypeId::kUnknown ? l.type : r.type;
    if (!IsNumeric(lt) || !IsNumeric(rt)) return NoOperator(op, l.type, r.type);
    TypeId t = ArithmeticType(lt, rt);
    l = Coerce(std::move(l), t);
    r = Coerce(std::move(r), t);
    EvalFn fl = l.eval, fr = r.eval;
    char c = op[0];
    return Expr{t, [fl, fr, c, t](const RowCtx* row) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(Datum a, fl(row));
                  RWMETA_ASSIGN_OR_RETURN(Datum b, fr(row));
                  if (a.is_null() || b.is_null()) return Datum::Null();
                  return Arithmetic(c, a, b, t);
                }};
  }
  if (op == "||") {
    bool array = l.type == TypeId::kTextArray || r.type == TypeId::kTextArray;
    if (array) {
      if (l.type == TypeId::kUnknown) l = Coerce(std::move(l), TypeId::kTextArray);
      if (r.type == TypeId::kUnknown) r = Coerce(std::move(r), TypeId::kTextArray);
    }
    TypeId ltype = l.type, rtype = r.type;
    EvalFn fl = l.eval, fr = r.eval;
    return Expr{array ? TypeId::kTextArray : TypeId::kVarchar,
                [fl, fr, array, ltype, rtype](const RowCtx* row) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(Datum a, fl(row));
                  RWMETA_ASSIGN_OR_RETURN(Datum b, fr(row));
                  if (array) {
                    std::vector<std::string> out;
                    for (auto [d, t] : {std::pair{&a, ltype}, std::pair{&b, rtype}}) {
                      if (d->is_null()) continue;
                      if (t == TypeId::kTextArray) {
                        const auto& v = std::get<std::vector<std::string>>(d->v);
                        out.insert(out.end(), v.begin(), v.end());
                      } else {
                        out.push_back(internal::AsText(*d, t));
                      }
                    }
                    return Datum{out};
                  }
                  if (a.is_null() || b.is_null()) return Datum::Null();
                  RWMETA_ASSIGN_OR_RETURN(Datum x, CastValue(a, ltype, TypeId::kVarchar));
                  RWMETA_ASSIGN_OR_RETURN(Datum y, CastValue(b, rtype, TypeId::kVarchar));
                  return Datum{std::get<std::string>(x.v) + std::get<std::string>(y.v)};
                }};
  }
  if (op == "~" || op == "!~" || op == "~*" || op == "!~*" || op == "~~" || op == "!~~" ||
      op == "~~*" || op == "!~~*") {
    l = Coerce(std::move(l), TypeId::kVarchar);
    r = Coerce(std::move(r), TypeId::kVarchar);
    bool negate = op[0] == '!';
    bool icase = op.back() == '*';
    bool like = op.find("~~") != std::string::npos;
    EvalFn fl = l.eval, fr = r.eval;
    // The last compiled pattern, so a constant pattern is compiled once per statement.
    auto cache = std::make_shared<std::pair<std::string, std::optional<std::regex>>>();
    return Expr{TypeId::kBoolean,
                [fl, fr, negate, icase, like, cache](const RowCtx* row) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(Datum a, fl(row));
                  RWMETA_ASSIGN_OR_RETURN(Datum b, fr(row));
                  if (a.is_null() || b.is_null()) return Datum::Null();
                  std::string s = std::get<std::string>(a.v), p = std::get<std::string>(b.v);
                  bool m;
                  if (like) {
                    if (icase) {
                      s = LowerAscii(s);
                      p = LowerAscii(p);
                    }
                    m = LikeMatch(s, 0, p, 0);
                  } else {
                    if (!cache->second || cache->first != p) {
                      try {
                        auto flags = std::regex::extended;
                        if (icase) flags |= std::regex::icase;
                        cache->second.emplace(p, flags);
                        cache->first = p;
                      } catch (const std::regex_error& e) {
                        cache->second.reset();
                        return SqlError(StatusCode::kInvalidArgument, "2201B",
                                        "invalid regular expression: " + std::string(e.what()));
                      }
                    }
                    m = std::regex_search(s, *cache->second);
                  }
                  return Datum{m != negate};
                }};
  }
  if (op == "->" || op == "->>") {
    if (l.type == TypeId::kUnknown) l = Coerce(std::move(l), TypeId::kJsonb);
    if (l.type != TypeId::kJsonb) return NoOperator(op, l.type, r.type);
    bool by_index = IsInteger(r.type);
    if (!by_index) r = Coerce(std::move(r), TypeId::kVarchar);
    bool as_text = op == "->>";
    EvalFn fl = l.eval, fr = r.eval;
    return Expr{as_text ? TypeId::kVarchar : TypeId::kJsonb,
                [fl, fr, by_index, as_text](const RowCtx* row) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(Datum a, fl(row));
                  RWMETA_ASSIGN_OR_RETURN(Datum b, fr(row));
                  if (a.is_null() || b.is_null()) return Datum::Null();
                  Json j = Json::parse(std::get<std::string>(a.v), nullptr, false);
                  const Json* found = nullptr;
                  if (by_index) {
                    int64_t i = std::get<int64_t>(b.v);
                    if (j.is_array()) {
                      if (i < 0) i += static_cast<int64_t>(j.size());
                      if (i >= 0 && i < static_cast<int64_t>(j.size()))
                        found = &j[static_cast<size_t>(i)];
                    }
                  } else if (j.is_object()) {
                    auto it = j.find(std::get<std::string>(b.v));
                    if (it != j.end()) found = &*it;
                  }
                  if (found == nullptr) return Datum::Null();
                  if (as_text) {
                    if (found->is_null()) return Datum::Null();
                    if (found->is_string()) return Datum{found->get<std::string>()};
                  }
                  return Datum{found->dump()};
                }};
  }
  return NoOperator(op, l.type, r.type);
}

Result<Expr> Compiler::CompileAExpr(const Json& body, const Scope* scope, AggMode* agg) {
  std::string kind = GetStr(body, "kind");
  std::vector<std::string> names = StringList(GetList(body, "name"));
  std::string op = names.empty() ? "" : names.back();
  const Json* lexpr = Get(body, "lexpr");
  const Json* rexpr = Get(body, "rexpr");
  if (kind == "AEXPR_OP" && lexpr == nullptr && rexpr != nullptr) {  // prefix operator
    RWMETA_ASSIGN_OR_RETURN(Expr r, CompileExpr(*rexpr, scope, agg));
    if (op == "+") return r;
    if (op != "-") return NoOperator(op, TypeId::kUnknown, r.type);
    return MakeBinary("-", ConstExpr(Datum{int64_t{0}}, TypeId::kInt16), std::move(r));
  }
  if (lexpr == nullptr || rexpr == nullptr) return Unsupported("operator " + op);
  if (kind == "AEXPR_OP" || kind == "AEXPR_LIKE" || kind == "AEXPR_ILIKE") {
    RWMETA_ASSIGN_OR_RETURN(Expr l, CompileExpr(*lexpr, scope, agg));
    RWMETA_ASSIGN_OR_RETURN(Expr r, CompileExpr(*rexpr, scope, agg));
    return MakeBinary(op, std::move(l), std::move(r));
  }
  if (kind == "AEXPR_DISTINCT" || kind == "AEXPR_NOT_DISTINCT" || kind == "AEXPR_NULLIF") {
    RWMETA_ASSIGN_OR_RETURN(Expr l, CompileExpr(*lexpr, scope, agg));
    RWMETA_ASSIGN_OR_RETURN(Expr r, CompileExpr(*rexpr, scope, agg));
    RWMETA_ASSIGN_OR_RETURN(TypeId t, ComparisonType("=", l.type, r.type));
    l = Coerce(std::move(l), t);
    r = Coerce(std::move(r), t);
    EvalFn fl = l.eval, fr = r.eval;
    if (kind == "AEXPR_NULLIF") {
      return Expr{t, [fl, fr, t](const RowCtx* row) -> Result<Datum> {
                    RWMETA_ASSIGN_OR_RETURN(Datum a, fl(row));
                    RWMETA_ASSIGN_OR_RETURN(Datum b, fr(row));
                    if (!a.is_null() && !b.is_null() && CompareValues(a, b, t) == 0) {
                      return Datum::Null();
                    }
                    return a;
                  }};
    }
    bool distinct = kind == "AEXPR_DISTINCT";
    return Expr{TypeId::kBoolean, [fl, fr, t, distinct](const RowCtx* row) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(Datum a, fl(row));
                  RWMETA_ASSIGN_OR_RETURN(Datum b, fr(row));
                  bool same = a.is_null() || b.is_null() ? a.is_null() == b.is_null()
                                                         : CompareValues(a, b, t) == 0;
                  return Datum{same != distinct};
                }};
  }
  if (kind == "AEXPR_IN") {
    // x IN (a, b) ≡ x = a OR x = b (with NULL semantics); NOT IN is name "<>" ≡ AND of <>.
    RWMETA_ASSIGN_OR_RETURN(Expr l, CompileExpr(*lexpr, scope, agg));
    const Json* list = Get(*rexpr, "List");
    if (list == nullptr) return Unsupported("IN without a list");
    std::vector<Expr> tests;
    for (const Json& item : GetList(*list, "items")) {
      RWMETA_ASSIGN_OR_RETURN(Expr r, CompileExpr(item, scope, agg));
      RWMETA_ASSIGN_OR_RETURN(Expr t, MakeBinary(op, l, std::move(r)));
      tests.push_back(std::move(t));
    }
    auto shared = std::make_shared<std::vector<Expr>>(std::move(tests));
    bool any = op == "=";
    return Expr{TypeId::kBoolean, [shared, any](const RowCtx* row) -> Result<Datum> {
                  bool saw_null = false;
                  for (const Expr& e : *shared) {
                    RWMETA_ASSIGN_OR_RETURN(Datum v, e.eval(row));
                    if (v.is_null()) {
                      saw_null = true;
                    } else if (std::get<bool>(v.v) == any) {
                      return Datum{any};
                    }
                  }
                  return saw_null ? Datum::Null() : Datum{!any};
                }};
  }
  if (kind == "AEXPR_OP_ANY" || kind == "AEXPR_OP_ALL") {
    RWMETA_ASSIGN_OR_RETURN(Expr l, CompileExpr(*lexpr, scope, agg));
    RWMETA_ASSIGN_OR_RETURN(Expr r, CompileExpr(*rexpr, scope, agg));
    if (r.type == TypeId::kUnknown) r = Coerce(std::move(r), TypeId::kTextArray);
    if (r.type != TypeId::kTextArray) return NoOperator(op, l.type, r.type);
    if (l.type == TypeId::kUnknown) l = Coerce(std::move(l), TypeId::kVarchar);
    // Compare x with each element, the element read as x's type.
    TypeId lt = l.type;
    auto elem = std::make_shared<Datum>();
    Expr elem_expr{lt, [elem](const RowCtx*) -> Result<Datum> { return *elem; }};
    RWMETA_ASSIGN_OR_RETURN(Expr test, MakeBinary(op, l, std::move(elem_expr)));
    EvalFn fr = r.eval, ft = test.eval;
    bool any = kind == "AEXPR_OP_ANY";
    return Expr{TypeId::kBoolean, [fr, ft, elem, lt, any](const RowCtx* row) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(Datum arr, fr(row));
                  if (arr.is_null()) return Datum::Null();
                  bool saw_null = false;
                  for (const std::string& s : std::get<std::vector<std::string>>(arr.v)) {
                    RWMETA_ASSIGN_OR_RETURN(*elem, DatumFromText(s, lt));
                    RWMETA_ASSIGN_OR_RETURN(Datum v, ft(row));
                    if (v.is_null()) {
                      saw_null = true;
                    } else if (std::get<bool>(v.v) == any) {
                      return Datum{any};
                    }
                  }
                  return saw_null ? Datum::Null() : Datum{!any};
                }};
  }
  if (kind == "AEXPR_BETWEEN" || kind == "AEXPR_NOT_BETWEEN" || kind == "AEXPR_BETWEEN_SYM" ||
      kind == "AEXPR_NOT_BETWEEN_SYM") {
    const Json* list = Get(*rexpr, "List");
    if (list == nullptr || GetList(*list, "items").size() != 2) {
      return InternalError("malformed BETWEEN");
    }
    RWMETA_ASSIGN_OR_RETURN(Expr x, CompileExpr(*lexpr, scope, agg));
    RWMETA_ASSIGN_OR_RETURN(Expr lo, CompileExpr(GetList(*list, "items")[0], scope, agg));
    RWMETA_ASSIGN_OR_RETURN(Expr hi, CompileExpr(GetList(*list, "items")[1], scope, agg));
    RWMETA_ASSIGN_OR_RETURN(Expr ge, MakeBinary(">=", x, lo));
    RWMETA_ASSIGN_OR_RETURN(Expr le, MakeBinary("<=", x, hi));
    RWMETA_ASSIGN_OR_RETURN(Expr ge2, MakeBinary(">=", x, hi));
    RWMETA_ASSIGN_OR_RETURN(Expr le2, MakeBinary("<=", x, lo));
    bool negate = kind.find("NOT") != std::string::npos;
    bool sym = kind.find("SYM") != std::string::npos;
    auto both = [](const Datum& a, const Datum& b) -> Datum {
      if ((!a.is_null() && !std::get<bool>(a.v)) || (!b.is_null() && !std::get<bool>(b.v))) {
        return Datum{false};
      }
      if (a.is_null() || b.is_null()) return Datum::Null();
      return Datum{true};
    };
    return Expr{TypeId::kBoolean,
                [ge, le, ge2, le2, negate, sym, both](const RowCtx* row) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(Datum a, ge.eval(row));
                  RWMETA_ASSIGN_OR_RETURN(Datum b, le.eval(row));
                  Datum r = both(a, b);
                  if (sym && (r.is_null() || !std::get<bool>(r.v))) {
                    RWMETA_ASSIGN_OR_RETURN(Datum c, ge2.eval(row));
                    RWMETA_ASSIGN_OR_RETURN(Datum d, le2.eval(row));
                    Datum r2 = both(c, d);
                    if (!r2.is_null() && std::get<bool>(r2.v))
                      r = r2;
                    else if (r2.is_null())
                      r = Datum::Null();
                  }
                  if (negate && !r.is_null()) return Datum{!std::get<bool>(r.v)};
                  return r;
                }};
  }
  return Unsupported("operator kind " + kind);
}

Result<Expr> Compiler::CompileTypeCast(const Json& body, const Scope* scope, AggMode* agg) {
  RWMETA_ASSIGN_OR_RETURN(Expr arg, CompileExpr(body.value("arg", Json()), scope, agg));
  const Json* tn = Get(body, "typeName");
  if (tn == nullptr) return InternalError("cast without a type");
  std::vector<std::string> names = StringList(GetList(*tn, "names"));
  std::string name = names.empty() ? "" : names.back();
  bool is_array = !GetList(*tn, "arrayBounds").empty();
  TypeId to;
  if (is_array) {
    to = TypeId::kTextArray;
  } else if (name == "regclass" || name == "regtype" || name == "regnamespace" ||
             name == "regproc" || name == "regprocedure" || name == "regrole") {
    to = TypeId::kInt64;  // OIDs stay numbers; names are not looked up
  } else if (name == "bpchar" || name == "char" || name == "interval" || name == "json") {
    to = name == "json" ? TypeId::kJsonb : TypeId::kVarchar;
  } else if (name == "timestamptz") {
    to = TypeId::kTimestamp;
  } else {
    RWMETA_ASSIGN_OR_RETURN(to, TypeFromName(name));
  }
  if (arg.type == to) return arg;
  TypeId from = arg.type;
  EvalFn f = arg.eval;
  return Expr{to, [f, from, to](const RowCtx* row) -> Result<Datum> {
                RWMETA_ASSIGN_OR_RETURN(Datum d, f(row));
                return CastValue(d, from, to);
              }};
}

Result<Expr> Compiler::CompileCase(const Json& body, const Scope* scope, AggMode* agg) {
  std::optional<Expr> subject;
  if (const Json* arg = Get(body, "arg")) {
    RWMETA_ASSIGN_OR_RETURN(Expr a, CompileExpr(*arg, scope, agg));
    subject = std::move(a);
  }
  std::vector<Expr> conds, results;
  for (const Json& w : GetList(body, "args")) {
    const Json* cw = Get(w, "CaseWhen");
    if (cw == nullptr) return InternalError("malformed CASE");
    RWMETA_ASSIGN_OR_RETURN(Expr c, CompileExpr(cw->value("expr", Json()), scope, agg));
    if (subject) {
      RWMETA_ASSIGN_OR_RETURN(c, MakeBinary("=", *subject, std::move(c)));
    } else {
      RWMETA_ASSIGN_OR_RETURN(c, MakeBool(std::move(c), "CASE/WHEN"));
    }
    RWMETA_ASSIGN_OR_RETURN(Expr r, CompileExpr(cw->value("result", Json()), scope, agg));
    conds.push_back(std::move(c));
    results.push_back(std::move(r));
  }
  Expr def = ConstExpr(Datum::Null(), TypeId::kUnknown);
  if (const Json* d = Get(body, "defresult")) {
    RWMETA_ASSIGN_OR_RETURN(def, CompileExpr(*d, scope, agg));
  }
  std::vector<TypeId> types;
  for (const Expr& r : results) types.push_back(r.type);
  types.push_back(def.type);
  RWMETA_ASSIGN_OR_RETURN(TypeId t, CommonType(types, "CASE"));
  for (Expr& r : results) r = Coerce(std::move(r), t);
  def = Coerce(std::move(def), t);
  auto c = std::make_shared<std::vector<Expr>>(std::move(conds));
  auto r = std::make_shared<std::vector<Expr>>(std::move(results));
  EvalFn fd = def.eval;
  return Expr{t, [c, r, fd](const RowCtx* row) -> Result<Datum> {
                for (size_t i = 0; i < c->size(); ++i) {
                  RWMETA_ASSIGN_OR_RETURN(Datum v, (*c)[i].eval(row));
                  if (!v.is_null() && std::get<bool>(v.v)) return (*r)[i].eval(row);
                }
                return fd(row);
              }};
}

Result<Expr> Compiler::CompileFuncCall(const Json& body, const Scope* scope, AggMode* agg) {
  std::string name = FuncName(body);
  std::vector<std::string> parts = StringList(GetList(body, "funcname"));
  if (parts.size() == 2 && parts[0] != "pg_catalog" && parts[0] != "information_schema") {
    return SqlError(StatusCode::kNotFound, "3F000", "schema \"" + parts[0] + "\" does not exist");
  }
  if (Get(body, "over")) return Unsupported("window functions");
  if (IsAggregateName(name)) {
    if (agg == nullptr) {
      return SqlError(StatusCode::kInvalidArgument, "42803",
                      "aggregate functions are not allowed here");
    }
    return CompileAggregate(body, name, agg);
  }
  RWMETA_ASSIGN_OR_RETURN(std::vector<Expr> args, CompileList(GetList(body, "args"), scope, agg));
  return internal::CompileFunction(name, std::move(args), ctx_);
}

Result<Expr> Compiler::CompileAggregate(const Json& body, const std::string& name, AggMode* agg) {
  AggCall call;
  call.name = name;
  call.star = GetBool(body, "agg_star");
  call.distinct = GetBool(body, "agg_distinct");
  // Arguments see the input rows, not the groups; no nested aggregates.
  RWMETA_ASSIGN_OR_RETURN(call.args, CompileList(GetList(body, "args"), agg->input, nullptr));
  if (const Json* f = Get(body, "agg_filter")) {
    RWMETA_ASSIGN_OR_RETURN(Expr e, CompileExpr(*f, agg->input, nullptr));
    RWMETA_ASSIGN_OR_RETURN(e, MakeBool(std::move(e), "FILTER"));
    call.filter = std::move(e);
  }
  for (const Json& sb : GetList(body, "agg_order")) {
    const Json* s = Get(sb, "SortBy");
    if (s == nullptr) continue;
    RWMETA_ASSIGN_OR_RETURN(Expr e, CompileExpr(s->value("node", Json()), agg->input, nullptr));
    SortKey k{call.args.size() + call.order.size()};
    ParseSortDirection(*s, &k);
    call.order.push_back(std::move(e));
    call.order_keys.push_back(k);
  }
  size_t n = call.args.size();
  auto fail = [&]() -> Status {
    std::string types;
    for (size_t i = 0; i < n; ++i) types += (i ? ", " : "") + TypeName(call.args[i].type);
    return SqlError(StatusCode::kNotFound, "42883",
                    "function " + name + "(" + types + ") does not exist");
  };
  if (name == "count") {
    if (!(call.star ? n == 0 : n == 1)) return fail();
    call.type = TypeId::kInt64;
  } else if (n == 0) {
    return fail();
  } else {
    TypeId t = call.args[0].type;
    if (t == TypeId::kUnknown) {
      call.args[0] = Coerce(std::move(call.args[0]), TypeId::kVarchar);
      t = TypeId::kVarchar;
    }
    if ((name == "sum" || name == "avg") && n == 1 && IsNumeric(t)) {
      if (name == "sum") {
        call.type = t == TypeId::kInt16 || t == TypeId::kInt32 ? TypeId::kInt64
                    : t == TypeId::kInt64                      ? TypeId::kDecimal
                                                               : t;
      } else {
        call.type =
            t == TypeId::kFloat32 || t == TypeId::kFloat64 ? TypeId::kFloat64 : TypeId::kDecimal;
      }
    } else if ((name == "min" || name == "max") && n == 1) {
      call.type = t;
    } else if ((name == "bool_and" || name == "bool_or" || name == "every") && n == 1 &&
               t == TypeId::kBoolean) {
      call.type = TypeId::kBoolean;
    } else if (name == "string_agg" && n == 2) {
      call.args[1] = Coerce(std::move(call.args[1]), TypeId::kVarchar);
      if (t != TypeId::kVarchar || call.args[1].type != TypeId::kVarchar) return fail();
      call.type = TypeId::kVarchar;
    } else if (name == "array_agg" && n == 1) {
      call.type = TypeId::kTextArray;
    } else {
      return fail();
    }
  }
  size_t index = agg->key_nodes.size() + agg->calls.size();
  TypeId type = call.type;
  agg->calls.push_back(std::move(call));
  return Expr{type, [index](const RowCtx* row) -> Result<Datum> { return (*row->row)[index]; }};
}

// Computes one aggregate from the argument (and ORDER BY) values of its group's rows.
Result<Datum> FinishAggregate(const AggCall& call, std::vector<Tuple> inputs) {
  if (!call.order_keys.empty()) {
    std::vector<TypeId> types;
    for (const Expr& e : call.args) types.push_back(e.type);
    for (const Expr& e : call.order) types.push_back(e.type);
    SortRows(&inputs, call.order_keys, types);
  }
  if (call.star) return Datum{static_cast<int64_t>(inputs.size())};
  TypeId t = call.args[0].type;
  // Aggregates skip NULL inputs (string_agg skips a NULL value, keeps a NULL delimiter as "").
  std::vector<Tuple> values;
  std::map<std::string, bool> seen;
  for (Tuple& in : inputs) {
    if (in[0].is_null()) continue;
    if (call.distinct) {
      std::string key = EncodeKey({in[0]}, {t});
      if (seen.count(key)) continue;
      seen[key] = true;
    }
    values.push_back(std::move(in));
  }
  if (call.name == "count") return Datum{static_cast<int64_t>(values.size())};
  if (values.empty()) return Datum::Null();
  if (call.name == "sum" || call.name == "avg") {
    if (t == TypeId::kFloat32 || t == TypeId::kFloat64) {
      double s = 0;
      for (const Tuple& v : values) s += std::get<double>(v[0].v);
      if (call.name == "avg") s /= static_cast<double>(values.size());
      return Datum{s};
    }
    Decimal sum;
    for (const Tuple& v : values) {
      RWMETA_ASSIGN_OR_RETURN(Datum d, CastValue(v[0], t, TypeId::kDecimal));
      RWMETA_ASSIGN_OR_RETURN(Decimal x, Decimal::Parse(std::get<std::string>(d.v)));
      RWMETA_ASSIGN_OR_RETURN(sum, DecimalAdd(sum, x));
    }
    if (call.name == "avg") {
      RWMETA_ASSIGN_OR_RETURN(
          Decimal avg, DecimalDiv(sum, Decimal::FromInt(static_cast<int64_t>(values.size()))));
      return Datum{avg.ToString()};
    }
    if (call.type == TypeId::kInt64)
      return CastValue(Datum{sum.ToString()}, TypeId::kDecimal, TypeId::kInt64);
    return Datum{sum.ToString()};
  }
  if (call.name == "min" || call.name == "max") {
    Datum best = values[0][0];
    for (const Tuple& v : values) {
      int c = CompareValues(v[0], best, t);
      if (call.name == "min" ? c < 0 : c > 0) best = v[0];
    }
    return best;
  }
  if (call.name == "bool_and" || call.name == "every" || call.name == "bool_or") {
    bool is_and = call.name != "bool_or";
    for (const Tuple& v : values) {
      if (std::get<bool>(v[0].v) != is_and) return Datum{!is_and};
    }
    return Datum{is_and};
  }
  if (call.name == "string_agg") {
    std::string out;
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0 && !values[i][1].is_null()) out += std::get<std::string>(values[i][1].v);
      out += std::get<std::string>(values[i][0].v);
    }
    return Datum{out};
  }
  if (call.name == "array_agg") {
    std::vector<std::string> out;
    for (const Tuple& v : values) out.push_back(internal::AsText(v[0], t));
    return Datum{out};
  }
  return InternalError("unknown aggregate " + call.name);
}

Result<Expr> Compiler::CompileSubLink(const Json& body, const Scope* scope, AggMode* agg) {
  const Json* sel = Get(body, "subselect");
  const Json* stmt = sel ? Get(*sel, "SelectStmt") : nullptr;
  if (stmt == nullptr) return InternalError("subquery without SELECT");
  // Inside an aggregated select list the current row is a group: the subquery sees the grouped
  // columns (at their key positions) and nothing else of the input.
  std::shared_ptr<Scope> group_scope;
  const Scope* inner_outer = scope;
  if (agg != nullptr) {
    group_scope = std::make_shared<Scope>();
    group_scope->outer = agg->input->outer;
    for (int col : agg->key_columns) {
      group_scope->cols.push_back(col >= 0 ? agg->input->cols[static_cast<size_t>(col)]
                                           : ScopeCol{"", "", TypeId::kUnknown, true, false});
    }
    inner_outer = group_scope.get();
  }
  RWMETA_ASSIGN_OR_RETURN(Plan plan, CompileSelect(*stmt, inner_outer));
  std::string type = GetStr(body, "subLinkType");
  auto run = plan.run;
  if (type == "EXISTS_SUBLINK") {
    return Expr{TypeId::kBoolean, [run](const RowCtx* row) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> rows, run(row));
                  return Datum{!rows.empty()};
                }};
  }
  if (plan.columns.size() != 1) {
    return SqlError(StatusCode::kInvalidArgument, "42601", "subquery must return only one column");
  }
  TypeId t = plan.columns[0].type;
  if (type == "EXPR_SUBLINK") {
    return Expr{t, [run](const RowCtx* row) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> rows, run(row));
                  if (rows.empty()) return Datum::Null();
                  if (rows.size() > 1) {
                    return SqlError(
                        StatusCode::kInvalidArgument, "21000",
                        "more than one row returned by a subquery used as an expression");
                  }
                  return rows[0][0];
                }};
  }
  if (type == "ARRAY_SUBLINK") {
    return Expr{TypeId::kTextArray, [run, t](const RowCtx* row) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> rows, run(row));
                  std::vector<std::string> out;
                  for (const Tuple& r : rows) {
                    if (r[0].is_null()) return Unsupported("NULL array element");
                    out.push_back(internal::AsText(r[0], t));
                  }
                  return Datum{out};
                }};
  }
  if (type == "ANY_SUBLINK" || type == "ALL_SUBLINK") {
    RWMETA_ASSIGN_OR_RETURN(Expr l, CompileExpr(body.value("testexpr", Json()), scope, agg));
    std::vector<std::string> op_names = StringList(GetList(body, "operName"));
    std::string op = op_names.empty() ? "=" : op_names.back();
    auto elem = std::make_shared<Datum>();
    Expr elem_expr{t, [elem](const RowCtx*) -> Result<Datum> { return *elem; }};
    RWMETA_ASSIGN_OR_RETURN(Expr test, MakeBinary(op, l, std::move(elem_expr)));
    EvalFn ft = test.eval;
    bool any = type == "ANY_SUBLINK";
    return Expr{TypeId::kBoolean, [run, ft, elem, any](const RowCtx* row) -> Result<Datum> {
                  RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> rows, run(row));
                  bool saw_null = false;
                  for (const Tuple& r : rows) {
                    *elem = r[0];
                    RWMETA_ASSIGN_OR_RETURN(Datum v, ft(row));
                    if (v.is_null()) {
                      saw_null = true;
                    } else if (std::get<bool>(v.v) == any) {
                      return Datum{any};
                    }
                  }
                  return saw_null ? Datum::Null() : Datum{!any};
                }};
  }
  return Unsupported("subquery kind " + type);
}

// ---------------------------------------------------------------- FROM

Result<Source> Compiler::CompileFrom(const Json& from_list, const Scope* outer) {
  if (from_list.empty()) {
    return Source{{}, [](const RowCtx*) -> Result<std::vector<Tuple>> {
                    return std::vector<Tuple>{Tuple{}};
                  }};
  }
  std::optional<Source> acc;
  for (const Json& item : from_list) {
    RWMETA_ASSIGN_OR_RETURN(Source s, CompileFromItem(item, outer));
    if (!acc) {
      acc = std::move(s);
      continue;
    }
    Source left = std::move(*acc);
    std::vector<ScopeCol> cols = left.cols;
    cols.insert(cols.end(), s.cols.begin(), s.cols.end());
    RowsFn lr = left.run, rr = s.run;
    acc = Source{cols, [lr, rr](const RowCtx* outer_row) -> Result<std::vector<Tuple>> {
                   RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> l, lr(outer_row));
                   RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> r, rr(outer_row));
                   std::vector<Tuple> out;
                   for (const Tuple& a : l) {
                     for (const Tuple& b : r) {
                       Tuple t = a;
                       t.insert(t.end(), b.begin(), b.end());
                       out.push_back(std::move(t));
                     }
                   }
                   return out;
                 }};
  }
  return std::move(*acc);
}

void ApplyAlias(const Json& node_body, const std::string& default_name, Source* s) {
  std::string table = default_name;
  if (const Json* alias = Get(node_body, "alias")) {
    table = GetStr(*alias, "aliasname");
    std::vector<std::string> colnames = StringList(GetList(*alias, "colnames"));
    for (size_t i = 0; i < colnames.size() && i < s->cols.size(); ++i)
      s->cols[i].name = colnames[i];
  }
  for (ScopeCol& c : s->cols) {
    c.table = table;
    c.qualified_only = false;
    c.in_star = true;
  }
}

Result<Source> Compiler::CompileFromItem(const Json& item, const Scope* outer) {
  const Json* b;
  std::string kind = NodeKind(item, &b);
  if (kind == "RangeVar") {
    std::vector<std::string> name;
    if (!GetStr(*b, "catalogname").empty()) name.push_back(GetStr(*b, "catalogname"));
    if (!GetStr(*b, "schemaname").empty()) name.push_back(GetStr(*b, "schemaname"));
    std::string relname = GetStr(*b, "relname");
    name.push_back(relname);
    if (name.size() == 1) {
      for (auto it = ctes_.rbegin(); it != ctes_.rend(); ++it) {
        if (it->first != relname) continue;
        Source s;
        for (const ColumnDesc& c : it->second->columns) s.cols.push_back({relname, c.name, c.type});
        s.run = it->second->run;
        ApplyAlias(*b, relname, &s);
        return s;
      }
    }
    RWMETA_ASSIGN_OR_RETURN(ResolvedRelation rel, ctx_.ResolveRelation(name));
    Source s;
    if (rel.view_sql) {
      if (view_depth_ > 16)
        return SqlError(StatusCode::kInvalidArgument, "42P17",
                        "infinite recursion detected in view \"" + relname + "\"");
      RWMETA_ASSIGN_OR_RETURN(std::vector<ParsedStatement> stmts, ParseSql(*rel.view_sql));
      const Json* sel = stmts.size() == 1 ? Get(stmts[0].node, "SelectStmt") : nullptr;
      if (sel == nullptr) {
        return InternalError("view \"" + relname + "\" is not a single SELECT");
      }
      ++view_depth_;
      Result<Plan> plan = CompileSelect(*sel, nullptr);
      --view_depth_;
      if (!plan.ok()) return plan.status().WithContext("view \"" + relname + "\"");
      for (size_t i = 0; i < plan->columns.size(); ++i) {
        std::string col =
            i < rel.view_column_names.size() ? rel.view_column_names[i] : plan->columns[i].name;
        s.cols.push_back({relname, col, plan->columns[i].type});
      }
      s.run = plan->run;
    } else if (rel.relation) {
      for (const ColumnDesc& c : rel.relation->columns())
        s.cols.push_back({relname, c.name, c.type});
      std::shared_ptr<Relation> r = rel.relation;
      s.run = [r](const RowCtx*) -> Result<std::vector<Tuple>> {
        std::vector<Tuple> rows;
        RWMETA_RETURN_IF_ERROR(r->Scan([&](const Tuple& t) {
          rows.push_back(t);
          return Status::Ok();
        }));
        return rows;
      };
    } else {
      return InternalError("relation \"" + relname + "\" resolved to nothing");
    }
    ApplyAlias(*b, relname, &s);
    return s;
  }
  if (kind == "RangeSubselect") {
    const Json* sub = Get(*b, "subquery");
    const Json* stmt = sub ? Get(*sub, "SelectStmt") : nullptr;
    if (stmt == nullptr) return InternalError("malformed subquery in FROM");
    RWMETA_ASSIGN_OR_RETURN(Plan plan,
                            CompileSelect(*stmt, GetBool(*b, "lateral") ? outer : nullptr));
    Source s;
    for (const ColumnDesc& c : plan.columns) s.cols.push_back({"", c.name, c.type});
    s.run = plan.run;
    ApplyAlias(*b, "", &s);
    return s;
  }
  if (kind == "JoinExpr") return CompileJoin(*b, outer);
  if (kind == "RangeFunction") return CompileRangeFunction(*b, outer);
  return Unsupported("FROM item " + kind);
}

Result<Source> Compiler::CompileRangeFunction(const Json& rf, const Scope* outer) {
  const Json& functions = GetList(rf, "functions");
  if (functions.size() != 1 || GetBool(rf, "ordinality") || GetBool(rf, "is_rowsfrom")) {
    return Unsupported("this function in FROM");
  }
  const Json* list = Get(functions[0], "List");
  const Json& items = list ? GetList(*list, "items") : EmptyArray();
  const Json* call = items.empty() ? nullptr : Get(items[0], "FuncCall");
  if (call == nullptr) return Unsupported("this function in FROM");
  std::string name = FuncName(*call);
  Scope empty{{}, outer};
  RWMETA_ASSIGN_OR_RETURN(std::vector<Expr> args,
                          CompileList(GetList(*call, "args"), &empty, nullptr));
  Source s;
  auto shared = std::make_shared<std::vector<Expr>>();
  if (name == "generate_series" && (args.size() == 2 || args.size() == 3)) {
    TypeId t = TypeId::kInt32;
    for (Expr& a : args) {
      if (IsInteger(a.type))
        t = std::max(t, a.type);
      else if (a.type != TypeId::kUnknown)
        return Unsupported("generate_series over " + TypeName(a.type));
    }
    for (Expr& a : args) shared->push_back(Coerce(std::move(a), t));
    s.cols.push_back({"", name, t});
    s.run = [shared](const RowCtx* outer_row) -> Result<std::vector<Tuple>> {
      std::vector<int64_t> v;
      RowCtx ctx{nullptr, outer_row};
      for (const Expr& e : *shared) {
        RWMETA_ASSIGN_OR_RETURN(Datum d, e.eval(&ctx));
        if (d.is_null()) return std::vector<Tuple>{};
        v.push_back(std::get<int64_t>(d.v));
      }
      int64_t step = v.size() == 3 ? v[2] : 1;
      if (step == 0) {
        return SqlError(StatusCode::kInvalidArgument, "22023", "step size cannot equal zero");
      }
      std::vector<Tuple> rows;
      for (int64_t i = v[0]; step > 0 ? i <= v[1] : i >= v[1]; i += step) {
        rows.push_back({Datum{i}});
        if (rows.size() > 10'000'000) return OutOfRange("generate_series: too many rows");
      }
      return rows;
    };
  } else if (name == "unnest" && args.size() == 1) {
    shared->push_back(Coerce(std::move(args[0]), TypeId::kTextArray));
    // Arrays hold text; like a subscripted element, an unnested element is untyped so that
    // `a.attnum = s.attnum` over unnest(stxkeys) compares as a number (psql's \d does this).
    s.cols.push_back({"", name, TypeId::kUnknown});
    s.run = [shared](const RowCtx* outer_row) -> Result<std::vector<Tuple>> {
      RowCtx ctx{nullptr, outer_row};
      RWMETA_ASSIGN_OR_RETURN(Datum d, (*shared)[0].eval(&ctx));
      std::vector<Tuple> rows;
      if (d.is_null()) return rows;
      for (const std::string& e : std::get<std::vector<std::string>>(d.v))
        rows.push_back({Datum{e}});
      return rows;
    };
  } else {
    return SqlError(StatusCode::kNotFound, "42883",
                    "function " + name + " in FROM is not supported");
  }
  ApplyAlias(rf, name, &s);
  // A single-column function named by its alias: `generate_series(1,3) s` calls the column s.
  if (const Json* alias = Get(rf, "alias")) {
    if (GetList(*alias, "colnames").empty()) s.cols[0].name = GetStr(*alias, "aliasname");
  }
  return s;
}

Result<Source> Compiler::CompileJoin(const Json& join, const Scope* outer) {
  const Json* larg = Get(join, "larg");
  const Json* rarg = Get(join, "rarg");
  if (larg == nullptr || rarg == nullptr) return InternalError("malformed JOIN");
  RWMETA_ASSIGN_OR_RETURN(Source left, CompileFromItem(*larg, outer));
  RWMETA_ASSIGN_OR_RETURN(Source right, CompileFromItem(*rarg, outer));
  std::string jt = GetStr(join, "jointype");
  bool keep_left = jt == "JOIN_LEFT" || jt == "JOIN_FULL";
  bool keep_right = jt == "JOIN_RIGHT" || jt == "JOIN_FULL";
  if (jt != "JOIN_INNER" && !keep_left && !keep_right) return Unsupported("join type " + jt);

  std::vector<std::string> using_cols = StringList(GetList(join, "usingClause"));
  if (GetBool(join, "isNatural")) {
    for (const ScopeCol& l : left.cols) {
      for (const ScopeCol& r : right.cols) {
        if (l.name == r.name && !l.qualified_only && !r.qualified_only)
          using_cols.push_back(l.name);
      }
    }
  }
  // USING columns: find each side's index; the merged column comes first in the joined row.
  std::vector<std::pair<size_t, size_t>> using_idx;
  std::vector<ScopeCol> cols;
  for (const std::string& name : using_cols) {
    auto find = [&](const std::vector<ScopeCol>& v, const char* side) -> Result<size_t> {
      int found = -1;
      for (size_t i = 0; i < v.size(); ++i) {
        if (v[i].name == name && !v[i].qualified_only) {
          if (found >= 0) {
            return SqlError(
                StatusCode::kInvalidArgument, "42702",
                "common column name \"" + name + "\" appears more than once in " + side + " table");
          }
          found = static_cast<int>(i);
        }
      }
      if (found < 0) {
        return SqlError(StatusCode::kNotFound, "42703",
                        "column \"" + name + "\" specified in USING clause does not exist in " +
                            side + " table");
      }
      return static_cast<size_t>(found);
    };
    RWMETA_ASSIGN_OR_RETURN(size_t li, find(left.cols, "left"));
    RWMETA_ASSIGN_OR_RETURN(size_t ri, find(right.cols, "right"));
    RWMETA_ASSIGN_OR_RETURN(TypeId t, ComparisonType("=", left.cols[li].type, right.cols[ri].type));
    using_idx.emplace_back(li, ri);
    cols.push_back({"", name, t});
  }
  size_t n_merged = cols.size(), n_left = left.cols.size(), n_right = right.cols.size();
  for (ScopeCol c : left.cols) {
    for (auto [li, ri] : using_idx) {
      if (c.name == left.cols[li].name && !c.qualified_only) {
        c.qualified_only = true;
        c.in_star = false;
      }
    }
    cols.push_back(c);
  }
  for (ScopeCol c : right.cols) {
    for (auto [li, ri] : using_idx) {
      if (c.name == right.cols[ri].name && !c.qualified_only) {
        c.qualified_only = true;
        c.in_star = false;
      }
    }
    cols.push_back(c);
  }
  Scope scope{cols, outer};
  std::vector<Expr> conds;
  std::vector<TypeId> merged_types;
  for (size_t k = 0; k < using_idx.size(); ++k) {
    auto [li, ri] = using_idx[k];
    size_t lpos = n_merged + li, rpos = n_merged + n_left + ri;
    Expr le{cols[lpos].type, [lpos](const RowCtx* r) -> Result<Datum> { return (*r->row)[lpos]; }};
    Expr re{cols[rpos].type, [rpos](const RowCtx* r) -> Result<Datum> { return (*r->row)[rpos]; }};
    RWMETA_ASSIGN_OR_RETURN(Expr eq, MakeBinary("=", std::move(le), std::move(re)));
    conds.push_back(std::move(eq));
    merged_types.push_back(cols[k].type);
  }
  if (const Json* quals = Get(join, "quals")) {
    RWMETA_ASSIGN_OR_RETURN(Expr q, CompileExpr(*quals, &scope, nullptr));
    RWMETA_ASSIGN_OR_RETURN(q, MakeBool(std::move(q), "JOIN/ON"));
    conds.push_back(std::move(q));
  }
  std::vector<TypeId> left_types, right_types;
  for (const ScopeCol& c : left.cols) left_types.push_back(c.type);
  for (const ScopeCol& c : right.cols) right_types.push_back(c.type);

  // Equalities between a left and a right column (USING columns and `l.a = r.b` conjuncts of ON)
  // become hash keys: the right side is hashed once and each left row meets only its candidates.
  // The full condition is still evaluated on every candidate pair.
  struct HashKey {
    size_t left, right;
    TypeId ltype, rtype, type;
  };
  std::vector<HashKey> hash_keys;
  for (size_t k = 0; k < using_idx.size(); ++k) {
    auto [li, ri] = using_idx[k];
    hash_keys.push_back({li, ri, left_types[li], right_types[ri], merged_types[k]});
  }
  std::function<void(const Json&)> collect = [&](const Json& q) {
    if (const Json* be = Get(q, "BoolExpr")) {
      if (GetStr(*be, "boolop") == "AND_EXPR") {
        for (const Json& a : GetList(*be, "args")) collect(a);
      }
      return;
    }
    const Json* ae = Get(q, "A_Expr");
    if (ae == nullptr || GetStr(*ae, "kind") != "AEXPR_OP") return;
    std::vector<std::string> names = StringList(GetList(*ae, "name"));
    if (names.empty() || names.back() != "=") return;
    const Json* l = Get(*ae, "lexpr");
    const Json* r = Get(*ae, "rexpr");
    const Json* lc = l ? Get(*l, "ColumnRef") : nullptr;
    const Json* rc = r ? Get(*r, "ColumnRef") : nullptr;
    if (lc == nullptr || rc == nullptr) return;
    int a = ResolveLocalColumn(*lc, scope), b = ResolveLocalColumn(*rc, scope);
    auto side = [&](int i) {
      size_t u = static_cast<size_t>(i);
      return i < 0 ? -1 : u < n_merged ? 0 : u < n_merged + n_left ? 1 : 2;
    };
    if (side(a) == 2 && side(b) == 1) std::swap(a, b);
    if (side(a) != 1 || side(b) != 2) return;
    Result<TypeId> t =
        ComparisonType("=", cols[static_cast<size_t>(a)].type, cols[static_cast<size_t>(b)].type);
    if (!t.ok()) return;
    hash_keys.push_back({static_cast<size_t>(a) - n_merged,
                         static_cast<size_t>(b) - n_merged - n_left,
                         cols[static_cast<size_t>(a)].type, cols[static_cast<size_t>(b)].type, *t});
  };
  if (const Json* quals = Get(join, "quals")) collect(*quals);
  std::vector<TypeId> hash_types;
  for (const HashKey& k : hash_keys) hash_types.push_back(k.type);
  RowsFn lr = left.run, rr = right.run;
  auto shared_conds = std::make_shared<std::vector<Expr>>(std::move(conds));
  Source out;
  out.cols = cols;
  out.run = [=](const RowCtx* outer_row) -> Result<std::vector<Tuple>> {
    RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> l, lr(outer_row));
    RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> r, rr(outer_row));
    auto build = [&](const Tuple* a, const Tuple* b) -> Result<Tuple> {
      Tuple t;
      t.reserve(n_merged + n_left + n_right);
      for (size_t k = 0; k < n_merged; ++k) {
        auto [li, ri] = using_idx[k];
        Datum v = a ? (*a)[li] : Datum::Null();
        TypeId from = left_types[li];
        if (v.is_null() && b) {
          v = (*b)[ri];
          from = right_types[ri];
        }
        RWMETA_ASSIGN_OR_RETURN(v, CastValue(v, from, merged_types[k]));
        t.push_back(std::move(v));
      }
      for (size_t i = 0; i < n_left; ++i) t.push_back(a ? (*a)[i] : Datum::Null());
      for (size_t i = 0; i < n_right; ++i) t.push_back(b ? (*b)[i] : Datum::Null());
      return t;
    };
    // nullopt when a key column is NULL: such a row matches nothing.
    auto key_of = [&](const Tuple& row, bool is_left) -> Result<std::optional<std::string>> {
      Tuple key;
      for (const HashKey& k : hash_keys) {
        const Datum& v = row[is_left ? k.left : k.right];
        if (v.is_null()) return std::optional<std::string>();
        RWMETA_ASSIGN_OR_RETURN(Datum c, CastValue(v, is_left ? k.ltype : k.rtype, k.type));
        key.push_back(std::move(c));
      }
      return std::optional<std::string>(EncodeKey(key, hash_types));
    };
    std::vector<size_t> all(r.size());
    for (size_t j = 0; j < r.size(); ++j) all[j] = j;
    std::unordered_map<std::string, std::vector<size_t>> table;
    if (!hash_keys.empty()) {
      for (size_t j = 0; j < r.size(); ++j) {
        RWMETA_ASSIGN_OR_RETURN(std::optional<std::string> k, key_of(r[j], false));
        if (k) table[*k].push_back(j);
      }
    }
    static const std::vector<size_t> kNone;
    std::vector<Tuple> rows;
    std::vector<bool> right_matched(r.size(), false);
    for (const Tuple& a : l) {
      bool matched = false;
      const std::vector<size_t>* candidates = &all;
      if (!hash_keys.empty()) {
        RWMETA_ASSIGN_OR_RETURN(std::optional<std::string> k, key_of(a, true));
        auto it = k ? table.find(*k) : table.end();
        candidates = it == table.end() ? &kNone : &it->second;
      }
      for (size_t j : *candidates) {
        RWMETA_ASSIGN_OR_RETURN(Tuple t, build(&a, &r[j]));
        RowCtx ctx{&t, outer_row};
        bool ok = true;
        for (const Expr& c : *shared_conds) {
          RWMETA_ASSIGN_OR_RETURN(Datum v, c.eval(&ctx));
          if (v.is_null() || !std::get<bool>(v.v)) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        matched = true;
        right_matched[j] = true;
        rows.push_back(std::move(t));
      }
      if (!matched && keep_left) {
        RWMETA_ASSIGN_OR_RETURN(Tuple t, build(&a, nullptr));
        rows.push_back(std::move(t));
      }
    }
    if (keep_right) {
      for (size_t j = 0; j < r.size(); ++j) {
        if (right_matched[j]) continue;
        RWMETA_ASSIGN_OR_RETURN(Tuple t, build(nullptr, &r[j]));
        rows.push_back(std::move(t));
      }
    }
    return rows;
  };
  // (a JOIN b) AS j: every column is renamed to j.
  if (const Json* alias = Get(join, "alias")) {
    std::string name = GetStr(*alias, "aliasname");
    for (ScopeCol& c : out.cols) c.table = name;
  }
  return out;
}

// ---------------------------------------------------------------- SELECT

Result<std::pair<Expr*, Expr*>> Compiler::CompileLimit(const Json& stmt, Expr* offset,
                                                       Expr* limit) {
  Scope empty;
  std::pair<Expr*, Expr*> out{nullptr, nullptr};
  if (const Json* o = Get(stmt, "limitOffset")) {
    RWMETA_ASSIGN_OR_RETURN(Expr e, CompileExpr(*o, &empty, nullptr));
    *offset = Coerce(std::move(e), TypeId::kInt64);
    if (offset->type != TypeId::kInt64) {
      return SqlError(StatusCode::kInvalidArgument, "42804",
                      "argument of OFFSET must be type bigint");
    }
    out.first = offset;
  }
  if (const Json* l = Get(stmt, "limitCount")) {
    RWMETA_ASSIGN_OR_RETURN(Expr e, CompileExpr(*l, &empty, nullptr));
    *limit = Coerce(std::move(e), TypeId::kInt64);
    if (limit->type != TypeId::kInt64) {
      return SqlError(StatusCode::kInvalidArgument, "42804",
                      "argument of LIMIT must be type bigint");
    }
    out.second = limit;
  }
  if (GetStr(stmt, "limitOption") == "LIMIT_OPTION_WITH_TIES") return Unsupported("WITH TIES");
  return out;
}

Result<std::vector<Tuple>> Compiler::Finish(std::vector<Tuple> rows, size_t n_out, bool distinct,
                                            const std::vector<TypeId>& types,
                                            const std::vector<SortKey>& keys, const Expr* offset,
                                            const Expr* limit, const RowCtx* outer,
                                            const std::vector<size_t>& distinct_on) {
  if (distinct && distinct_on.empty()) {
    std::unordered_map<std::string, bool> seen;
    std::vector<TypeId> out_types(types.begin(), types.begin() + static_cast<long>(n_out));
    std::vector<Tuple> kept;
    for (Tuple& r : rows) {
      Tuple head(r.begin(), r.begin() + static_cast<long>(n_out));
      if (seen.emplace(EncodeKey(head, out_types), true).second) kept.push_back(std::move(r));
    }
    rows = std::move(kept);
  }
  SortRows(&rows, keys, types);
  if (distinct && !distinct_on.empty()) {
    std::vector<TypeId> on_types;
    for (size_t i : distinct_on) on_types.push_back(types[i]);
    std::unordered_map<std::string, bool> seen;
    std::vector<Tuple> kept;
    for (Tuple& r : rows) {
      Tuple key;
      for (size_t i : distinct_on) key.push_back(r[i]);
      if (seen.emplace(EncodeKey(key, on_types), true).second) kept.push_back(std::move(r));
    }
    rows = std::move(kept);
  }
  RowCtx ctx{nullptr, outer};
  int64_t skip = 0, take = -1;
  if (offset) {
    RWMETA_ASSIGN_OR_RETURN(Datum d, offset->eval(&ctx));
    if (!d.is_null()) skip = std::get<int64_t>(d.v);
    if (skip < 0) {
      return SqlError(StatusCode::kInvalidArgument, "2201X", "OFFSET must not be negative");
    }
  }
  if (limit) {
    RWMETA_ASSIGN_OR_RETURN(Datum d, limit->eval(&ctx));
    if (!d.is_null()) take = std::get<int64_t>(d.v);  // NULL is LIMIT ALL
    if (!d.is_null() && take < 0) {
      return SqlError(StatusCode::kInvalidArgument, "2201W", "LIMIT must not be negative");
    }
  }
  std::vector<Tuple> out;
  for (size_t i = static_cast<size_t>(std::min<int64_t>(skip, static_cast<int64_t>(rows.size())));
       i < rows.size() && (take < 0 || static_cast<int64_t>(out.size()) < take); ++i) {
    rows[i].resize(n_out);
    out.push_back(std::move(rows[i]));
  }
  return out;
}

Result<Plan> Compiler::CompileValues(const Json& stmt, const Scope* outer) {
  Scope empty{{}, outer};
  std::vector<std::vector<Expr>> rows;
  for (const Json& row : GetList(stmt, "valuesLists")) {
    const Json* list = Get(row, "List");
    if (list == nullptr) return InternalError("malformed VALUES");
    RWMETA_ASSIGN_OR_RETURN(std::vector<Expr> exprs,
                            CompileList(GetList(*list, "items"), &empty, nullptr));
    if (!rows.empty() && exprs.size() != rows[0].size()) {
      return SqlError(StatusCode::kInvalidArgument, "42601",
                      "VALUES lists must all be the same length");
    }
    rows.push_back(std::move(exprs));
  }
  if (rows.empty()) return InternalError("empty VALUES");
  Plan plan;
  for (size_t c = 0; c < rows[0].size(); ++c) {
    std::vector<TypeId> types;
    for (const auto& r : rows) types.push_back(r[c].type);
    RWMETA_ASSIGN_OR_RETURN(TypeId t, CommonType(types, "VALUES"));
    for (auto& r : rows) r[c] = Coerce(std::move(r[c]), t);
    plan.columns.push_back({"column" + std::to_string(c + 1), t});
  }
  auto shared = std::make_shared<std::vector<std::vector<Expr>>>(std::move(rows));
  RowsFn values = [shared](const RowCtx* outer_row) -> Result<std::vector<Tuple>> {
    std::vector<Tuple> out;
    RowCtx ctx{nullptr, outer_row};
    for (const auto& r : *shared) {
      Tuple t;
      for (const Expr& e : r) {
        RWMETA_ASSIGN_OR_RETURN(Datum d, e.eval(&ctx));
        t.push_back(std::move(d));
      }
      out.push_back(std::move(t));
    }
    return out;
  };
  // ORDER BY / LIMIT on VALUES work on the output columns, like a set operation's.
  Json wrapper = stmt;
  wrapper.erase("valuesLists");
  std::vector<ColumnDesc> cols = plan.columns;
  Scope out_scope{{}, outer};
  for (const ColumnDesc& c : cols) out_scope.cols.push_back({"", c.name, c.type});
  std::vector<SortKey> keys;
  std::vector<TypeId> types;
  for (const ColumnDesc& c : cols) types.push_back(c.type);
  for (const Json& sb : GetList(stmt, "sortClause")) {
    const Json* s = Get(sb, "SortBy");
    if (s == nullptr) continue;
    const Json* node = Get(*s, "node");
    const Json* c = node ? Get(*node, "A_Const") : nullptr;
    const Json* iv = c ? Get(*c, "ival") : nullptr;
    size_t index = 0;
    if (iv != nullptr) {
      int64_t pos = GetInt(*iv, "ival", 0);
      if (pos < 1 || pos > static_cast<int64_t>(cols.size())) {
        return SqlError(StatusCode::kInvalidArgument, "42P10",
                        "ORDER BY position " + std::to_string(pos) + " is not in select list");
      }
      index = static_cast<size_t>(pos - 1);
    } else {
      return Unsupported("ORDER BY expressions on VALUES");
    }
    SortKey k{index};
    ParseSortDirection(*s, &k);
    keys.push_back(k);
  }
  auto offset = std::make_shared<Expr>(), limit = std::make_shared<Expr>();
  RWMETA_ASSIGN_OR_RETURN(auto lim, CompileLimit(stmt, offset.get(), limit.get()));
  bool has_offset = lim.first != nullptr, has_limit = lim.second != nullptr;
  size_t n = cols.size();
  plan.run = [this, values, keys, types, offset, limit, has_offset, has_limit,
              n](const RowCtx* outer_row) -> Result<std::vector<Tuple>> {
    RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> rows, values(outer_row));
    return Finish(std::move(rows), n, false, types, keys, has_offset ? offset.get() : nullptr,
                  has_limit ? limit.get() : nullptr, outer_row);
  };
  return plan;
}

Result<Plan> Compiler::CompileSetOp(const Json& stmt, const Scope* outer) {
  const Json* larg = Get(stmt, "larg");
  const Json* rarg = Get(stmt, "rarg");
  if (larg == nullptr || rarg == nullptr) return InternalError("malformed set operation");
  RWMETA_ASSIGN_OR_RETURN(Plan left, CompileSelect(*larg, outer));
  RWMETA_ASSIGN_OR_RETURN(Plan right, CompileSelect(*rarg, outer));
  std::string op = GetStr(stmt, "op");
  std::string word = op == "SETOP_UNION"       ? "UNION"
                     : op == "SETOP_INTERSECT" ? "INTERSECT"
                                               : "EXCEPT";
  if (left.columns.size() != right.columns.size()) {
    return SqlError(StatusCode::kInvalidArgument, "42601",
                    "each " + word + " query must have the same number of columns");
  }
  std::vector<TypeId> types, ltypes, rtypes;
  std::vector<ColumnDesc> cols = left.columns;
  for (size_t i = 0; i < cols.size(); ++i) {
    RWMETA_ASSIGN_OR_RETURN(
        TypeId t, CommonType({left.columns[i].type, right.columns[i].type}, word.c_str()));
    cols[i].type = t;
    types.push_back(t);
    ltypes.push_back(left.columns[i].type);
    rtypes.push_back(right.columns[i].type);
  }
  bool all = GetBool(stmt, "all");
  RowsFn lr = left.run, rr = right.run;
  auto cast_rows = [](std::vector<Tuple>* rows, const std::vector<TypeId>& from,
                      const std::vector<TypeId>& to) -> Status {
    for (Tuple& r : *rows) {
      for (size_t i = 0; i < r.size(); ++i) {
        RWMETA_ASSIGN_OR_RETURN(r[i], CastValue(r[i], from[i], to[i]));
      }
    }
    return Status::Ok();
  };
  RowsFn combined = [=](const RowCtx* outer_row) -> Result<std::vector<Tuple>> {
    RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> l, lr(outer_row));
    RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> r, rr(outer_row));
    RWMETA_RETURN_IF_ERROR(cast_rows(&l, ltypes, types));
    RWMETA_RETURN_IF_ERROR(cast_rows(&r, rtypes, types));
    std::vector<Tuple> out;
    if (op == "SETOP_UNION") {
      out = std::move(l);
      out.insert(out.end(), r.begin(), r.end());
      if (!all) {
        std::unordered_map<std::string, bool> seen;
        std::vector<Tuple> kept;
        for (Tuple& t : out) {
          if (seen.emplace(EncodeKey(t, types), true).second) kept.push_back(std::move(t));
        }
        out = std::move(kept);
      }
      return out;
    }
    std::unordered_map<std::string, int64_t> right_count;
    for (const Tuple& t : r) ++right_count[EncodeKey(t, types)];
    std::unordered_map<std::string, bool> emitted;
    bool intersect = op == "SETOP_INTERSECT";
    for (Tuple& t : l) {
      std::string k = EncodeKey(t, types);
      int64_t& c = right_count[k];
      bool in_right = c > 0;
      if (all) {
        if (in_right) --c;
        if (in_right == intersect) out.push_back(std::move(t));
      } else if (in_right == intersect && emitted.emplace(k, true).second) {
        out.push_back(std::move(t));
      }
    }
    return out;
  };
  std::vector<SortKey> keys;
  for (const Json& sb : GetList(stmt, "sortClause")) {
    const Json* s = Get(sb, "SortBy");
    if (s == nullptr) continue;
    const Json* node = Get(*s, "node");
    const Json* b = nullptr;
    std::string kind = node ? NodeKind(*node, &b) : "";
    int64_t index = -1;
    if (kind == "A_Const" && Get(*b, "ival")) {
      int64_t pos = GetInt(*Get(*b, "ival"), "ival", 0);
      if (pos < 1 || pos > static_cast<int64_t>(cols.size())) {
        return SqlError(StatusCode::kInvalidArgument, "42P10",
                        "ORDER BY position " + std::to_string(pos) + " is not in select list");
      }
      index = pos - 1;
    } else if (kind == "ColumnRef" && GetList(*b, "fields").size() == 1) {
      std::vector<std::string> f = StringList(GetList(*b, "fields"));
      for (size_t i = 0; i < cols.size(); ++i) {
        if (cols[i].name == f[0]) {
          index = static_cast<int64_t>(i);
          break;
        }
      }
    }
    if (index < 0) {
      return SqlError(StatusCode::kInvalidArgument, "0A000",
                      "invalid UNION/INTERSECT/EXCEPT ORDER BY clause");
    }
    SortKey k{static_cast<size_t>(index)};
    ParseSortDirection(*s, &k);
    keys.push_back(k);
  }
  auto offset = std::make_shared<Expr>(), limit = std::make_shared<Expr>();
  RWMETA_ASSIGN_OR_RETURN(auto lim, CompileLimit(stmt, offset.get(), limit.get()));
  bool has_offset = lim.first != nullptr, has_limit = lim.second != nullptr;
  size_t n = cols.size();
  Plan plan;
  plan.columns = cols;
  plan.run = [this, combined, keys, types, offset, limit, has_offset, has_limit,
              n](const RowCtx* outer_row) -> Result<std::vector<Tuple>> {
    RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> rows, combined(outer_row));
    return Finish(std::move(rows), n, false, types, keys, has_offset ? offset.get() : nullptr,
                  has_limit ? limit.get() : nullptr, outer_row);
  };
  return plan;
}

Result<Plan> Compiler::CompileSelect(const Json& stmt, const Scope* outer) {
  std::string op = GetStr(stmt, "op");
  if (!op.empty() && op != "SETOP_NONE") return CompileSetOp(stmt, outer);
  if (const Json* with = Get(stmt, "withClause")) {
    if (GetBool(*with, "recursive")) return Unsupported("WITH RECURSIVE");
    size_t depth = ctes_.size();
    Status st;
    for (const Json& c : GetList(*with, "ctes")) {
      const Json* cte = Get(c, "CommonTableExpr");
      const Json* q = cte ? Get(*cte, "ctequery") : nullptr;
      const Json* sel = q ? Get(*q, "SelectStmt") : nullptr;
      if (sel == nullptr) {
        st = Unsupported("data-modifying WITH");
        break;
      }
      Result<Plan> plan = CompileSelect(*sel, outer);
      if (!plan.ok()) {
        st = plan.status();
        break;
      }
      std::vector<std::string> names = StringList(GetList(*cte, "aliascolnames"));
      for (size_t i = 0; i < names.size() && i < plan->columns.size(); ++i) {
        plan->columns[i].name = names[i];
      }
      ctes_.emplace_back(GetStr(*cte, "ctename"), std::make_shared<Plan>(std::move(*plan)));
    }
    Result<Plan> body = st.ok() ? [&] {
      Json rest = stmt;
      rest.erase("withClause");
      return CompileSelect(rest, outer);
    }()
                                : Result<Plan>(st);
    ctes_.resize(depth);
    return body;
  }
  if (Get(stmt, "intoClause")) return Unsupported("SELECT INTO");
  if (!GetList(stmt, "lockingClause").empty()) return Unsupported("FOR UPDATE/SHARE");
  if (!GetList(stmt, "windowClause").empty()) return Unsupported("WINDOW");
  if (!GetList(stmt, "valuesLists").empty()) return CompileValues(stmt, outer);

  RWMETA_ASSIGN_OR_RETURN(Source from, CompileFrom(GetList(stmt, "fromClause"), outer));
  auto scope = std::make_shared<Scope>();
  scope->cols = from.cols;
  scope->outer = outer;

  std::optional<Expr> where;
  if (const Json* w = Get(stmt, "whereClause")) {
    if (HasAggregate(*w)) {
      return SqlError(StatusCode::kInvalidArgument, "42803",
                      "aggregate functions are not allowed in WHERE");
    }
    RWMETA_ASSIGN_OR_RETURN(Expr e, CompileExpr(*w, scope.get(), nullptr));
    RWMETA_ASSIGN_OR_RETURN(e, MakeBool(std::move(e), "WHERE"));
    where = std::move(e);
  }

  // The select list with * expanded: (node, name) or a direct column index.
  struct Target {
    const Json* node = nullptr;
    int column = -1;
    std::string name;
  };
  std::vector<Target> targets;
  for (const Json& t : GetList(stmt, "targetList")) {
    const Json* rt = Get(t, "ResTarget");
    const Json* val = rt ? Get(*rt, "val") : nullptr;
    if (val == nullptr) return InternalError("malformed select list");
    const Json* cref = Get(*val, "ColumnRef");
    const Json& fields = cref ? GetList(*cref, "fields") : EmptyArray();
    if (!fields.empty() && Get(fields.back(), "A_Star")) {
      std::vector<std::string> parts = StringList(fields);
      std::string table = parts.size() >= 2 ? parts[parts.size() - 2] : "";
      bool any = false;
      for (size_t i = 0; i < scope->cols.size(); ++i) {
        const ScopeCol& c = scope->cols[i];
        if (table.empty() ? !c.in_star : c.table != table) continue;
        targets.push_back({nullptr, static_cast<int>(i), c.name});
        any = true;
      }
      if (!table.empty() && !any) {
        return SqlError(StatusCode::kNotFound, "42P01",
                        "missing FROM-clause entry for table \"" + table + "\"");
      }
      if (table.empty() && scope->cols.empty()) {
        return SqlError(StatusCode::kInvalidArgument, "42601",
                        "SELECT * with no tables specified is not valid");
      }
      continue;
    }
    std::string name = GetStr(*rt, "name");
    if (name.empty()) {
      int strength;
      name = FigureColname(*val, &strength);
    }
    targets.push_back({val, -1, name});
  }

  bool grouped = !GetList(stmt, "groupClause").empty() || Get(stmt, "havingClause") != nullptr;
  for (const Target& t : targets) {
    if (t.node && HasAggregate(*t.node)) grouped = true;
  }
  for (const Json& sb : GetList(stmt, "sortClause")) {
    if (HasAggregate(sb)) grouped = true;
  }

  auto agg = std::make_shared<AggMode>();
  agg->input = scope.get();
  std::vector<Expr> key_exprs;
  if (grouped) {
    for (const Json& g : GetList(stmt, "groupClause")) {
      const Json* node = &g;
      const Json* b;
      std::string kind = NodeKind(g, &b);
      if (kind == "A_Const" && Get(*b, "ival")) {  // GROUP BY 2
        int64_t pos = GetInt(*Get(*b, "ival"), "ival", 0);
        if (pos < 1 || pos > static_cast<int64_t>(targets.size())) {
          return SqlError(StatusCode::kInvalidArgument, "42P10",
                          "GROUP BY position " + std::to_string(pos) + " is not in select list");
        }
        const Target& t = targets[static_cast<size_t>(pos - 1)];
        if (t.node == nullptr) return Unsupported("GROUP BY position of a * column");
        node = t.node;
      } else if (kind == "ColumnRef" && GetList(*b, "fields").size() == 1) {
        // GROUP BY name: an input column wins over an output alias.
        std::string n = StringList(GetList(*b, "fields"))[0];
        bool is_input = false;
        for (const ScopeCol& c : scope->cols) is_input |= c.name == n && !c.qualified_only;
        if (!is_input) {
          for (const Target& t : targets) {
            if (t.name == n && t.node != nullptr) {
              node = t.node;
              break;
            }
          }
        }
      } else if (kind == "GroupingSet") {
        return Unsupported("GROUPING SETS");
      }
      RWMETA_ASSIGN_OR_RETURN(Expr e, CompileExpr(*node, scope.get(), nullptr));
      agg->key_nodes.push_back(StripLocations(*node));
      agg->key_columns.push_back(-1);
      if (const Json* cref = Get(*node, "ColumnRef")) {
        // Remember which input column a plain column key is, so `t.name` matches `name`.
        agg->key_columns.back() = ResolveLocalColumn(*cref, *scope);
      }
      agg->key_types.push_back(e.type);
      key_exprs.push_back(std::move(e));
    }
  }
  AggMode* mode = grouped ? agg.get() : nullptr;

  std::vector<Expr> outputs;
  std::vector<ColumnDesc> columns;
  for (const Target& t : targets) {
    if (t.node == nullptr) {
      size_t i = static_cast<size_t>(t.column);
      TypeId type = scope->cols[i].type;
      if (grouped) {
        Json ref = {
            {"ColumnRef",
             {{"fields", Json::array({Json{{"String", {{"sval", scope->cols[i].table}}}},
                                      Json{{"String", {{"sval", scope->cols[i].name}}}}})}}}};
        RWMETA_ASSIGN_OR_RETURN(Expr e, CompileExpr(ref, scope.get(), mode));
        outputs.push_back(std::move(e));
      } else {
        outputs.push_back(
            Expr{type, [i](const RowCtx* r) -> Result<Datum> { return (*r->row)[i]; }});
      }
    } else {
      RWMETA_ASSIGN_OR_RETURN(Expr e, CompileExpr(*t.node, scope.get(), mode));
      if (e.type == TypeId::kUnknown) e = Coerce(std::move(e), TypeId::kVarchar);
      outputs.push_back(std::move(e));
    }
    columns.push_back({t.name, outputs.back().type});
  }

  std::optional<Expr> having;
  if (const Json* h = Get(stmt, "havingClause")) {
    RWMETA_ASSIGN_OR_RETURN(Expr e, CompileExpr(*h, scope.get(), mode));
    RWMETA_ASSIGN_OR_RETURN(e, MakeBool(std::move(e), "HAVING"));
    having = std::move(e);
  }

  // ORDER BY: ordinals and output names refer to outputs; anything else is computed per row as a
  // hidden column after the outputs.
  std::vector<SortKey> keys;
  std::vector<Expr> hidden;
  std::vector<TypeId> row_types;
  for (const ColumnDesc& c : columns) row_types.push_back(c.type);
  for (const Json& sb : GetList(stmt, "sortClause")) {
    const Json* s = Get(sb, "SortBy");
    const Json* node = s ? Get(*s, "node") : nullptr;
    if (node == nullptr) return InternalError("malformed ORDER BY");
    const Json* b;
    std::string kind = NodeKind(*node, &b);
    int64_t index = -1;
    if (kind == "A_Const" && Get(*b, "ival")) {
      int64_t pos = GetInt(*Get(*b, "ival"), "ival", 0);
      if (pos < 1 || pos > static_cast<int64_t>(columns.size())) {
        return SqlError(StatusCode::kInvalidArgument, "42P10",
                        "ORDER BY position " + std::to_string(pos) + " is not in select list");
      }
      index = pos - 1;
    } else if (kind == "ColumnRef" && GetList(*b, "fields").size() == 1 &&
               Get(GetList(*b, "fields")[0], "String")) {
      std::string n = StringList(GetList(*b, "fields"))[0];
      int matches = 0;
      for (size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].name == n) {
          if (matches++ == 0) index = static_cast<int64_t>(i);
        }
      }
      if (matches > 1) {
        // Several outputs of that name: fine if they are the same column, else ambiguous.
        bool same = true;
        for (size_t i = 0; i < targets.size(); ++i) {
          if (columns[i].name == n && (targets[i].node == nullptr ||
                                       StripLocations(*targets[i].node) != StripLocations(*node))) {
            same = false;
          }
        }
        if (!same) {
          return SqlError(StatusCode::kInvalidArgument, "42702",
                          "ORDER BY \"" + n + "\" is ambiguous");
        }
      }
    }
    if (index < 0) {
      Json stripped = StripLocations(*node);
      for (size_t i = 0; i < targets.size(); ++i) {
        if (targets[i].node && StripLocations(*targets[i].node) == stripped) {
          index = static_cast<int64_t>(i);
          break;
        }
      }
    }
    if (index < 0) {
      RWMETA_ASSIGN_OR_RETURN(Expr e, CompileExpr(*node, scope.get(), mode));
      index = static_cast<int64_t>(columns.size() + hidden.size());
      row_types.push_back(e.type == TypeId::kUnknown ? TypeId::kVarchar : e.type);
      hidden.push_back(Coerce(std::move(e), row_types.back()));
    }
    SortKey k{static_cast<size_t>(index)};
    ParseSortDirection(*s, &k);
    keys.push_back(k);
  }
  const Json& distinct_clause = GetList(stmt, "distinctClause");
  bool distinct = !distinct_clause.empty();
  std::vector<size_t> distinct_on;
  if (distinct && !(distinct_clause.size() == 1 && distinct_clause[0].empty())) {
    // DISTINCT ON (exprs): ordinals name outputs; other expressions become hidden columns.
    for (const Json& d : distinct_clause) {
      const Json* b;
      std::string kind = NodeKind(d, &b);
      if (kind == "A_Const" && Get(*b, "ival")) {
        int64_t pos = GetInt(*Get(*b, "ival"), "ival", 0);
        if (pos < 1 || pos > static_cast<int64_t>(columns.size())) {
          return SqlError(
              StatusCode::kInvalidArgument, "42P10",
              "SELECT DISTINCT ON position " + std::to_string(pos) + " is not in select list");
        }
        distinct_on.push_back(static_cast<size_t>(pos - 1));
        continue;
      }
      RWMETA_ASSIGN_OR_RETURN(Expr e, CompileExpr(d, scope.get(), mode));
      distinct_on.push_back(columns.size() + hidden.size());
      row_types.push_back(e.type == TypeId::kUnknown ? TypeId::kVarchar : e.type);
      hidden.push_back(Coerce(std::move(e), row_types.back()));
    }
  }
  auto offset = std::make_shared<Expr>(), limit = std::make_shared<Expr>();
  RWMETA_ASSIGN_OR_RETURN(auto lim, CompileLimit(stmt, offset.get(), limit.get()));
  bool has_offset = lim.first != nullptr, has_limit = lim.second != nullptr;

  struct Compiled {
    RowsFn from;
    std::optional<Expr> where, having;
    std::vector<Expr> keys, outputs, hidden;
    std::shared_ptr<AggMode> agg;
    bool grouped;
  };
  auto c = std::make_shared<Compiled>();
  c->from = from.run;
  c->where = std::move(where);
  c->having = std::move(having);
  c->keys = std::move(key_exprs);
  c->outputs = std::move(outputs);
  c->hidden = std::move(hidden);
  c->agg = agg;
  c->grouped = grouped;
  size_t n_out = columns.size();
  Plan plan;
  plan.columns = columns;
  plan.run = [this, c, scope, keys, row_types, distinct, distinct_on, offset, limit, has_offset,
              has_limit, n_out](const RowCtx* outer_row) -> Result<std::vector<Tuple>> {
    RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> input, c->from(outer_row));
    std::vector<Tuple> rows;
    if (c->where) {
      for (Tuple& t : input) {
        RowCtx ctx{&t, outer_row};
        RWMETA_ASSIGN_OR_RETURN(Datum v, c->where->eval(&ctx));
        if (!v.is_null() && std::get<bool>(v.v)) rows.push_back(std::move(t));
      }
    } else {
      rows = std::move(input);
    }
    if (c->grouped) {
      const AggMode& agg = *c->agg;
      std::unordered_map<std::string, size_t> index;
      std::vector<Tuple> group_keys;
      std::vector<std::vector<std::vector<Tuple>>> inputs;  // [group][call][row]
      for (const Tuple& t : rows) {
        RowCtx ctx{&t, outer_row};
        Tuple key;
        for (const Expr& k : c->keys) {
          RWMETA_ASSIGN_OR_RETURN(Datum d, k.eval(&ctx));
          key.push_back(std::move(d));
        }
        std::string encoded = EncodeKey(key, agg.key_types);
        auto [it, inserted] = index.emplace(encoded, group_keys.size());
        if (inserted) {
          group_keys.push_back(std::move(key));
          inputs.emplace_back(agg.calls.size());
        }
        auto& group = inputs[it->second];
        for (size_t a = 0; a < agg.calls.size(); ++a) {
          const AggCall& call = agg.calls[a];
          if (call.filter) {
            RWMETA_ASSIGN_OR_RETURN(Datum keep, call.filter->eval(&ctx));
            if (keep.is_null() || !std::get<bool>(keep.v)) continue;
          }
          Tuple values;
          for (const Expr& e : call.args) {
            RWMETA_ASSIGN_OR_RETURN(Datum d, e.eval(&ctx));
            values.push_back(std::move(d));
          }
          for (const Expr& e : call.order) {
            RWMETA_ASSIGN_OR_RETURN(Datum d, e.eval(&ctx));
            values.push_back(std::move(d));
          }
          group[a].push_back(std::move(values));
        }
      }
      if (group_keys.empty() && c->keys.empty()) {  // aggregates over no rows: one group
        group_keys.emplace_back();
        inputs.emplace_back(agg.calls.size());
      }
      std::vector<Tuple> grouped_rows;
      for (size_t g = 0; g < group_keys.size(); ++g) {
        Tuple row = group_keys[g];
        for (size_t a = 0; a < agg.calls.size(); ++a) {
          RWMETA_ASSIGN_OR_RETURN(Datum d, FinishAggregate(agg.calls[a], std::move(inputs[g][a])));
          row.push_back(std::move(d));
        }
        grouped_rows.push_back(std::move(row));
      }
      rows = std::move(grouped_rows);
    }
    std::vector<Tuple> out;
    for (const Tuple& t : rows) {
      RowCtx ctx{&t, outer_row};
      if (c->having) {
        RWMETA_ASSIGN_OR_RETURN(Datum v, c->having->eval(&ctx));
        if (v.is_null() || !std::get<bool>(v.v)) continue;
      }
      Tuple o;
      o.reserve(c->outputs.size() + c->hidden.size());
      for (const Expr& e : c->outputs) {
        RWMETA_ASSIGN_OR_RETURN(Datum d, e.eval(&ctx));
        o.push_back(std::move(d));
      }
      for (const Expr& e : c->hidden) {
        RWMETA_ASSIGN_OR_RETURN(Datum d, e.eval(&ctx));
        o.push_back(std::move(d));
      }
      out.push_back(std::move(o));
    }
    return Finish(std::move(out), n_out, distinct, row_types, keys,
                  has_offset ? offset.get() : nullptr, has_limit ? limit.get() : nullptr, outer_row,
                  distinct_on);
  };
  return plan;
}

// The entry points run the compiler inside one try: nlohmann::json and the standard library may
// throw on malformed trees, and no exception may leave the executor.
template <typename F>
auto Guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return InternalError(std::string("executor: ") + e.what());
  }
}

}  // namespace

Result<QueryResult> ExecuteSelect(const nlohmann::json& select_stmt, QueryContext& ctx) {
  return Guarded([&]() -> Result<QueryResult> {
    Compiler compiler(ctx);
    RWMETA_ASSIGN_OR_RETURN(Plan plan, compiler.CompileSelect(select_stmt, nullptr));
    RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> rows, plan.run(nullptr));
    return QueryResult{std::move(plan.columns), std::move(rows)};
  });
}

Result<std::vector<ColumnDesc>> DescribeSelect(const nlohmann::json& select_stmt,
                                               QueryContext& ctx) {
  return Guarded([&]() -> Result<std::vector<ColumnDesc>> {
    Compiler compiler(ctx);
    RWMETA_ASSIGN_OR_RETURN(Plan plan, compiler.CompileSelect(select_stmt, nullptr));
    return plan.columns;
  });
}

Result<Datum> EvaluateConstant(const nlohmann::json& expr, QueryContext& ctx, TypeId* type) {
  return Guarded([&]() -> Result<Datum> {
    Compiler compiler(ctx);
    Scope empty;
    RWMETA_ASSIGN_OR_RETURN(Expr e, compiler.CompileExpr(expr, &empty, nullptr));
    RowCtx row;
    RWMETA_ASSIGN_OR_RETURN(Datum d, e.eval(&row));
    if (type != nullptr) *type = e.type;
    return d;
  });
}

}  // namespace rwmeta::frontend::sql
