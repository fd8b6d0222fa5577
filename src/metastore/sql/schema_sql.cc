#include "metastore/sql/schema_sql.h"

#include <fmt/format.h>

#include <algorithm>

namespace rwmeta::metastore::sql {

namespace {

bool InAnyKey(const TableSchema& table, const std::string& column) {
  auto contains = [&](const std::vector<std::string>& cols) {
    return std::find(cols.begin(), cols.end(), column) != cols.end();
  };
  if (contains(table.primary_key)) return true;
  for (const auto& uk : table.unique_keys) {
    if (contains(uk)) return true;
  }
  for (const auto& fk : table.foreign_keys) {
    if (contains(fk.columns)) return true;
  }
  return false;
}

// True if `columns` is a prefix of the primary key or of a unique key (so an index exists).
bool Indexed(const TableSchema& table, const std::vector<std::string>& columns) {
  auto prefix_of = [&](const std::vector<std::string>& key) {
    return key.size() >= columns.size() && std::equal(columns.begin(), columns.end(), key.begin());
  };
  if (prefix_of(table.primary_key)) return true;
  for (const auto& uk : table.unique_keys) {
    if (prefix_of(uk)) return true;
  }
  return false;
}

std::string QuotedList(SqlDialect d, const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += QuoteIdentifier(d, names[i]);
  }
  return out;
}

std::string Placeholder(SqlDialect d, int n) {
  return d == SqlDialect::kPostgres ? fmt::format("${}", n) : "?";
}

std::string ColumnDefinition(SqlDialect d, const TableSchema& t, const ColumnSchema& c) {
  std::string out = QuoteIdentifier(d, c.name) + " " + ColumnSqlType(d, t, c);
  if (!c.nullable) out += " NOT NULL";
  return out;
}

}  // namespace

std::string_view DialectName(SqlDialect dialect) {
  switch (dialect) {
    case SqlDialect::kSqlite:
      return "sqlite";
    case SqlDialect::kPostgres:
      return "postgres";
    case SqlDialect::kMysql:
      return "mysql";
  }
  return "unknown";
}

std::string QuoteIdentifier(SqlDialect dialect, std::string_view name) {
  const char q = dialect == SqlDialect::kMysql ? '`' : '"';
  std::string out(1, q);
  for (char c : name) {
    out += c;
    if (c == q) out += q;
  }
  out += q;
  return out;
}

std::string ColumnSqlType(SqlDialect dialect, const TableSchema& table,
                          const ColumnSchema& column) {
  switch (dialect) {
    case SqlDialect::kSqlite:
      switch (column.type) {
        case ColumnType::kInt64:
        case ColumnType::kBool:
          return "INTEGER";
        case ColumnType::kDouble:
          return "REAL";
        case ColumnType::kText:
        case ColumnType::kJson:
          return "TEXT";
        case ColumnType::kBytes:
          return "BLOB";
      }
      break;
    case SqlDialect::kPostgres:
      switch (column.type) {
        case ColumnType::kInt64:
          return "BIGINT";
        case ColumnType::kBool:
          return "BOOLEAN";
        case ColumnType::kDouble:
          return "DOUBLE PRECISION";
        case ColumnType::kText:
        case ColumnType::kJson:
          return "TEXT COLLATE \"C\"";
        case ColumnType::kBytes:
          return "BYTEA";
      }
      break;
    case SqlDialect::kMysql: {
      // MySQL cannot index unbounded TEXT/BLOB columns: key columns get bounded types.
      const bool key = InAnyKey(table, column.name);
      switch (column.type) {
        case ColumnType::kInt64:
          return "BIGINT";
        case ColumnType::kBool:
          return "BOOLEAN";
        case ColumnType::kDouble:
          return "DOUBLE";
        case ColumnType::kText:
          return key ? "VARCHAR(255)" : "LONGTEXT";
        case ColumnType::kJson:
          return "LONGTEXT";
        case ColumnType::kBytes:
          return key ? "VARBINARY(255)" : "LONGBLOB";
      }
      break;
    }
  }
  return "UNKNOWN";
}

std::vector<std::string> CreateTableSql(SqlDialect d, const TableSchema& t, int version) {
  std::vector<std::string> lines;
  for (const auto& c : t.columns) {
    if (c.added_in_version <= version) lines.push_back(ColumnDefinition(d, t, c));
  }
  lines.push_back("PRIMARY KEY (" + QuotedList(d, t.primary_key) + ")");
  for (const auto& uk : t.unique_keys) lines.push_back("UNIQUE (" + QuotedList(d, uk) + ")");
  for (const auto& fk : t.foreign_keys) {
    lines.push_back(fmt::format("FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {}",
                                QuotedList(d, fk.columns), QuoteIdentifier(d, fk.ref_table),
                                QuotedList(d, fk.ref_columns),
                                fk.on_delete_cascade ? "CASCADE" : "NO ACTION"));
  }
  std::string create = "CREATE TABLE " + QuoteIdentifier(d, t.name) + " (\n  " +
                       fmt::format("{}", fmt::join(lines, ",\n  ")) + "\n)";
  if (d == SqlDialect::kSqlite) create += " STRICT";
  if (d == SqlDialect::kMysql)
    create += " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
  std::vector<std::string> out{create};
  // Child columns of foreign keys are indexed so that a parent delete does not scan the child
  // table.
  for (const auto& fk : t.foreign_keys) {
    if (Indexed(t, fk.columns)) continue;
    std::string name = "rwmeta_idx_" + t.name;
    for (const auto& c : fk.columns) name += "_" + c;
    out.push_back(fmt::format("CREATE INDEX {} ON {} ({})", QuoteIdentifier(d, name),
                              QuoteIdentifier(d, t.name), QuotedList(d, fk.columns)));
  }
  return out;
}

std::string CreateMigrationsTableSql(SqlDialect d) {
  TableSchema t{std::string(kMigrationsTable),
                {{"version", ColumnType::kInt64},
                 {"applied_at_ms", ColumnType::kInt64},
                 {"description", ColumnType::kText}},
                {"version"},
                {},
                {}};
  std::string create = CreateTableSql(d, t, 1).front();
  return "CREATE TABLE IF NOT EXISTS" + create.substr(std::string_view("CREATE TABLE").size());
}

std::string RecordMigrationSql(SqlDialect d) {
  return fmt::format("INSERT INTO {} ({}, {}, {}) VALUES ({}, {}, {})",
                     QuoteIdentifier(d, kMigrationsTable), QuoteIdentifier(d, "version"),
                     QuoteIdentifier(d, "applied_at_ms"), QuoteIdentifier(d, "description"),
                     Placeholder(d, 1), Placeholder(d, 2), Placeholder(d, 3));
}

std::string CurrentVersionSql(SqlDialect d) {
  return fmt::format("SELECT MAX({}) FROM {}", QuoteIdentifier(d, "version"),
                     QuoteIdentifier(d, kMigrationsTable));
}

Result<MigrationStep> MigrationStepSql(SqlDialect d, const Model& model, int version) {
  if (version < 1 || version > model.version()) {
    return InvalidArgumentError(fmt::format("no migration to schema version {} (model version {})",
                                            version, model.version()));
  }
  MigrationStep step;
  step.version = version;
  std::vector<std::string> new_tables;
  std::vector<std::string> new_columns;
  for (const TableSchema& t : model.tables()) {
    if (t.added_in_version == version) {
      for (auto& s : CreateTableSql(d, t, version)) step.statements.push_back(std::move(s));
      new_tables.push_back(t.name);
      continue;
    }
    if (t.added_in_version > version) continue;
    for (const ColumnSchema& c : t.columns) {
      if (c.added_in_version != version) continue;
      step.statements.push_back(fmt::format("ALTER TABLE {} ADD COLUMN {}",
                                            QuoteIdentifier(d, t.name), ColumnDefinition(d, t, c)));
      new_columns.push_back(t.name + "." + c.name);
    }
  }
  std::vector<std::string> parts;
  if (!new_tables.empty())
    parts.push_back(fmt::format("add tables {}", fmt::join(new_tables, ", ")));
  if (!new_columns.empty()) {
    parts.push_back(fmt::format("add columns {}", fmt::join(new_columns, ", ")));
  }
  step.description = parts.empty() ? "no schema change" : fmt::format("{}", fmt::join(parts, "; "));
  return step;
}

TableDml TableDmlSql(SqlDialect d, const TableSchema& t) {
  std::vector<std::string> all;
  std::vector<std::string> non_key;
  for (const auto& c : t.columns) {
    all.push_back(c.name);
    if (std::find(t.primary_key.begin(), t.primary_key.end(), c.name) == t.primary_key.end()) {
      non_key.push_back(c.name);
    }
  }
  const std::string table = QuoteIdentifier(d, t.name);
  const std::string columns = QuotedList(d, all);
  auto key_condition = [&](int first_param) {
    std::string out;
    for (size_t i = 0; i < t.primary_key.size(); ++i) {
      if (i > 0) out += " AND ";
      out += QuoteIdentifier(d, t.primary_key[i]) + " = " +
             Placeholder(d, first_param + static_cast<int>(i));
    }
    return out;
  };
  TableDml dml;
  dml.select_by_key = fmt::format("SELECT {} FROM {} WHERE {}", columns, table, key_condition(1));
  dml.scan =
      fmt::format("SELECT {} FROM {} ORDER BY {}", columns, table, QuotedList(d, t.primary_key));
  dml.count = fmt::format("SELECT COUNT(*) FROM {}", table);
  dml.exists_any = fmt::format("SELECT 1 FROM {} LIMIT 1", table);
  std::string values;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i > 0) values += ", ";
    values += Placeholder(d, static_cast<int>(i) + 1);
  }
  dml.insert = fmt::format("INSERT INTO {} ({}) VALUES ({})", table, columns, values);
  if (!non_key.empty()) {
    std::string sets;
    for (size_t i = 0; i < non_key.size(); ++i) {
      if (i > 0) sets += ", ";
      sets += QuoteIdentifier(d, non_key[i]) + " = " + Placeholder(d, static_cast<int>(i) + 1);
    }
    dml.update = fmt::format("UPDATE {} SET {} WHERE {}", table, sets,
                             key_condition(static_cast<int>(non_key.size()) + 1));
  }
  dml.delete_by_key = fmt::format("DELETE FROM {} WHERE {}", table, key_condition(1));
  return dml;
}

std::string MultiRowInsertSql(SqlDialect d, const TableSchema& t, int rows) {
  std::vector<std::string> names;
  for (const auto& c : t.columns) names.push_back(c.name);
  std::string out =
      fmt::format("INSERT INTO {} ({}) VALUES ", QuoteIdentifier(d, t.name), QuotedList(d, names));
  int n = 0;
  for (int r = 0; r < rows; ++r) {
    out += r > 0 ? ", (" : "(";
    for (size_t i = 0; i < names.size(); ++i) {
      if (i > 0) out += ", ";
      out += Placeholder(d, ++n);
    }
    out += ")";
  }
  return out;
}

std::string CopyInSql(const TableSchema& t) {
  std::vector<std::string> names;
  for (const auto& c : t.columns) names.push_back(c.name);
  constexpr SqlDialect d = SqlDialect::kPostgres;
  return fmt::format("COPY {} ({}) FROM STDIN (FORMAT binary)", QuoteIdentifier(d, t.name),
                     QuotedList(d, names));
}

}  // namespace rwmeta::metastore::sql
