#include "metastore/sqlite/sqlite_meta_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "metastore/row_errors.h"
#include "metastore/sql/schema_sql.h"

namespace rwmeta::metastore {

namespace {

using sql::SqlDialect;
constexpr SqlDialect kDialect = SqlDialect::kSqlite;
// Idle connections kept for reuse; more may be open while transactions are live.
constexpr size_t kMaxIdleConnections = 8;

// Maps a SQLite result code (extended codes are on) to the Status a caller needs.
Status MapError(int rc, const std::string& path, std::string_view context,
                std::string_view detail) {
  std::string message = fmt::format("sqlite {}: {}: {}", path, context, detail);
  switch (rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
      return AlreadyExistsError(std::move(message));
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return FailedPreconditionError(std::move(message));
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return InvalidArgumentError(std::move(message));
    // Only reached after the busy timeout: the transaction lost the race for the lock.
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return AbortedError(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(std::move(message));
    case SQLITE_FULL:
      return ResourceExhaustedError(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

class Connection;

// A prepared statement borrowed from a connection's cache (or prepared just for this use when the
// cached one is busy, e.g. a Get issued from inside a Scan's callback). Reset on destruction.
class Stmt {
 public:
  Stmt(sqlite3_stmt* stmt, bool* in_use) : stmt_(stmt), in_use_(in_use) {}
  Stmt(Stmt&& other) noexcept
      : stmt_(std::exchange(other.stmt_, nullptr)), in_use_(other.in_use_) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() {
    if (stmt_ == nullptr) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    if (in_use_ != nullptr) {
      *in_use_ = false;
    } else {
      sqlite3_finalize(stmt_);
    }
  }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
  bool* in_use_;  // nullptr: owned, finalize on destruction
};

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const std::string& path,
                                                  const SqliteOptions& options) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (options.create) flags |= SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    auto conn = std::unique_ptr<Connection>(new Connection(db, path));
    if (rc != SQLITE_OK) {
      return MapError(rc, path, "open", db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, options.busy_timeout_ms);
    // journal_mode reads the file header first: a file that is not a database fails here.
    RWMETA_RETURN_IF_ERROR(conn->Exec("PRAGMA journal_mode = WAL", "open"));
    RWMETA_RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys = ON", "open"));
    return conn;
  }

  ~Connection() {
    for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.stmt);
    sqlite3_close_v2(db_);
  }

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

  Status Error(int rc, std::string_view context) const {
    return MapError(rc, path_, context, sqlite3_errmsg(db_));
  }

  Status Exec(const std::string& sql, std::string_view context) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string detail = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return MapError(rc, path_, context, detail);
  }

  Result<Stmt> Prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end() && !it->second.in_use) {
      it->second.in_use = true;
      return Stmt(it->second.stmt, &it->second.in_use);
    }
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, "prepare");
    if (it != cache_.end()) return Stmt(stmt, nullptr);
    auto [pos, inserted] = cache_.emplace(sql, CacheEntry{stmt, true});
    return Stmt(stmt, &pos->second.in_use);
  }

  // True when a transaction is open on this connection.
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  struct CacheEntry {
    sqlite3_stmt* stmt;
    bool in_use;
  };

  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, CacheEntry> cache_;
};

Status Bind(const Connection& conn, sqlite3_stmt* stmt, int pos, const Value& value,
            ColumnType type) {
  int rc = SQLITE_OK;
  if (IsNull(value)) {
    rc = sqlite3_bind_null(stmt, pos);
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    rc = sqlite3_bind_int64(stmt, pos, *i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    rc = sqlite3_bind_double(stmt, pos, *d);
  } else if (const auto* b = std::get_if<bool>(&value)) {
    rc = sqlite3_bind_int64(stmt, pos, *b ? 1 : 0);
  } else {
    const auto& s = std::get<std::string>(value);
    if (type == ColumnType::kBytes) {
      // A zero-length sqlite3_bind_blob with a null pointer would store NULL, not empty bytes.
      rc = s.empty() ? sqlite3_bind_zeroblob(stmt, pos, 0)
                     : sqlite3_bind_blob64(stmt, pos, s.data(), s.size(), SQLITE_TRANSIENT);
    } else {
      rc = sqlite3_bind_text64(stmt, pos, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    }
  }
  if (rc != SQLITE_OK) return conn.Error(rc, "bind");
  return Status::Ok();
}

Result<Value> ReadValue(const Connection& conn, sqlite3_stmt* stmt, int pos,
                        const TableSchema& table, const ColumnSchema& column) {
  const int stored = sqlite3_column_type(stmt, pos);
  auto mismatch = [&]() {
    return DataLossError(fmt::format("sqlite {}: table {} column {}: stored type {} is not {}",
                                     conn.path(), table.name, column.name, stored,
                                     ColumnTypeName(column.type)));
  };
  if (stored == SQLITE_NULL) {
    if (!column.nullable) return mismatch();
    return Value{};
  }
  switch (column.type) {
    case ColumnType::kInt64:
      if (stored != SQLITE_INTEGER) return mismatch();
      return Value{static_cast<int64_t>(sqlite3_column_int64(stmt, pos))};
    case ColumnType::kBool: {
      if (stored != SQLITE_INTEGER) return mismatch();
      int64_t v = sqlite3_column_int64(stmt, pos);
      if (v != 0 && v != 1) return mismatch();
      return Value{v == 1};
    }
    case ColumnType::kDouble:
      if (stored != SQLITE_FLOAT && stored != SQLITE_INTEGER) return mismatch();
      return Value{sqlite3_column_double(stmt, pos)};
    case ColumnType::kText:
    case ColumnType::kJson: {
      if (stored != SQLITE_TEXT) return mismatch();
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, pos));
      return Value{std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt, pos)))};
    }
    case ColumnType::kBytes: {
      if (stored != SQLITE_BLOB) return mismatch();
      const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, pos));
      const int n = sqlite3_column_bytes(stmt, pos);
      return Value{n == 0 ? std::string() : std::string(p, static_cast<size_t>(n))};
    }
  }
  return mismatch();
}

Result<Row> ReadRow(const Connection& conn, sqlite3_stmt* stmt, const TableSchema& table) {
  Row row;
  row.reserve(table.columns.size());
  for (size_t i = 0; i < table.columns.size(); ++i) {
    RWMETA_ASSIGN_OR_RETURN(Value v,
                            ReadValue(conn, stmt, static_cast<int>(i), table, table.columns[i]));
    row.push_back(std::move(v));
  }
  return row;
}

// The recorded schema version on `conn` (0 without the bookkeeping table). Starts the read
// snapshot of a deferred transaction.
Result<int> ReadVersion(Connection& conn) {
  RWMETA_ASSIGN_OR_RETURN(
      Stmt probe, conn.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '" +
                               std::string(sql::kMigrationsTable) + "'"));
  int rc = sqlite3_step(probe.get());
  if (rc == SQLITE_DONE) return 0;
  if (rc != SQLITE_ROW) return conn.Error(rc, "read schema version");
  RWMETA_ASSIGN_OR_RETURN(Stmt max, conn.Prepare(sql::CurrentVersionSql(kDialect)));
  rc = sqlite3_step(max.get());
  if (rc != SQLITE_ROW) return conn.Error(rc, "read schema version");
  return static_cast<int>(sqlite3_column_int64(max.get(), 0));
}

}  // namespace

struct SqliteMetaStore::Shared {
  std::string path;
  SqliteOptions options;
  const Model* model;
  std::map<std::string, sql::TableDml, std::less<>> dml;
  // Set once the file's schema was seen at exactly the model's version.
  std::atomic<bool> version_checked{false};

  std::mutex mu;
  std::vector<std::unique_ptr<Connection>> idle;  // guarded by mu

  Result<std::unique_ptr<Connection>> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!idle.empty()) {
        auto conn = std::move(idle.back());
        idle.pop_back();
        return conn;
      }
    }
    return Connection::Open(path, options);
  }

  // Takes back `conn`; a connection still inside a transaction (failed rollback) is closed.
  void Release(std::unique_ptr<Connection> conn) {
    if (conn == nullptr || conn->InTransaction()) return;
    std::lock_guard<std::mutex> lock(mu);
    if (idle.size() < kMaxIdleConnections) idle.push_back(std::move(conn));
  }

  Status CheckVersion(Connection& conn) {
    if (version_checked.load()) return Status::Ok();
    RWMETA_ASSIGN_OR_RETURN(int version, ReadVersion(conn));
    if (version != model->version()) {
      return FailedPreconditionError(
          fmt::format("sqlite {}: meta store schema version {}, this binary's model version is {}; "
                      "run Migrate",
                      path, version, model->version()));
    }
    version_checked.store(true);
    return Status::Ok();
  }
};

namespace {

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(std::shared_ptr<SqliteMetaStore::Shared> shared,
                    std::unique_ptr<Connection> conn, bool read_only)
      : shared_(std::move(shared)), conn_(std::move(conn)), read_only_(read_only) {}

  ~SqliteTransaction() override {
    if (conn_ != nullptr && conn_->InTransaction()) {
      // Rolling back an abandoned transaction; on failure Release closes the connection, which
      // rolls back too.
      conn_->Exec("ROLLBACK", "rollback").IgnoreError();
    }
    shared_->Release(std::move(conn_));
  }

  Result<std::optional<Row>> Get(const TableSchema& table, const Key& key) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateKey(*t.schema, key));
    RWMETA_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare(t.dml->select_by_key));
    RWMETA_RETURN_IF_ERROR(BindKey(stmt.get(), *t.schema, key, 1));
    int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) return std::optional<Row>();
    if (rc != SQLITE_ROW) return Context(rc, "get", *t.schema);
    RWMETA_ASSIGN_OR_RETURN(Row row, ReadRow(*conn_, stmt.get(), *t.schema));
    return std::optional<Row>(std::move(row));
  }

  Status Scan(const TableSchema& table, const std::function<Status(const Row&)>& visit) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare(t.dml->scan));
    // Rows stream from the statement: memory stays bounded whatever the table size.
    while (true) {
      int rc = sqlite3_step(stmt.get());
      if (rc == SQLITE_DONE) return Status::Ok();
      if (rc != SQLITE_ROW) return Context(rc, "scan", *t.schema);
      RWMETA_ASSIGN_OR_RETURN(Row row, ReadRow(*conn_, stmt.get(), *t.schema));
      RWMETA_RETURN_IF_ERROR(visit(row));
    }
  }

  Result<int64_t> Count(const TableSchema& table) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare(t.dml->count));
    int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) return Context(rc, "count", *t.schema);
    return static_cast<int64_t>(sqlite3_column_int64(stmt.get(), 0));
  }

  Status Insert(const TableSchema& table, const Row& row) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateRow(*t.schema, row));
    RWMETA_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare(t.dml->insert));
    for (size_t i = 0; i < row.size(); ++i) {
      RWMETA_RETURN_IF_ERROR(
          Bind(*conn_, stmt.get(), static_cast<int>(i) + 1, row[i], t.schema->columns[i].type));
    }
    int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_DONE) return Context(rc, "insert", *t.schema);
    return Status::Ok();
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
    RWMETA_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare(t.dml->update));
    std::vector<int> key_idx = s.PrimaryKeyIndexes();
    int pos = 1;
    for (size_t i = 0; i < row.size(); ++i) {
      if (std::find(key_idx.begin(), key_idx.end(), static_cast<int>(i)) != key_idx.end()) continue;
      RWMETA_RETURN_IF_ERROR(Bind(*conn_, stmt.get(), pos++, row[i], s.columns[i].type));
    }
    RWMETA_RETURN_IF_ERROR(BindKey(stmt.get(), s, key, pos));
    int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_DONE) return Context(rc, "update", s);
    if (sqlite3_changes(conn_->db()) == 0) return RowNotFoundError(s, key);
    return Status::Ok();
  }

  Status Delete(const TableSchema& table, const Key& key) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateKey(*t.schema, key));
    RWMETA_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare(t.dml->delete_by_key));
    RWMETA_RETURN_IF_ERROR(BindKey(stmt.get(), *t.schema, key, 1));
    int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_DONE) return Context(rc, "delete", *t.schema);
    if (sqlite3_changes(conn_->db()) == 0) return RowNotFoundError(*t.schema, key);
    return Status::Ok();
  }

  Status Commit() override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    finished_ = true;
    Status s = conn_->Exec("COMMIT", "commit");
    if (!s.ok() && conn_->InTransaction()) conn_->Exec("ROLLBACK", "rollback").IgnoreError();
    return s;
  }

 private:
  struct Resolved {
    const TableSchema* schema;
    const sql::TableDml* dml;
  };

  Status CheckUsable(bool write) const {
    if (finished_) return FailedPreconditionError("sqlite: transaction already finished");
    if (write && read_only_) return FailedPreconditionError("sqlite: snapshot view is read-only");
    return Status::Ok();
  }

  Result<Resolved> Resolve(const TableSchema& table) const {
    auto it = shared_->dml.find(table.name);
    if (it == shared_->dml.end()) {
      return InvalidArgumentError(fmt::format("table {} is not in the model", table.name));
    }
    return Resolved{shared_->model->Find(table.name), &it->second};
  }

  Status BindKey(sqlite3_stmt* stmt, const TableSchema& s, const Key& key, int first_pos) {
    std::vector<int> idx = s.PrimaryKeyIndexes();
    for (size_t i = 0; i < key.size(); ++i) {
      RWMETA_RETURN_IF_ERROR(
          Bind(*conn_, stmt, first_pos + static_cast<int>(i), key[i], s.columns[idx[i]].type));
    }
    return Status::Ok();
  }

  Status Context(int rc, std::string_view op, const TableSchema& s) const {
    return conn_->Error(rc, fmt::format("table {}: {}", s.name, op));
  }

  std::shared_ptr<SqliteMetaStore::Shared> shared_;
  std::unique_ptr<Connection> conn_;
  bool read_only_;
  bool finished_ = false;
};

}  // namespace

Result<std::unique_ptr<SqliteMetaStore>> SqliteMetaStore::Open(const std::string& path,
                                                               const Model& model,
                                                               SqliteOptions options) {
  auto shared = std::make_shared<Shared>();
  shared->path = path;
  shared->options = options;
  shared->model = &model;
  for (const TableSchema& t : model.tables()) {
    shared->dml.emplace(t.name, sql::TableDmlSql(kDialect, t));
  }
  // Open one connection now, so that a bad path or a foreign file fails here and not later.
  RWMETA_ASSIGN_OR_RETURN(auto conn, shared->Acquire());
  shared->Release(std::move(conn));
  return std::unique_ptr<SqliteMetaStore>(new SqliteMetaStore(std::move(shared)));
}

SqliteMetaStore::SqliteMetaStore(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

SqliteMetaStore::~SqliteMetaStore() = default;

std::string SqliteMetaStore::DisplayUrl() const { return "sqlite://" + shared_->path; }

const Model& SqliteMetaStore::model() const { return *shared_->model; }

Result<SchemaState> SqliteMetaStore::Inspect() {
  RWMETA_ASSIGN_OR_RETURN(auto conn, shared_->Acquire());
  // One read transaction, so that version and emptiness describe the same state.
  RWMETA_RETURN_IF_ERROR(conn->Exec("BEGIN", "inspect"));
  auto inspect = [&]() -> Result<SchemaState> {
    SchemaState state;
    RWMETA_ASSIGN_OR_RETURN(state.version, ReadVersion(*conn));
    std::vector<std::string> tables;
    {
      RWMETA_ASSIGN_OR_RETURN(
          Stmt stmt, conn->Prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                   "name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"));
      int rc;
      while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
        std::string name(reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0)));
        if (name != sql::kMigrationsTable) tables.push_back(std::move(name));
      }
      if (rc != SQLITE_DONE) return conn->Error(rc, "inspect");
    }
    for (const auto& name : tables) {
      RWMETA_ASSIGN_OR_RETURN(
          Stmt stmt,
          conn->Prepare("SELECT 1 FROM " + sql::QuoteIdentifier(kDialect, name) + " LIMIT 1"));
      int rc = sqlite3_step(stmt.get());
      if (rc == SQLITE_ROW) {
        state.empty = false;
        break;
      }
      if (rc != SQLITE_DONE) return conn->Error(rc, "inspect table " + name);
    }
    return state;
  };
  Result<SchemaState> state = inspect();
  conn->Exec("ROLLBACK", "inspect").IgnoreError();  // read-only; Release drops a stuck connection
  shared_->Release(std::move(conn));
  return state;
}

Status SqliteMetaStore::Migrate() {
  RWMETA_ASSIGN_OR_RETURN(auto conn, shared_->Acquire());
  const Model& model = *shared_->model;
  // One step per write transaction: a crash between steps leaves a consistent, recorded version.
  auto step_once = [&](bool* done) -> Status {
    RWMETA_RETURN_IF_ERROR(conn->Exec(sql::CreateMigrationsTableSql(kDialect), "migrate"));
    RWMETA_ASSIGN_OR_RETURN(int version, ReadVersion(*conn));
    if (version > model.version()) {
      return FailedPreconditionError(
          fmt::format("sqlite {}: meta store schema version {} is newer than this binary's model "
                      "version {}",
                      shared_->path, version, model.version()));
    }
    if (version == model.version()) {
      *done = true;
      return Status::Ok();
    }
    RWMETA_ASSIGN_OR_RETURN(sql::MigrationStep step,
                            sql::MigrationStepSql(kDialect, model, version + 1));
    for (const auto& statement : step.statements) {
      RWMETA_RETURN_IF_ERROR(
          conn->Exec(statement, fmt::format("migrate to version {}", step.version)));
    }
    RWMETA_ASSIGN_OR_RETURN(Stmt record, conn->Prepare(sql::RecordMigrationSql(kDialect)));
    sqlite3_bind_int64(record.get(), 1, step.version);
    sqlite3_bind_int64(record.get(), 2, UnixNowMs());
    sqlite3_bind_text64(record.get(), 3, step.description.data(), step.description.size(),
                        SQLITE_TRANSIENT, SQLITE_UTF8);
    int rc = sqlite3_step(record.get());
    if (rc != SQLITE_DONE) return conn->Error(rc, "record migration");
    return Status::Ok();
  };
  Status result;
  for (bool done = false; !done;) {
    result = conn->Exec("BEGIN IMMEDIATE", "migrate");
    if (!result.ok()) break;
    result = step_once(&done);
    if (result.ok()) result = conn->Exec("COMMIT", "migrate");
    if (!result.ok()) {
      if (conn->InTransaction()) conn->Exec("ROLLBACK", "migrate").IgnoreError();
      break;
    }
  }
  if (result.ok()) shared_->version_checked.store(true);
  shared_->Release(std::move(conn));
  return result;
}

Result<std::unique_ptr<Transaction>> SqliteMetaStore::BeginTransaction() {
  RWMETA_ASSIGN_OR_RETURN(auto conn, shared_->Acquire());
  Status s = conn->Exec("BEGIN IMMEDIATE", "begin transaction");
  if (s.ok()) s = shared_->CheckVersion(*conn);
  if (!s.ok()) {
    if (conn->InTransaction()) conn->Exec("ROLLBACK", "begin transaction").IgnoreError();
    shared_->Release(std::move(conn));
    return s;
  }
  return std::unique_ptr<Transaction>(
      std::make_unique<SqliteTransaction>(shared_, std::move(conn), /*read_only=*/false));
}

Result<std::unique_ptr<ReadView>> SqliteMetaStore::BeginSnapshotRead() {
  RWMETA_ASSIGN_OR_RETURN(auto conn, shared_->Acquire());
  Status s = conn->Exec("BEGIN", "begin snapshot read");
  // The first read fixes the WAL snapshot; reading the schema version is that read.
  if (s.ok()) {
    Result<int> version = ReadVersion(*conn);
    s = version.status();
    if (s.ok() && *version != shared_->model->version()) {
      s = FailedPreconditionError(
          fmt::format("sqlite {}: meta store schema version {}, this binary's model version is "
                      "{}; run Migrate",
                      shared_->path, *version, shared_->model->version()));
    }
  }
  if (!s.ok()) {
    if (conn->InTransaction()) conn->Exec("ROLLBACK", "begin snapshot read").IgnoreError();
    shared_->Release(std::move(conn));
    return s;
  }
  return std::unique_ptr<ReadView>(
      std::make_unique<SqliteTransaction>(shared_, std::move(conn), /*read_only=*/true));
}

}  // namespace rwmeta::metastore
