// Aggregates: recognizing aggregate calls, binding them (their types by PostgreSQL's rules) and
// computing them over a group's rows.
#include <map>

#include "frontend/sql/compiler.h"
#include "frontend/sql/decimal.h"
#include "frontend/sql/sql_error.h"

namespace rwmeta::frontend::sql::internal {

bool IsAggregateName(const std::string& n) {
  return n == "count" || n == "sum" || n == "min" || n == "max" || n == "avg" || n == "bool_and" ||
         n == "bool_or" || n == "every" || n == "string_agg" || n == "array_agg";
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

}  // namespace rwmeta::frontend::sql::internal
