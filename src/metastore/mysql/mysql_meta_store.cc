#include "metastore/mysql/mysql_meta_store.h"

#include <errmsg.h>
#include <fmt/format.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/url.h"
#include "metastore/row_errors.h"
#include "metastore/sql/schema_sql.h"

namespace rwmeta::metastore {

namespace {

using sql::SqlDialect;
constexpr SqlDialect kDialect = SqlDialect::kMysql;
// Rows per page of a Scan: bounds the memory a Scan holds.
constexpr int kPageRows = 256;

// Maps a server or client error number to the Status a caller needs (table in the header).
Status MapError(unsigned int error, std::string message) {
  switch (error) {
    case ER_DUP_ENTRY:
    case ER_DUP_ENTRY_WITH_KEY_NAME:
    case ER_DUP_KEY:
      return AlreadyExistsError(std::move(message));
    case ER_ROW_IS_REFERENCED:
    case ER_ROW_IS_REFERENCED_2:
    case ER_NO_REFERENCED_ROW:
    case ER_NO_REFERENCED_ROW_2:
    case ER_TABLE_EXISTS_ERROR:
      return FailedPreconditionError(std::move(message));
    case ER_DATA_TOO_LONG:
    case ER_BAD_NULL_ERROR:
    case ER_WARN_DATA_OUT_OF_RANGE:
    case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
      return InvalidArgumentError(std::move(message));
    case ER_LOCK_DEADLOCK:
    case ER_LOCK_WAIT_TIMEOUT:
    case ER_CHECKREAD:
      return AbortedError(std::move(message));
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_UNKNOWN_HOST:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case ER_CON_COUNT_ERROR:
    case ER_SERVER_SHUTDOWN:
    case ER_CONNECTION_KILLED:
      return UnavailableError(std::move(message));
    case ER_ACCESS_DENIED_ERROR:
    case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
      return UnauthenticatedError(std::move(message));
    case ER_DBACCESS_DENIED_ERROR:
    case ER_TABLEACCESS_DENIED_ERROR:
    case ER_COLUMNACCESS_DENIED_ERROR:
    case ER_SPECIFIC_ACCESS_DENIED_ERROR:
      return PermissionDeniedError(std::move(message));
    case ER_BAD_DB_ERROR:
      return NotFoundError(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

// The result of one prepared statement: the rows (values of the requested column types, NULL as
// std::monostate; booleans still as int64 0/1) and the rows it matched (UPDATE, DELETE).
struct ExecResult {
  std::vector<std::vector<Value>> rows;
  uint64_t affected = 0;
};

// One parameter, kept alive while its MYSQL_BIND points into it.
struct Param {
  Value value;
  ColumnType type;
};

class MyConnection {
 public:
  struct Config {
    std::string host;
    unsigned int port = 3306;
    std::string user;
    std::string password;
    std::string database;
    unsigned int connect_timeout_s = 10;
    int lock_wait_timeout_s = 10;
  };

  static Result<std::unique_ptr<MyConnection>> Connect(const Config& config,
                                                       const std::string& display) {
    static std::once_flag library_once;
    std::call_once(library_once, [] { mysql_library_init(0, nullptr, nullptr); });
    MYSQL* raw = mysql_init(nullptr);
    if (raw == nullptr) return InternalError(fmt::format("mysql {}: out of memory", display));
    std::unique_ptr<MyConnection> conn(new MyConnection(raw, display));
    const unsigned int protocol = MYSQL_PROTOCOL_TCP;
    mysql_options(raw, MYSQL_OPT_PROTOCOL, &protocol);
    mysql_options(raw, MYSQL_OPT_CONNECT_TIMEOUT, &config.connect_timeout_s);
    mysql_options(raw, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (mysql_real_connect(raw, config.host.c_str(), config.user.c_str(), config.password.c_str(),
                           config.database.c_str(), config.port, nullptr,
                           CLIENT_FOUND_ROWS) == nullptr) {
      return conn->Error(mysql_errno(raw), mysql_error(raw), "connect");
    }
    // Strict: a value that does not fit is an error, never silently truncated.
    RWMETA_RETURN_IF_ERROR(conn->Query(
        fmt::format("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', "
                    "SESSION innodb_lock_wait_timeout = {}, SESSION autocommit = 1",
                    config.lock_wait_timeout_s),
        "connect"));
    return conn;
  }

  ~MyConnection() {
    for (auto& [sql, stmt] : stmts_) mysql_stmt_close(stmt);
    mysql_close(mysql_);
  }

  bool broken() const { return broken_; }
  bool InTransaction() const { return (mysql_->server_status & SERVER_STATUS_IN_TRANS) != 0; }
  const std::string& display() const { return display_; }

  Status Error(unsigned int error, std::string_view detail, std::string_view context) {
    Status s =
        MapError(error, fmt::format("mysql {}: {}: {} ({})", display_, context, detail, error));
    if (IsUnavailable(s)) broken_ = true;
    return s;
  }

  // Runs `sql` in the text protocol and discards any result.
  Status Query(const std::string& sql, std::string_view context) {
    RWMETA_ASSIGN_OR_RETURN(auto rows, QueryRows(sql, context));
    return Status::Ok();
  }

  // Runs `sql` in the text protocol; rows of nullable text cells.
  Result<std::vector<std::vector<std::optional<std::string>>>> QueryRows(const std::string& sql,
                                                                         std::string_view context) {
    if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) {
      return Error(mysql_errno(mysql_), mysql_error(mysql_), context);
    }
    std::vector<std::vector<std::optional<std::string>>> out;
    MYSQL_RES* res = mysql_store_result(mysql_);
    if (res == nullptr) {
      if (mysql_field_count(mysql_) != 0) {
        return Error(mysql_errno(mysql_), mysql_error(mysql_), context);
      }
      return out;
    }
    const unsigned int fields = mysql_num_fields(res);
    while (MYSQL_ROW row = mysql_fetch_row(res)) {
      unsigned long* lengths = mysql_fetch_lengths(res);
      std::vector<std::optional<std::string>> cells;
      for (unsigned int i = 0; i < fields; ++i) {
        if (row[i] == nullptr) {
          cells.emplace_back();
        } else {
          cells.emplace_back(std::string(row[i], lengths[i]));
        }
      }
      out.push_back(std::move(cells));
    }
    mysql_free_result(res);
    return out;
  }

  // Runs the prepared statement `sql` (prepared once per connection) with `params`, reading every
  // result row as `result_types`.
  Result<ExecResult> Execute(const std::string& sql, const std::vector<Param>& params,
                             const std::vector<ColumnType>& result_types,
                             std::string_view context) {
    RWMETA_ASSIGN_OR_RETURN(MYSQL_STMT * stmt, Prepare(sql, context));
    auto stmt_error = [&]() {
      return Error(mysql_stmt_errno(stmt), mysql_stmt_error(stmt), context);
    };
    // Binds point into these: sized up front, never reallocated.
    std::vector<MYSQL_BIND> binds(params.size());
    std::vector<int64_t> ints(params.size());
    std::vector<double> doubles(params.size());
    std::vector<signed char> bools(params.size());
    std::vector<unsigned long> lengths(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      MYSQL_BIND& b = binds[i];
      const Value& v = params[i].value;
      if (IsNull(v)) {
        b.buffer_type = MYSQL_TYPE_NULL;
      } else if (const auto* n = std::get_if<int64_t>(&v)) {
        ints[i] = *n;
        b.buffer_type = MYSQL_TYPE_LONGLONG;
        b.buffer = &ints[i];
      } else if (const auto* d = std::get_if<double>(&v)) {
        doubles[i] = *d;
        b.buffer_type = MYSQL_TYPE_DOUBLE;
        b.buffer = &doubles[i];
      } else if (const auto* f = std::get_if<bool>(&v)) {
        bools[i] = *f ? 1 : 0;
        b.buffer_type = MYSQL_TYPE_TINY;
        b.buffer = &bools[i];
      } else {
        const std::string& s = std::get<std::string>(v);
        b.buffer_type = params[i].type == ColumnType::kBytes ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
        b.buffer = const_cast<char*>(s.data());
        b.buffer_length = s.size();
        lengths[i] = s.size();
        b.length = &lengths[i];
      }
    }
    if (!binds.empty() && mysql_stmt_bind_param(stmt, binds.data()) != 0) return stmt_error();
    if (mysql_stmt_execute(stmt) != 0) return stmt_error();
    ExecResult out;
    out.affected = mysql_stmt_affected_rows(stmt);
    if (mysql_stmt_field_count(stmt) == 0) return out;
    if (mysql_stmt_field_count(stmt) != result_types.size()) {
      mysql_stmt_free_result(stmt);
      return InternalError(fmt::format("mysql {}: {}: {} result columns, expected {}", display_,
                                       context, mysql_stmt_field_count(stmt), result_types.size()));
    }
    const size_t n = result_types.size();
    std::vector<MYSQL_BIND> results(n);
    std::vector<int64_t> rints(n);
    std::vector<double> rdoubles(n);
    std::vector<unsigned long> rlengths(n);
    std::vector<my_bool> rnull(n);
    for (size_t i = 0; i < n; ++i) {
      MYSQL_BIND& b = results[i];
      b.is_null = &rnull[i];
      b.length = &rlengths[i];
      switch (result_types[i]) {
        case ColumnType::kInt64:
        case ColumnType::kBool:
          b.buffer_type = MYSQL_TYPE_LONGLONG;
          b.buffer = &rints[i];
          break;
        case ColumnType::kDouble:
          b.buffer_type = MYSQL_TYPE_DOUBLE;
          b.buffer = &rdoubles[i];
          break;
        default:
          // Length first; the bytes are fetched per column below.
          b.buffer_type = MYSQL_TYPE_BLOB;
          b.buffer = nullptr;
          b.buffer_length = 0;
          break;
      }
    }
    Status failed;
    if (mysql_stmt_bind_result(stmt, results.data()) != 0) failed = stmt_error();
    while (failed.ok()) {
      const int rc = mysql_stmt_fetch(stmt);
      if (rc == MYSQL_NO_DATA) break;
      if (rc == 1) {
        failed = stmt_error();
        break;
      }
      std::vector<Value> row;
      row.reserve(n);
      for (size_t i = 0; i < n && failed.ok(); ++i) {
        if (rnull[i]) {
          row.emplace_back();
          continue;
        }
        switch (result_types[i]) {
          case ColumnType::kInt64:
          case ColumnType::kBool:
            row.emplace_back(rints[i]);
            break;
          case ColumnType::kDouble:
            row.emplace_back(rdoubles[i]);
            break;
          default: {
            std::string bytes(rlengths[i], '\0');
            if (!bytes.empty()) {
              MYSQL_BIND column{};
              column.buffer_type = MYSQL_TYPE_BLOB;
              column.buffer = bytes.data();
              column.buffer_length = bytes.size();
              if (mysql_stmt_fetch_column(stmt, &column, static_cast<unsigned int>(i), 0) != 0) {
                failed = stmt_error();
              }
            }
            row.emplace_back(std::move(bytes));
            break;
          }
        }
      }
      out.rows.push_back(std::move(row));
    }
    mysql_stmt_free_result(stmt);
    if (!failed.ok()) return failed;
    return out;
  }

 private:
  MyConnection(MYSQL* mysql, std::string display) : mysql_(mysql), display_(std::move(display)) {}

  Result<MYSQL_STMT*> Prepare(const std::string& sql, std::string_view context) {
    auto it = stmts_.find(sql);
    if (it != stmts_.end()) return it->second;
    MYSQL_STMT* stmt = mysql_stmt_init(mysql_);
    if (stmt == nullptr) return Error(mysql_errno(mysql_), mysql_error(mysql_), context);
    if (mysql_stmt_prepare(stmt, sql.data(), sql.size()) != 0) {
      Status s = Error(mysql_stmt_errno(stmt), mysql_stmt_error(stmt), context);
      mysql_stmt_close(stmt);
      return s;
    }
    stmts_.emplace(sql, stmt);
    return stmt;
  }

  MYSQL* mysql_;
  std::string display_;
  bool broken_ = false;
  std::unordered_map<std::string, MYSQL_STMT*> stmts_;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t ParseInt(const std::optional<std::string>& cell) {
  return cell.has_value() ? std::strtoll(cell->c_str(), nullptr, 10) : 0;
}

// The recorded schema version (0 without the bookkeeping table).
Result<int> ReadVersion(MyConnection& conn) {
  RWMETA_ASSIGN_OR_RETURN(
      auto exists, conn.QueryRows(fmt::format("SELECT COUNT(*) FROM information_schema.tables "
                                              "WHERE table_schema = DATABASE() AND table_name = "
                                              "'{}'",
                                              sql::kMigrationsTable),
                                  "read schema version"));
  if (exists.empty() || ParseInt(exists[0][0]) == 0) return 0;
  RWMETA_ASSIGN_OR_RETURN(auto max,
                          conn.QueryRows(sql::CurrentVersionSql(kDialect), "read schema version"));
  if (max.empty()) return 0;
  return static_cast<int>(ParseInt(max[0][0]));
}

// The base tables of the connection's database, by name.
Result<std::vector<std::string>> ListTables(MyConnection& conn) {
  RWMETA_ASSIGN_OR_RETURN(auto rows, conn.QueryRows("SELECT table_name FROM information_schema."
                                                    "tables WHERE table_schema = DATABASE() AND "
                                                    "table_type = 'BASE TABLE' ORDER BY table_name",
                                                    "list tables"));
  std::vector<std::string> names;
  for (auto& row : rows) names.push_back(row[0].value_or(""));
  return names;
}

// The SQL a table needs beyond TableDml: Scan's pages, by primary key.
struct PagedScan {
  std::string first;  // no params
  std::string next;   // params: see NextPageParams
};

PagedScan PagedScanSql(const TableSchema& t) {
  std::string columns;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (i > 0) columns += ", ";
    columns += sql::QuoteIdentifier(kDialect, t.columns[i].name);
  }
  std::string order;
  for (size_t i = 0; i < t.primary_key.size(); ++i) {
    if (i > 0) order += ", ";
    order += sql::QuoteIdentifier(kDialect, t.primary_key[i]);
  }
  // (k1 > ?) OR (k1 = ? AND k2 > ?) OR ...: the rows after the last key seen, in key order.
  std::string after;
  for (size_t i = 0; i < t.primary_key.size(); ++i) {
    if (i > 0) after += " OR ";
    after += "(";
    for (size_t j = 0; j < i; ++j) {
      after += sql::QuoteIdentifier(kDialect, t.primary_key[j]) + " = ? AND ";
    }
    after += sql::QuoteIdentifier(kDialect, t.primary_key[i]) + " > ?)";
  }
  const std::string table = sql::QuoteIdentifier(kDialect, t.name);
  return {fmt::format("SELECT {} FROM {} ORDER BY {} LIMIT {}", columns, table, order, kPageRows),
          fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {}", columns, table, after,
                      order, kPageRows)};
}

}  // namespace

struct MysqlMetaStore::Shared {
  std::string display;
  MyConnection::Config config;
  MysqlOptions options;
  const Model* model;
  std::map<std::string, sql::TableDml, std::less<>> dml;
  std::map<std::string, PagedScan, std::less<>> scans;
  std::atomic<bool> version_checked{false};

  std::mutex mu;
  std::vector<std::unique_ptr<MyConnection>> idle;  // guarded by mu

  // An idle connection, or a new one. `pooled` says which.
  Result<std::unique_ptr<MyConnection>> Acquire(bool* pooled = nullptr) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!idle.empty()) {
        auto conn = std::move(idle.back());
        idle.pop_back();
        if (pooled != nullptr) *pooled = true;
        return conn;
      }
    }
    if (pooled != nullptr) *pooled = false;
    return MyConnection::Connect(config, display);
  }

  // A connection on which `first` has run. An idle connection that the server closed meanwhile
  // (restart, wait_timeout, KILL) fails its first statement as Unavailable: it is dropped and the
  // next one tried, down to a new connection, whose failure is returned.
  Result<std::unique_ptr<MyConnection>> AcquireWith(const std::string& first,
                                                    std::string_view context) {
    while (true) {
      bool pooled = false;
      RWMETA_ASSIGN_OR_RETURN(auto conn, Acquire(&pooled));
      Status s = conn->Query(first, context);
      if (s.ok()) return conn;
      if (pooled && IsUnavailable(s)) continue;
      Release(std::move(conn));
      return s;
    }
  }

  // Takes back `conn`; a broken connection, or one still inside a transaction, is closed.
  void Release(std::unique_ptr<MyConnection> conn) {
    if (conn == nullptr || conn->broken() || conn->InTransaction()) return;
    std::lock_guard<std::mutex> lock(mu);
    if (idle.size() < options.max_idle_connections) idle.push_back(std::move(conn));
  }

  Status VersionMismatch(int version) const {
    return FailedPreconditionError(
        fmt::format("mysql {}: meta store schema version {}, this binary's model version is {}; "
                    "run Migrate",
                    display, version, model->version()));
  }

  Status CheckVersion(MyConnection& conn) {
    if (version_checked.load()) return Status::Ok();
    RWMETA_ASSIGN_OR_RETURN(int version, ReadVersion(conn));
    if (version != model->version()) return VersionMismatch(version);
    version_checked.store(true);
    return Status::Ok();
  }
};

namespace {

std::vector<ColumnType> TypesOf(const TableSchema& t) {
  std::vector<ColumnType> types;
  for (const auto& c : t.columns) types.push_back(c.type);
  return types;
}

// Checks a fetched row against the model and turns 0/1 back into booleans.
Result<Row> ToRow(std::vector<Value> cells, const TableSchema& t, const std::string& display) {
  for (size_t i = 0; i < cells.size(); ++i) {
    const ColumnSchema& c = t.columns[i];
    auto bad = [&](std::string_view why) {
      return DataLossError(
          fmt::format("mysql {}: table {} column {}: {}", display, t.name, c.name, why));
    };
    if (IsNull(cells[i])) {
      if (!c.nullable) return bad("NULL in a NOT NULL column");
      continue;
    }
    if (c.type == ColumnType::kBool) {
      const int64_t v = std::get<int64_t>(cells[i]);
      if (v != 0 && v != 1) return bad(fmt::format("stored boolean {} is not 0 or 1", v));
      cells[i] = v == 1;
    }
  }
  return Row(std::move(cells));
}

class MyTransaction final : public Transaction {
 public:
  MyTransaction(std::shared_ptr<MysqlMetaStore::Shared> shared, std::unique_ptr<MyConnection> conn,
                bool read_only)
      : shared_(std::move(shared)), conn_(std::move(conn)), read_only_(read_only) {}

  ~MyTransaction() override {
    if (conn_ != nullptr && !conn_->broken() && conn_->InTransaction()) {
      // On failure Release closes the connection, which rolls back too.
      conn_->Query("ROLLBACK", "rollback").IgnoreError();
    }
    shared_->Release(std::move(conn_));
  }

  Result<std::optional<Row>> Get(const TableSchema& table, const Key& key) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateKey(*t.schema, key));
    RWMETA_ASSIGN_OR_RETURN(ExecResult res, Run(t.dml->select_by_key, KeyParams(*t.schema, key),
                                                TypesOf(*t.schema), Context("get", *t.schema)));
    if (res.rows.empty()) return std::optional<Row>();
    RWMETA_ASSIGN_OR_RETURN(Row row,
                            ToRow(std::move(res.rows.front()), *t.schema, conn_->display()));
    return std::optional<Row>(std::move(row));
  }

  Status Scan(const TableSchema& table, const std::function<Status(const Row&)>& visit) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    const TableSchema& s = *t.schema;
    const std::vector<ColumnType> types = TypesOf(s);
    const std::vector<int> key_idx = s.PrimaryKeyIndexes();
    std::optional<Row> last;
    while (true) {
      std::vector<Param> params;
      if (last.has_value()) {
        for (size_t i = 0; i < key_idx.size(); ++i) {
          for (size_t j = 0; j <= i; ++j) {
            params.push_back({(*last)[key_idx[j]], s.columns[key_idx[j]].type});
          }
        }
      }
      RWMETA_ASSIGN_OR_RETURN(ExecResult page, Run(last.has_value() ? t.scan->next : t.scan->first,
                                                   params, types, Context("scan", s)));
      const size_t n = page.rows.size();
      // The whole page is read before any visit: the visitor may read through this view.
      for (auto& cells : page.rows) {
        RWMETA_ASSIGN_OR_RETURN(Row row, ToRow(std::move(cells), s, conn_->display()));
        RWMETA_RETURN_IF_ERROR(visit(row));
        last = std::move(row);
      }
      if (n < static_cast<size_t>(kPageRows)) return Status::Ok();
    }
  }

  Result<int64_t> Count(const TableSchema& table) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_ASSIGN_OR_RETURN(
        ExecResult res, Run(t.dml->count, {}, {ColumnType::kInt64}, Context("count", *t.schema)));
    if (res.rows.empty() || IsNull(res.rows[0][0])) return int64_t{0};
    return std::get<int64_t>(res.rows[0][0]);
  }

  Status Insert(const TableSchema& table, const Row& row) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateRow(*t.schema, row));
    std::vector<Param> params;
    for (size_t i = 0; i < row.size(); ++i) params.push_back({row[i], t.schema->columns[i].type});
    return Run(t.dml->insert, params, {}, Context("insert", *t.schema)).status();
  }

  Status Update(const TableSchema& table, const Row& row) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateRow(*t.schema, row));
    const TableSchema& s = *t.schema;
    Key key = KeyOf(s, row);
    if (t.dml->update.empty()) {
      // Every column is a key column: the row either exists as given or not at all.
      RWMETA_ASSIGN_OR_RETURN(std::optional<Row> existing, Get(s, key));
      if (!existing.has_value()) return RowNotFoundError(s, key);
      return Status::Ok();
    }
    std::vector<int> key_idx = s.PrimaryKeyIndexes();
    std::vector<Param> params;
    for (size_t i = 0; i < row.size(); ++i) {
      if (std::find(key_idx.begin(), key_idx.end(), static_cast<int>(i)) != key_idx.end()) continue;
      params.push_back({row[i], s.columns[i].type});
    }
    for (Param& p : KeyParams(s, key)) params.push_back(std::move(p));
    // CLIENT_FOUND_ROWS: affected counts matched rows, also when the values did not change.
    RWMETA_ASSIGN_OR_RETURN(ExecResult res, Run(t.dml->update, params, {}, Context("update", s)));
    if (res.affected == 0) return RowNotFoundError(s, key);
    return Status::Ok();
  }

  Status Upsert(const TableSchema& table, const Row& row) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateRow(*t.schema, row));
    // An update in place, never REPLACE (delete + insert, which would fire ON DELETE CASCADE).
    // The Get takes a shared lock (SERIALIZABLE), so the row cannot appear before the Insert.
    RWMETA_ASSIGN_OR_RETURN(std::optional<Row> existing, Get(*t.schema, KeyOf(*t.schema, row)));
    return existing.has_value() ? Update(*t.schema, row) : Insert(*t.schema, row);
  }

  Status Delete(const TableSchema& table, const Key& key) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateKey(*t.schema, key));
    RWMETA_ASSIGN_OR_RETURN(ExecResult res, Run(t.dml->delete_by_key, KeyParams(*t.schema, key), {},
                                                Context("delete", *t.schema)));
    if (res.affected == 0) return RowNotFoundError(*t.schema, key);
    return Status::Ok();
  }

  Status Commit() override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    finished_ = true;
    Status s = conn_->Query("COMMIT", "commit");
    if (!s.ok() && !conn_->broken() && conn_->InTransaction()) {
      conn_->Query("ROLLBACK", "rollback").IgnoreError();  // Release drops it otherwise
    }
    return s;
  }

 private:
  struct Resolved {
    const TableSchema* schema;
    const sql::TableDml* dml;
    const PagedScan* scan;
  };

  Status CheckUsable(bool write) const {
    if (finished_) return FailedPreconditionError("mysql: transaction already finished");
    if (write && read_only_) return FailedPreconditionError("mysql: snapshot view is read-only");
    if (!doomed_.ok()) {
      if (IsUnavailable(doomed_)) return doomed_;
      return AbortedError(
          fmt::format("mysql: transaction failed earlier, redo it: {}", doomed_.message()));
    }
    return Status::Ok();
  }

  Result<Resolved> Resolve(const TableSchema& table) const {
    auto it = shared_->dml.find(table.name);
    if (it == shared_->dml.end()) {
      return InvalidArgumentError(fmt::format("table {} is not in the model", table.name));
    }
    return Resolved{shared_->model->Find(table.name), &it->second,
                    &shared_->scans.find(table.name)->second};
  }

  // InnoDB rolls back the whole transaction on a deadlock, and the connection may be gone: after
  // either, nothing more may run in this transaction.
  Result<ExecResult> Run(const std::string& sql, const std::vector<Param>& params,
                         const std::vector<ColumnType>& types, std::string_view context) {
    Result<ExecResult> res = conn_->Execute(sql, params, types, context);
    if (!res.ok() && (IsAborted(res.status()) || IsUnavailable(res.status()))) {
      doomed_ = res.status();
    }
    return res;
  }

  std::vector<Param> KeyParams(const TableSchema& s, const Key& key) const {
    std::vector<int> idx = s.PrimaryKeyIndexes();
    std::vector<Param> params;
    for (size_t i = 0; i < key.size(); ++i) params.push_back({key[i], s.columns[idx[i]].type});
    return params;
  }

  static std::string Context(std::string_view op, const TableSchema& s) {
    return fmt::format("table {}: {}", s.name, op);
  }

  std::shared_ptr<MysqlMetaStore::Shared> shared_;
  std::unique_ptr<MyConnection> conn_;
  bool read_only_;
  bool finished_ = false;
  Status doomed_;  // the failure that ended InnoDB's transaction early, if any
};

}  // namespace

Result<std::unique_ptr<MysqlMetaStore>> MysqlMetaStore::Open(std::string_view url,
                                                             const Model& model,
                                                             MysqlOptions options) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(fmt::format("meta store url {}: {}", RedactUrl(url), why));
  };
  RWMETA_ASSIGN_OR_RETURN(Url parsed, ParseUrl(url));
  if (parsed.scheme != "mysql") return bad("expected mysql://user:password@host:port/database");
  if (parsed.host.empty()) return bad("no host (expected mysql://user:password@host/db)");
  if (parsed.path.size() < 2 || parsed.path.find('/', 1) != std::string::npos) {
    return bad("expected one database name as the path");
  }
  auto shared = std::make_shared<Shared>();
  shared->display = RedactUrl(url);
  shared->options = options;
  shared->model = &model;
  MyConnection::Config& config = shared->config;
  config.host = parsed.host;
  if (config.host.size() > 2 && config.host.front() == '[' && config.host.back() == ']') {
    config.host = config.host.substr(1, config.host.size() - 2);
  }
  config.port = parsed.port.value_or(3306);
  config.user = parsed.user;
  config.password = parsed.password;
  config.database = parsed.path.substr(1);
  config.connect_timeout_s =
      static_cast<unsigned int>(std::max(1, options.connect_timeout_ms / 1000));
  config.lock_wait_timeout_s = options.lock_wait_timeout_s;
  for (const auto& [key, value] : parsed.query) {
    if (key != "connect_timeout") return bad(fmt::format("unknown parameter '{}'", key));
    char* end = nullptr;
    const long seconds = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || seconds < 1 || seconds > 3600) {
      return bad("connect_timeout must be a number of seconds from 1 to 3600");
    }
    config.connect_timeout_s = static_cast<unsigned int>(seconds);
  }
  for (const TableSchema& t : model.tables()) {
    shared->dml.emplace(t.name, sql::TableDmlSql(kDialect, t));
    shared->scans.emplace(t.name, PagedScanSql(t));
  }
  // Connect once now, so that a bad address or bad credentials fail here and not later.
  RWMETA_ASSIGN_OR_RETURN(auto conn, shared->Acquire());
  shared->Release(std::move(conn));
  return std::unique_ptr<MysqlMetaStore>(new MysqlMetaStore(std::move(shared)));
}

MysqlMetaStore::MysqlMetaStore(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

MysqlMetaStore::~MysqlMetaStore() = default;

std::string MysqlMetaStore::DisplayUrl() const { return shared_->display; }

Result<SchemaState> MysqlMetaStore::Inspect() {
  RWMETA_ASSIGN_OR_RETURN(
      auto conn,
      shared_->AcquireWith("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "inspect"));
  auto inspect = [&]() -> Result<SchemaState> {
    // One snapshot, so that version and emptiness describe the same state.
    RWMETA_RETURN_IF_ERROR(
        conn->Query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", "inspect"));
    SchemaState state;
    RWMETA_ASSIGN_OR_RETURN(state.version, ReadVersion(*conn));
    RWMETA_ASSIGN_OR_RETURN(std::vector<std::string> tables, ListTables(*conn));
    for (const auto& name : tables) {
      if (name == sql::kMigrationsTable) continue;
      RWMETA_ASSIGN_OR_RETURN(
          auto rows,
          conn->QueryRows("SELECT 1 FROM " + sql::QuoteIdentifier(kDialect, name) + " LIMIT 1",
                          "inspect table " + name));
      if (!rows.empty()) {
        state.empty = false;
        break;
      }
    }
    return state;
  };
  Result<SchemaState> state = inspect();
  if (!conn->broken() && conn->InTransaction()) {
    conn->Query("ROLLBACK", "inspect").IgnoreError();  // read-only; Release drops it otherwise
  }
  shared_->Release(std::move(conn));
  return state;
}

Status MysqlMetaStore::Migrate() {
  RWMETA_ASSIGN_OR_RETURN(auto conn, shared_->AcquireWith("DO 1", "migrate"));
  const Model& model = *shared_->model;
  auto migrate = [&]() -> Status {
    // Migrators of one database take turns. Held until RELEASE_LOCK or the connection closes.
    RWMETA_ASSIGN_OR_RETURN(
        auto locked,
        conn->QueryRows("SELECT GET_LOCK(CONCAT('rwmeta_migrate.', DATABASE()), 60)", "migrate"));
    if (locked.empty() || ParseInt(locked[0][0]) != 1) {
      return AbortedError(fmt::format("mysql {}: migrate: another migration held the lock for 60 s",
                                      shared_->display));
    }
    while (true) {
      RWMETA_ASSIGN_OR_RETURN(std::vector<std::string> tables, ListTables(*conn));
      const bool has_bookkeeping =
          std::find(tables.begin(), tables.end(), sql::kMigrationsTable) != tables.end();
      if (!has_bookkeeping && !tables.empty()) {
        return FailedPreconditionError(fmt::format(
            "mysql {}: the database has no rwmeta schema but already holds {} table(s) ({}, "
            "...): use an empty database",
            shared_->display, tables.size(), tables.front()));
      }
      RWMETA_RETURN_IF_ERROR(conn->Query(sql::CreateMigrationsTableSql(kDialect), "migrate"));
      RWMETA_ASSIGN_OR_RETURN(int version, ReadVersion(*conn));
      if (version > model.version()) {
        return FailedPreconditionError(
            fmt::format("mysql {}: meta store schema version {} is newer than this binary's "
                        "model version {}",
                        shared_->display, version, model.version()));
      }
      if (version == model.version()) return Status::Ok();
      RWMETA_ASSIGN_OR_RETURN(sql::MigrationStep step,
                              sql::MigrationStepSql(kDialect, model, version + 1));
      const std::string context = fmt::format("migrate to version {}", step.version);
      // DDL commits implicitly: the step is recorded after its last statement.
      for (const auto& statement : step.statements) {
        RWMETA_RETURN_IF_ERROR(conn->Query(statement, context));
      }
      RWMETA_RETURN_IF_ERROR(conn->Execute(sql::RecordMigrationSql(kDialect),
                                           {{int64_t{step.version}, ColumnType::kInt64},
                                            {NowMs(), ColumnType::kInt64},
                                            {step.description, ColumnType::kText}},
                                           {}, "record migration")
                                 .status());
    }
  };
  Status result = migrate();
  if (!conn->broken()) {
    conn->Query("DO RELEASE_LOCK(CONCAT('rwmeta_migrate.', DATABASE()))", "migrate")
        .IgnoreError();  // also released when the connection closes
  }
  if (result.ok()) shared_->version_checked.store(true);
  shared_->Release(std::move(conn));
  return result;
}

Result<std::unique_ptr<Transaction>> MysqlMetaStore::BeginTransaction() {
  RWMETA_ASSIGN_OR_RETURN(
      auto conn,
      shared_->AcquireWith("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "begin transaction"));
  Status s = conn->Query("START TRANSACTION", "begin transaction");
  if (s.ok()) s = shared_->CheckVersion(*conn);
  if (!s.ok()) {
    if (!conn->broken() && conn->InTransaction()) {
      conn->Query("ROLLBACK", "begin transaction").IgnoreError();
    }
    shared_->Release(std::move(conn));
    return s;
  }
  return std::unique_ptr<Transaction>(
      std::make_unique<MyTransaction>(shared_, std::move(conn), /*read_only=*/false));
}

Result<std::unique_ptr<ReadView>> MysqlMetaStore::BeginSnapshotRead() {
  RWMETA_ASSIGN_OR_RETURN(auto conn,
                          shared_->AcquireWith("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
                                               "begin snapshot read"));
  // WITH CONSISTENT SNAPSHOT takes the snapshot now, not at the first read.
  Status s =
      conn->Query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", "begin snapshot read");
  if (s.ok()) {
    Result<int> version = ReadVersion(*conn);
    s = version.status();
    if (s.ok() && *version != shared_->model->version()) s = shared_->VersionMismatch(*version);
  }
  if (!s.ok()) {
    if (!conn->broken() && conn->InTransaction()) {
      conn->Query("ROLLBACK", "begin snapshot read").IgnoreError();
    }
    shared_->Release(std::move(conn));
    return s;
  }
  return std::unique_ptr<ReadView>(
      std::make_unique<MyTransaction>(shared_, std::move(conn), /*read_only=*/true));
}

}  // namespace rwmeta::metastore
