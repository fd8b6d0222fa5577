#include "metastore/mysql/mysql_meta_store.h"

#include <errmsg.h>
#include <fmt/format.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/url.h"
#include "metastore/sql/schema_sql.h"
#include "metastore/sql/sql_meta_store.h"

namespace rwmeta::metastore {

namespace {

using sql::SqlDialect;
constexpr SqlDialect kDialect = SqlDialect::kMysql;

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
using Param = sql::SqlParam;

// The SQL a table needs beyond TableDml: Scan's pages, by primary key.
struct PagedScan {
  std::string first;  // no params
  std::string next;   // params: see MyScan::NextPage
};
using PagedScans = std::map<std::string, PagedScan, std::less<>>;

std::vector<ColumnType> TypesOf(const sql::RowShape& shape) {
  std::vector<ColumnType> types;
  for (const auto& c : shape.columns) types.push_back(c.type);
  return types;
}

// Checks a fetched row against `shape` and turns 0/1 back into booleans.
Result<Row> ToRow(std::vector<Value> cells, const sql::RowShape& shape,
                  const std::string& display) {
  for (size_t i = 0; i < cells.size() && i < shape.columns.size(); ++i) {
    const ColumnSchema& c = shape.columns[i];
    auto bad = [&](std::string_view why) {
      return DataLossError(
          fmt::format("mysql {}: table {} column {}: {}", display, shape.table, c.name, why));
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

class MyConnection final : public sql::SqlConnection {
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

  static Result<std::unique_ptr<sql::SqlConnection>> Connect(
      const Config& config, const std::string& display, std::shared_ptr<const PagedScans> scans) {
    static std::once_flag library_once;
    std::call_once(library_once, [] { mysql_library_init(0, nullptr, nullptr); });
    MYSQL* raw = mysql_init(nullptr);
    if (raw == nullptr) return InternalError(fmt::format("mysql {}: out of memory", display));
    std::unique_ptr<MyConnection> conn(new MyConnection(raw, display, std::move(scans)));
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
    RWMETA_RETURN_IF_ERROR(
        conn->Exec(fmt::format("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION', "
                               "SESSION innodb_lock_wait_timeout = {}, SESSION autocommit = 1",
                               config.lock_wait_timeout_s),
                   "connect"));
    return std::unique_ptr<sql::SqlConnection>(std::move(conn));
  }

  ~MyConnection() override {
    for (auto& [sql, stmt] : stmts_) mysql_stmt_close(stmt);
    mysql_close(mysql_);
  }

  bool Broken() const override { return broken_; }
  bool InTransaction() const override {
    return (mysql_->server_status & SERVER_STATUS_IN_TRANS) != 0;
  }
  const std::string& display() const { return display_; }

  // Runs `sql` in the text protocol and discards any result.
  Status Exec(const std::string& sql, std::string_view context) override {
    RWMETA_ASSIGN_OR_RETURN(auto rows, QueryRows(sql, context));
    return Status::Ok();
  }

  // The text protocol; cells parsed as `shape` (numbers from their decimal text).
  Result<std::vector<Row>> Query(const std::string& sql, const sql::RowShape& shape,
                                 std::string_view context) override {
    RWMETA_ASSIGN_OR_RETURN(auto text, QueryRows(sql, context));
    std::vector<Row> rows;
    for (auto& cells : text) {
      if (cells.size() < shape.columns.size()) {
        return InternalError(fmt::format("mysql {}: {}: {} result columns, expected {}", display_,
                                         context, cells.size(), shape.columns.size()));
      }
      Row row;
      for (size_t i = 0; i < shape.columns.size(); ++i) {
        if (!cells[i].has_value()) {
          row.emplace_back();
        } else if (shape.columns[i].type == ColumnType::kInt64) {
          row.emplace_back(static_cast<int64_t>(std::strtoll(cells[i]->c_str(), nullptr, 10)));
        } else {
          row.emplace_back(std::move(*cells[i]));
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  Result<std::vector<Row>> Run(const std::string& sql, const std::vector<sql::SqlParam>& params,
                               const sql::RowShape& shape, std::string_view context) override {
    RWMETA_ASSIGN_OR_RETURN(ExecResult res, Execute(sql, params, TypesOf(shape), context));
    std::vector<Row> rows;
    rows.reserve(res.rows.size());
    for (auto& cells : res.rows) {
      RWMETA_ASSIGN_OR_RETURN(Row row, ToRow(std::move(cells), shape, display_));
      rows.push_back(std::move(row));
    }
    return rows;
  }

  // InnoDB rolls back the whole transaction on a deadlock, and the connection may be gone: after
  // either, nothing more may run in this transaction. Any other refused statement is undone alone.
  bool EndsTransaction(const Status& failed) const override {
    return IsAborted(failed) || IsUnavailable(failed);
  }

  // InnoDB rolls back a refused statement by itself.
  Result<int64_t> Write(const std::string& sql, const std::vector<sql::SqlParam>& params,
                        std::string_view context, Status* ended) override {
    Result<ExecResult> res = Execute(sql, params, {}, context);
    if (!res.ok()) {
      if (EndsTransaction(res.status())) *ended = res.status();
      return res.status();
    }
    // CLIENT_FOUND_ROWS: affected counts matched rows, also when the values did not change.
    return static_cast<int64_t>(res->affected);
  }

  Result<std::unique_ptr<sql::SqlScan>> OpenScan(const TableSchema& table, const sql::TableDml& dml,
                                                 std::string_view context) override;

  Status Commit(std::string_view context) override {
    Status s = Exec("COMMIT", context);
    if (!s.ok() && !Broken() && InTransaction()) {
      Exec("ROLLBACK", "rollback").IgnoreError();  // Release drops it otherwise
    }
    return s;
  }

  // A named lock, held until UnlockMigrations or until the connection closes.
  Status LockMigrations(std::string_view context) override {
    RWMETA_ASSIGN_OR_RETURN(
        auto locked,
        QueryRows("SELECT GET_LOCK(CONCAT('rwmeta_migrate.', DATABASE()), 60)", context));
    if (locked.empty() || ParseInt(locked[0][0]) != 1) {
      return AbortedError(
          fmt::format("mysql {}: {}: another migration held the lock for 60 s", display_, context));
    }
    return Status::Ok();
  }

  void UnlockMigrations() override {
    Exec("DO RELEASE_LOCK(CONCAT('rwmeta_migrate.', DATABASE()))", "migrate")
        .IgnoreError();  // also released when the connection closes
  }

  Status Error(unsigned int error, std::string_view detail, std::string_view context) {
    Status s =
        MapError(error, fmt::format("mysql {}: {}: {} ({})", display_, context, detail, error));
    if (IsUnavailable(s)) broken_ = true;
    return s;
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
  MyConnection(MYSQL* mysql, std::string display, std::shared_ptr<const PagedScans> scans)
      : mysql_(mysql), display_(std::move(display)), scans_(std::move(scans)) {}

  static int64_t ParseInt(const std::optional<std::string>& cell) {
    return cell.has_value() ? std::strtoll(cell->c_str(), nullptr, 10) : 0;
  }

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
  std::shared_ptr<const PagedScans> scans_;
};

// Scan's keyset pages: (k1 > ?) OR (k1 = ? AND k2 > ?) OR ... after the last key seen.
class MyScan final : public sql::SqlScan {
 public:
  MyScan(MyConnection* conn, const TableSchema& table, const PagedScan& sql, std::string context)
      : conn_(conn), table_(table), sql_(sql), context_(std::move(context)) {}

  Result<std::vector<Row>> NextPage() override {
    const std::vector<int> key_idx = table_.PrimaryKeyIndexes();
    std::vector<Param> params;
    if (last_.has_value()) {
      for (size_t i = 0; i < key_idx.size(); ++i) {
        for (size_t j = 0; j <= i; ++j) {
          params.push_back({(*last_)[key_idx[j]], table_.columns[key_idx[j]].type});
        }
      }
    }
    RWMETA_ASSIGN_OR_RETURN(std::vector<Row> page,
                            conn_->Run(last_.has_value() ? sql_.next : sql_.first, params,
                                       sql::ShapeOf(table_), context_));
    if (!page.empty()) last_ = page.back();
    return page;
  }

  Status Close() override { return Status::Ok(); }  // nothing held between pages

 private:
  MyConnection* conn_;
  const TableSchema& table_;
  const PagedScan& sql_;
  std::string context_;
  std::optional<Row> last_;
};

Result<std::unique_ptr<sql::SqlScan>> MyConnection::OpenScan(const TableSchema& table,
                                                             const sql::TableDml& /*dml*/,
                                                             std::string_view context) {
  auto it = scans_->find(table.name);
  if (it == scans_->end()) {
    return InvalidArgumentError(fmt::format("table {} is not in the model", table.name));
  }
  return std::unique_ptr<sql::SqlScan>(
      std::make_unique<MyScan>(this, table, it->second, std::string(context)));
}

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
  return {fmt::format("SELECT {} FROM {} ORDER BY {} LIMIT {}", columns, table, order,
                      sql::kScanPageRows),
          fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {}", columns, table, after,
                      order, sql::kScanPageRows)};
}

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
  MyConnection::Config config;
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
  auto scans = std::make_shared<PagedScans>();
  for (const TableSchema& t : model.tables()) scans->emplace(t.name, PagedScanSql(t));
  sql::SqlBackendSpec spec;
  spec.dialect = kDialect;
  spec.display = RedactUrl(url);
  spec.max_idle_connections = options.max_idle_connections;
  spec.connect = [config = std::move(config), display = spec.display,
                  scans = std::shared_ptr<const PagedScans>(std::move(scans))] {
    return MyConnection::Connect(config, display, scans);
  };
  spec.begin_transaction = {"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "START TRANSACTION"};
  // WITH CONSISTENT SNAPSHOT takes the snapshot now, not at the first read.
  spec.begin_snapshot = {"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
                         "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"};
  spec.probe = "DO 1";
  spec.migrations_table_exists = fmt::format(
      "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
      "AND table_name = '{}'",
      sql::kMigrationsTable);
  spec.list_tables =
      "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND "
      "table_type = 'BASE TABLE' ORDER BY table_name";
  // DDL commits implicitly: a step is recorded after its last statement.
  spec.transactional_ddl = false;
  std::unique_ptr<MysqlMetaStore> store(new MysqlMetaStore(std::move(spec), model));
  RWMETA_RETURN_IF_ERROR(store->CheckConnection());
  return store;
}

}  // namespace rwmeta::metastore
