// FROM: relations, views and WITH queries by name, subqueries, functions in FROM
// (generate_series, unnest), and joins (nested loop, or hashed on equalities between the sides).
#include <algorithm>
#include <unordered_map>

#include "frontend/sql/compiler.h"
#include "frontend/sql/parser.h"
#include "frontend/sql/sql_error.h"

namespace rwmeta::frontend::sql::internal {

namespace {

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

}  // namespace

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

}  // namespace rwmeta::frontend::sql::internal
