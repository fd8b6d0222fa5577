// SELECT: the select list, WHERE, GROUP BY and HAVING, ORDER BY, DISTINCT [ON], LIMIT/OFFSET,
// WITH, VALUES and set operations (UNION, INTERSECT, EXCEPT), and the row helpers (keys, sorting)
// they share with joins and aggregates.
#include <algorithm>
#include <unordered_map>

#include "frontend/sql/compiler.h"
#include "frontend/sql/sql_error.h"

namespace rwmeta::frontend::sql::internal {

namespace {

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

// NULLs sort as larger than every value (last ascending, first descending) unless told otherwise.
int CompareForSort(const Datum& a, const Datum& b, TypeId t, const SortKey& k) {
  if (a.is_null() || b.is_null()) {
    if (a.is_null() && b.is_null()) return 0;
    return a.is_null() == k.nulls_first ? -1 : 1;
  }
  int c = CompareValues(a, b, t);
  return k.desc ? -c : c;
}

}  // namespace

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

Result<RowsFn> Compiler::SortAndLimit(const Json& stmt, RowsFn rows, std::vector<SortKey> keys,
                                      std::vector<TypeId> types, size_t n) {
  auto offset = std::make_shared<Expr>(), limit = std::make_shared<Expr>();
  RWMETA_ASSIGN_OR_RETURN(auto lim, CompileLimit(stmt, offset.get(), limit.get()));
  bool has_offset = lim.first != nullptr, has_limit = lim.second != nullptr;
  return RowsFn([this, rows = std::move(rows), keys = std::move(keys), types = std::move(types),
                 offset, limit, has_offset, has_limit,
                 n](const RowCtx* outer_row) -> Result<std::vector<Tuple>> {
    RWMETA_ASSIGN_OR_RETURN(std::vector<Tuple> out, rows(outer_row));
    return Finish(std::move(out), n, false, types, keys, has_offset ? offset.get() : nullptr,
                  has_limit ? limit.get() : nullptr, outer_row);
  });
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
  RWMETA_ASSIGN_OR_RETURN(plan.run, SortAndLimit(stmt, std::move(values), std::move(keys),
                                                 std::move(types), cols.size()));
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
  Plan plan;
  plan.columns = cols;
  RWMETA_ASSIGN_OR_RETURN(plan.run, SortAndLimit(stmt, std::move(combined), std::move(keys),
                                                 std::move(types), cols.size()));
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

}  // namespace rwmeta::frontend::sql::internal
