// Expressions: the compiler's binding of expression nodes (constants, column references,
// operators, casts, CASE, function calls, subqueries) into closures over rows.
#include <regex>

#include "frontend/sql/compiler.h"
#include "frontend/sql/sql_error.h"

namespace rwmeta::frontend::sql::internal {

namespace {

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

// `x op ANY (...)` / `x op ALL (...)` over the results of the comparison for each element, as
// PostgreSQL: ANY is true as soon as one comparison is true (ALL false as soon as one is false),
// else NULL if a comparison was NULL, else false (ALL: true). Shared by arrays and subqueries.
struct QuantifiedFold {
  bool any;
  bool saw_null = false;
  bool decided = false;
  // Adds one comparison's result; true once the outcome is known (stop comparing).
  bool Decided(const Datum& v) {
    if (v.is_null()) {
      saw_null = true;
    } else if (std::get<bool>(v.v) == any) {
      decided = true;
    }
    return decided;
  }
  Datum Value() const {
    if (decided) return Datum{any};
    return saw_null ? Datum::Null() : Datum{!any};
  }
};

}  // namespace

Status Unsupported(const std::string& what) { return NotSupported(what + " is not supported"); }

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
                  QuantifiedFold fold{any};
                  for (const std::string& s : std::get<std::vector<std::string>>(arr.v)) {
                    RWMETA_ASSIGN_OR_RETURN(*elem, DatumFromText(s, lt));
                    RWMETA_ASSIGN_OR_RETURN(Datum v, ft(row));
                    if (fold.Decided(v)) break;
                  }
                  return fold.Value();
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
                  QuantifiedFold fold{any};
                  for (const Tuple& r : rows) {
                    *elem = r[0];
                    RWMETA_ASSIGN_OR_RETURN(Datum v, ft(row));
                    if (fold.Decided(v)) break;
                  }
                  return fold.Value();
                }};
  }
  return Unsupported("subquery kind " + type);
}

}  // namespace rwmeta::frontend::sql::internal
