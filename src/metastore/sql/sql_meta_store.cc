#include "metastore/sql/sql_meta_store.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "common/clock.h"
#include "metastore/row_errors.h"

namespace rwmeta::metastore::sql {

RowShape ShapeOf(const TableSchema& table) { return RowShape{table.name, table.columns}; }

namespace {

// The one int64 column of COUNT(*), MAX(version) and the like (NULL when a MAX finds no row).
RowShape CountShape(std::string_view table) {
  static const ColumnSchema* const kColumn = new ColumnSchema{"count", ColumnType::kInt64, true};
  return RowShape{table, std::span<const ColumnSchema>(kColumn, 1)};
}

RowShape NameShape() {
  static const ColumnSchema* const kColumn = new ColumnSchema{"name", ColumnType::kText};
  return RowShape{"catalog", std::span<const ColumnSchema>(kColumn, 1)};
}

// The first column of the first row as an integer; 0 for no row or NULL.
int64_t FirstInt(const std::vector<Row>& rows) {
  if (rows.empty() || rows[0].empty() || IsNull(rows[0][0])) return 0;
  return std::get<int64_t>(rows[0][0]);
}

}  // namespace

struct SqlMetaStore::Shared {
  SqlBackendSpec spec;
  std::string_view name;  // "postgres", "mysql": the first word of every message
  const Model* model;
  std::map<std::string, TableDml, std::less<>> dml;
  std::atomic<bool> version_checked{false};

  std::mutex mu;
  std::vector<std::unique_ptr<SqlConnection>> idle;  // guarded by mu

  // An idle connection, or a new one. `pooled` says which.
  Result<std::unique_ptr<SqlConnection>> Acquire(bool* pooled = nullptr) {
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
    return spec.connect();
  }

  // A connection on which `first` (BEGIN ..., or a probe) has run. An idle connection that the
  // server closed meanwhile (restart, idle timeout, a killed session) fails its first statement
  // as Unavailable: it is dropped and the next one tried, down to a new connection, whose failure
  // is returned.
  Result<std::unique_ptr<SqlConnection>> AcquireWith(const std::string& first,
                                                     std::string_view context) {
    while (true) {
      bool pooled = false;
      RWMETA_ASSIGN_OR_RETURN(auto conn, Acquire(&pooled));
      Status s = conn->Exec(first, context);
      if (s.ok()) return conn;
      if (pooled && IsUnavailable(s)) continue;
      Release(std::move(conn));
      return s;
    }
  }

  // A connection on which all of `statements` have run; on failure the connection is released.
  Result<std::unique_ptr<SqlConnection>> AcquireWithAll(const std::vector<std::string>& statements,
                                                        std::string_view context) {
    RWMETA_ASSIGN_OR_RETURN(auto conn, AcquireWith(statements.front(), context));
    for (size_t i = 1; i < statements.size(); ++i) {
      Status s = conn->Exec(statements[i], context);
      if (!s.ok()) {
        Abandon(std::move(conn), context);
        return s;
      }
    }
    return conn;
  }

  // Takes back `conn`; a broken connection, or one still inside a transaction, is closed.
  void Release(std::unique_ptr<SqlConnection> conn) {
    if (conn == nullptr || conn->Broken() || conn->InTransaction()) return;
    std::lock_guard<std::mutex> lock(mu);
    if (idle.size() < spec.max_idle_connections) idle.push_back(std::move(conn));
  }

  // Rolls back what `conn` has open, then releases it (closing it if the rollback failed).
  void Abandon(std::unique_ptr<SqlConnection> conn, std::string_view context) {
    if (!conn->Broken() && conn->InTransaction()) {
      conn->Exec("ROLLBACK", context).IgnoreError();  // Release drops it otherwise
    }
    Release(std::move(conn));
  }

  Status VersionMismatch(int version) const {
    return FailedPreconditionError(
        fmt::format("{} {}: meta store schema version {}, this binary's model version is {}; "
                    "run Migrate",
                    name, spec.display, version, model->version()));
  }

  Status CheckVersion(SqlConnection& conn) {
    if (version_checked.load()) return Status::Ok();
    RWMETA_ASSIGN_OR_RETURN(int version, ReadVersion(conn));
    if (version != model->version()) return VersionMismatch(version);
    version_checked.store(true);
    return Status::Ok();
  }

  // The recorded schema version (0 without the bookkeeping table).
  Result<int> ReadVersion(SqlConnection& conn) const {
    constexpr std::string_view kContext = "read schema version";
    RWMETA_ASSIGN_OR_RETURN(
        std::vector<Row> exists,
        conn.Query(spec.migrations_table_exists, CountShape(kMigrationsTable), kContext));
    if (FirstInt(exists) == 0) return 0;
    RWMETA_ASSIGN_OR_RETURN(
        std::vector<Row> max,
        conn.Query(CurrentVersionSql(spec.dialect), CountShape(kMigrationsTable), kContext));
    return static_cast<int>(FirstInt(max));
  }

  // The tables of the store's schema, by name.
  Result<std::vector<std::string>> ListTables(SqlConnection& conn) const {
    RWMETA_ASSIGN_OR_RETURN(std::vector<Row> rows,
                            conn.Query(spec.list_tables, NameShape(), "list tables"));
    std::vector<std::string> names;
    for (const Row& row : rows) {
      if (const auto* name = std::get_if<std::string>(&row[0])) names.push_back(*name);
    }
    return names;
  }

  // One migration step (or none when the store is at the model's version: *done).
  Status MigrateStep(SqlConnection& conn, bool* done) const {
    RWMETA_ASSIGN_OR_RETURN(std::vector<std::string> tables, ListTables(conn));
    const bool has_bookkeeping =
        std::find(tables.begin(), tables.end(), kMigrationsTable) != tables.end();
    if (!has_bookkeeping && !tables.empty()) {
      return FailedPreconditionError(fmt::format(
          "{} {}: the database has no rwmeta schema but already holds {} table(s) ({}, ...): use "
          "an empty database",
          name, spec.display, tables.size(), tables.front()));
    }
    RWMETA_RETURN_IF_ERROR(conn.Exec(CreateMigrationsTableSql(spec.dialect), "migrate"));
    RWMETA_ASSIGN_OR_RETURN(int version, ReadVersion(conn));
    if (version > model->version()) {
      return FailedPreconditionError(
          fmt::format("{} {}: meta store schema version {} is newer than this binary's model "
                      "version {}",
                      name, spec.display, version, model->version()));
    }
    if (version == model->version()) {
      *done = true;
      return Status::Ok();
    }
    RWMETA_ASSIGN_OR_RETURN(MigrationStep step,
                            MigrationStepSql(spec.dialect, *model, version + 1));
    const std::string context = fmt::format("migrate to version {}", step.version);
    // Without transactional DDL each statement commits: the step is recorded after its last one.
    for (const auto& statement : step.statements) {
      RWMETA_RETURN_IF_ERROR(conn.Exec(statement, context));
    }
    return conn
        .Run(RecordMigrationSql(spec.dialect),
             {{int64_t{step.version}, ColumnType::kInt64},
              {UnixNowMs(), ColumnType::kInt64},
              {step.description, ColumnType::kText}},
             RowShape{}, "record migration")
        .status();
  }
};

namespace {

class SqlTransaction final : public Transaction {
 public:
  SqlTransaction(std::shared_ptr<SqlMetaStore::Shared> shared, std::unique_ptr<SqlConnection> conn,
                 bool read_only)
      : shared_(std::move(shared)), conn_(std::move(conn)), read_only_(read_only) {}

  ~SqlTransaction() override {
    // On failure Release closes the connection, which rolls back too.
    shared_->Abandon(std::move(conn_), "rollback");
  }

  Result<std::optional<Row>> Get(const TableSchema& table, const Key& key) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateKey(*t.schema, key));
    RWMETA_ASSIGN_OR_RETURN(std::vector<Row> rows,
                            Read(t.dml->select_by_key, KeyParams(*t.schema, key),
                                 ShapeOf(*t.schema), Context("get", *t.schema)));
    if (rows.empty()) return std::optional<Row>();
    return std::optional<Row>(std::move(rows.front()));
  }

  Status Scan(const TableSchema& table, const std::function<Status(const Row&)>& visit) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    const std::string context = Context("scan", *t.schema);
    Result<std::unique_ptr<SqlScan>> scan = conn_->OpenScan(*t.schema, *t.dml, context);
    if (!scan.ok()) return Failed(scan.status());
    Status result;
    while (result.ok()) {
      // The whole page is read before any visit: the visitor may read through this view.
      Result<std::vector<Row>> page = (*scan)->NextPage();
      if (!page.ok()) {
        result = Failed(page.status());
        break;
      }
      for (size_t i = 0; i < page->size() && result.ok(); ++i) result = visit((*page)[i]);
      if (page->size() < static_cast<size_t>(kScanPageRows)) break;
    }
    // A transaction the server ended has nothing left to close.
    if (doomed_.ok()) {
      Status closed = (*scan)->Close();
      if (!closed.ok()) Failed(closed).IgnoreError();
      if (result.ok()) result = closed;
    }
    return result;
  }

  Result<int64_t> Count(const TableSchema& table) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_ASSIGN_OR_RETURN(
        std::vector<Row> rows,
        Read(t.dml->count, {}, CountShape(t.schema->name), Context("count", *t.schema)));
    return FirstInt(rows);
  }

  // One statement: SELECT (SELECT COUNT(*) FROM a), (SELECT COUNT(*) FROM b), ...
  Result<std::vector<int64_t>> CountEach(std::span<const TableSchema* const> tables) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    if (tables.empty()) return std::vector<int64_t>();
    std::vector<std::string> counts;
    for (const TableSchema* table : tables) {
      RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(*table));
      counts.push_back("(" + t.dml->count + ")");
    }
    const std::vector<ColumnSchema> columns(tables.size(),
                                            ColumnSchema{"count", ColumnType::kInt64, true});
    RWMETA_ASSIGN_OR_RETURN(std::vector<Row> rows,
                            Read(fmt::format("SELECT {}", fmt::join(counts, ", ")), {},
                                 RowShape{"counts", columns}, "count tables"));
    if (rows.size() != 1 || rows[0].size() != tables.size()) {
      return InternalError(
          fmt::format("counting {} tables returned {} rows", tables.size(), rows.size()));
    }
    std::vector<int64_t> out;
    for (const Value& v : rows[0]) out.push_back(IsNull(v) ? 0 : std::get<int64_t>(v));
    return out;
  }

  Status Insert(const TableSchema& table, const Row& row) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateRow(*t.schema, row));
    std::vector<SqlParam> params;
    for (size_t i = 0; i < row.size(); ++i) params.push_back({row[i], t.schema->columns[i].type});
    return Write(t.dml->insert, params, Context("insert", *t.schema)).status();
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
    std::vector<SqlParam> params;
    for (size_t i = 0; i < row.size(); ++i) {
      if (std::find(key_idx.begin(), key_idx.end(), static_cast<int>(i)) != key_idx.end()) continue;
      params.push_back({row[i], s.columns[i].type});
    }
    for (SqlParam& p : KeyParams(s, key)) params.push_back(std::move(p));
    // Rows matched, also when the values did not change (MySQL: CLIENT_FOUND_ROWS).
    RWMETA_ASSIGN_OR_RETURN(int64_t changed, Write(t.dml->update, params, Context("update", s)));
    if (changed == 0) return RowNotFoundError(s, key);
    return Status::Ok();
  }

  Status Delete(const TableSchema& table, const Key& key) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateKey(*t.schema, key));
    RWMETA_ASSIGN_OR_RETURN(int64_t changed, Write(t.dml->delete_by_key, KeyParams(*t.schema, key),
                                                   Context("delete", *t.schema)));
    if (changed == 0) return RowNotFoundError(*t.schema, key);
    return Status::Ok();
  }

  Status Commit() override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    finished_ = true;
    return conn_->Commit("commit");
  }

  // The connection, for a bulk load that sends its rows past Insert.
  SqlConnection& connection() { return *conn_; }

 private:
  struct Resolved {
    const TableSchema* schema;
    const TableDml* dml;
  };

  Status CheckUsable(bool write) const {
    const std::string_view name = shared_->name;
    if (finished_)
      return FailedPreconditionError(fmt::format("{}: transaction already finished", name));
    if (write && read_only_) {
      return FailedPreconditionError(fmt::format("{}: snapshot view is read-only", name));
    }
    if (!doomed_.ok()) {
      if (IsUnavailable(doomed_)) return doomed_;
      return AbortedError(
          fmt::format("{}: transaction failed earlier, redo it: {}", name, doomed_.message()));
    }
    return Status::Ok();
  }

  Result<Resolved> Resolve(const TableSchema& table) const {
    auto it = shared_->dml.find(table.name);
    if (it == shared_->dml.end()) {
      return InvalidArgumentError(fmt::format("table {} is not in the model", table.name));
    }
    return Resolved{shared_->model->Find(table.name), &it->second};
  }

  // Returns `s`, first dooming the transaction if `s` ended the server's transaction.
  Status Failed(Status s) {
    if (conn_->EndsTransaction(s)) doomed_ = s;
    return s;
  }

  Result<std::vector<Row>> Read(const std::string& sql, const std::vector<SqlParam>& params,
                                const RowShape& shape, std::string_view context) {
    Result<std::vector<Row>> rows = conn_->Run(sql, params, shape, context);
    if (!rows.ok()) return Failed(rows.status());
    return rows;
  }

  Result<int64_t> Write(const std::string& sql, const std::vector<SqlParam>& params,
                        std::string_view context) {
    Status ended;
    Result<int64_t> affected = conn_->Write(sql, params, context, &ended);
    if (!ended.ok()) doomed_ = ended;
    return affected;
  }

  std::vector<SqlParam> KeyParams(const TableSchema& s, const Key& key) const {
    std::vector<int> idx = s.PrimaryKeyIndexes();
    std::vector<SqlParam> params;
    for (size_t i = 0; i < key.size(); ++i) params.push_back({key[i], s.columns[idx[i]].type});
    return params;
  }

  static std::string Context(std::string_view op, const TableSchema& s) {
    return fmt::format("table {}: {}", s.name, op);
  }

  std::shared_ptr<SqlMetaStore::Shared> shared_;
  std::unique_ptr<SqlConnection> conn_;
  bool read_only_;
  bool finished_ = false;
  Status doomed_;  // the failure that ended the server's transaction early, if any
};

// Bytes a value adds to a statement, for the multi-row INSERT's byte budget.
int64_t ValueBytes(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return static_cast<int64_t>(s->size());
  return 8;
}

// The bulk load: one transaction, rows per table through the connection's SqlTableLoad or in
// multi-row INSERTs. A failed Add or Finish ends it; the destructor rolls back what was sent.
class SqlBulkLoader final : public BulkLoader {
 public:
  SqlBulkLoader(std::shared_ptr<SqlMetaStore::Shared> shared, std::unique_ptr<SqlTransaction> txn)
      : shared_(std::move(shared)), txn_(std::move(txn)) {}

  Status Add(const TableSchema& table, const Row& row) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable());
    const TableSchema* schema = shared_->model->Find(table.name);
    if (schema == nullptr) {
      return InvalidArgumentError(fmt::format("table {} is not in the model", table.name));
    }
    // Refused alone, before anything is sent: the load goes on (meta_store.h).
    RWMETA_RETURN_IF_ERROR(ValidateRow(*schema, row));
    if (schema != table_) {
      RWMETA_RETURN_IF_ERROR(Ended(EndTable()));
      RWMETA_RETURN_IF_ERROR(Ended(BeginTable(*schema)));
    }
    if (load_ != nullptr) return Ended(load_->Add(row));
    for (size_t i = 0; i < row.size(); ++i) {
      batch_.push_back({row[i], schema->columns[i].type});
      batch_bytes_ += ValueBytes(row[i]);
    }
    ++batch_rows_;
    if (batch_rows_ >= rows_per_batch_ || batch_bytes_ >= shared_->spec.bulk_insert_max_bytes) {
      return Ended(SendBatch());
    }
    return Status::Ok();
  }

  // Drops what the connection suspends for the load (SuspendChecksForLoad); Finish restores it.
  Status SuspendChecks() {
    RWMETA_ASSIGN_OR_RETURN(resume_, txn_->connection().SuspendChecksForLoad("bulk load: begin"));
    return Status::Ok();
  }

  Status Finish() override {
    RWMETA_RETURN_IF_ERROR(CheckUsable());
    finished_ = true;
    RWMETA_RETURN_IF_ERROR(EndTable());
    // Each statement checks every loaded row at once; a refusal ends the transaction, which the
    // destructor rolls back.
    for (const std::string& statement : resume_) {
      RWMETA_RETURN_IF_ERROR(txn_->connection().Exec(statement, "bulk load: restore checks"));
    }
    return txn_->Commit();
  }

 private:
  Status CheckUsable() const {
    if (finished_) {
      return FailedPreconditionError(fmt::format("{}: bulk load already finished", shared_->name));
    }
    if (!failed_.ok()) {
      return AbortedError(
          fmt::format("{}: bulk load failed earlier: {}", shared_->name, failed_.message()));
    }
    return Status::Ok();
  }

  // Returns `s`, remembering a failure: it ended the load.
  Status Ended(Status s) {
    if (!s.ok()) failed_ = s;
    return s;
  }

  std::string Context() const { return fmt::format("bulk load of table {}", table_->name); }

  Status BeginTable(const TableSchema& table) {
    table_ = &table;
    RWMETA_ASSIGN_OR_RETURN(load_, txn_->connection().OpenTableLoad(table, Context()));
    const int columns = std::max<int>(1, static_cast<int>(table.columns.size()));
    rows_per_batch_ = std::max(1, std::min(shared_->spec.bulk_insert_rows,
                                           shared_->spec.bulk_insert_max_params / columns));
    full_batch_sql_.clear();
    return Status::Ok();
  }

  // Ends the current table's stream or sends its last batch.
  Status EndTable() {
    if (table_ == nullptr) return Status::Ok();
    if (load_ != nullptr) {
      Status closed = load_->Close();
      load_.reset();
      return closed;
    }
    return SendBatch();
  }

  Status SendBatch() {
    if (batch_rows_ == 0) return Status::Ok();
    // Full batches share one prepared statement per table; a short last batch has its own.
    std::string partial;
    const std::string* sql = &full_batch_sql_;
    if (batch_rows_ == rows_per_batch_) {
      if (full_batch_sql_.empty()) {
        full_batch_sql_ = MultiRowInsertSql(shared_->spec.dialect, *table_, rows_per_batch_);
      }
    } else {
      partial = MultiRowInsertSql(shared_->spec.dialect, *table_, batch_rows_);
      sql = &partial;
    }
    Status sent = txn_->connection().Run(*sql, batch_, RowShape{}, Context()).status();
    batch_.clear();
    batch_rows_ = 0;
    batch_bytes_ = 0;
    return sent;
  }

  std::shared_ptr<SqlMetaStore::Shared> shared_;
  std::unique_ptr<SqlTransaction> txn_;
  // Declared after txn_: a load still streaming ends before the transaction rolls back.
  std::unique_ptr<SqlTableLoad> load_;
  const TableSchema* table_ = nullptr;  // the table rows are going to
  int rows_per_batch_ = 1;
  std::string full_batch_sql_;
  std::vector<SqlParam> batch_;
  int batch_rows_ = 0;
  int64_t batch_bytes_ = 0;
  // The statements that restore what SuspendChecks dropped, run by Finish.
  std::vector<std::string> resume_;
  bool finished_ = false;
  Status failed_;  // the failure that ended the load, if any
};

}  // namespace

SqlMetaStore::SqlMetaStore(SqlBackendSpec spec, const Model& model)
    : shared_(std::make_shared<Shared>()) {
  shared_->name = DialectName(spec.dialect);
  shared_->model = &model;
  for (const TableSchema& t : model.tables()) {
    shared_->dml.emplace(t.name, TableDmlSql(spec.dialect, t));
  }
  shared_->spec = std::move(spec);
}

SqlMetaStore::~SqlMetaStore() = default;

std::string_view SqlMetaStore::backend() const { return shared_->name; }

std::string SqlMetaStore::DisplayUrl() const { return shared_->spec.display; }

const Model& SqlMetaStore::model() const { return *shared_->model; }

Status SqlMetaStore::CheckConnection() {
  RWMETA_ASSIGN_OR_RETURN(auto conn, shared_->Acquire());
  shared_->Release(std::move(conn));
  return Status::Ok();
}

Result<SchemaState> SqlMetaStore::Inspect() {
  const SqlBackendSpec& spec = shared_->spec;
  // One snapshot, so that version and emptiness describe the same state.
  RWMETA_ASSIGN_OR_RETURN(auto conn, shared_->AcquireWith(spec.begin_snapshot.front(), "inspect"));
  auto inspect = [&]() -> Result<SchemaState> {
    for (size_t i = 1; i < spec.begin_snapshot.size(); ++i) {
      RWMETA_RETURN_IF_ERROR(conn->Exec(spec.begin_snapshot[i], "inspect"));
    }
    SchemaState state;
    RWMETA_ASSIGN_OR_RETURN(state.version, shared_->ReadVersion(*conn));
    RWMETA_ASSIGN_OR_RETURN(std::vector<std::string> tables, shared_->ListTables(*conn));
    for (const auto& name : tables) {
      if (name == kMigrationsTable) continue;
      RWMETA_ASSIGN_OR_RETURN(
          std::vector<Row> rows,
          conn->Query("SELECT 1 FROM " + QuoteIdentifier(spec.dialect, name) + " LIMIT 1",
                      RowShape{name, {}}, "inspect table " + name));
      if (!rows.empty()) {
        state.empty = false;
        break;
      }
    }
    return state;
  };
  Result<SchemaState> state = inspect();
  shared_->Abandon(std::move(conn), "inspect");  // read-only: nothing to commit
  return state;
}

Status SqlMetaStore::Migrate() {
  const SqlBackendSpec& spec = shared_->spec;
  RWMETA_ASSIGN_OR_RETURN(auto conn, shared_->AcquireWith(spec.probe, "migrate"));
  // With transactional DDL, one step per transaction, DDL included: a crash between steps leaves
  // a recorded version. Otherwise the lock is held across the steps.
  Status result;
  if (!spec.transactional_ddl) result = conn->LockMigrations("migrate");
  for (bool done = false; result.ok() && !done;) {
    if (spec.transactional_ddl) {
      result = conn->Exec("BEGIN", "migrate");
      if (result.ok()) result = conn->LockMigrations("migrate");
    }
    if (result.ok()) result = shared_->MigrateStep(*conn, &done);
    if (result.ok() && spec.transactional_ddl) result = conn->Commit("migrate");
  }
  if (!spec.transactional_ddl && !conn->Broken()) conn->UnlockMigrations();
  if (result.ok()) shared_->version_checked.store(true);
  shared_->Abandon(std::move(conn), "migrate");
  return result;
}

Result<std::unique_ptr<Transaction>> SqlMetaStore::BeginTransaction() {
  RWMETA_ASSIGN_OR_RETURN(
      auto conn, shared_->AcquireWithAll(shared_->spec.begin_transaction, "begin transaction"));
  Status s = shared_->CheckVersion(*conn);
  if (!s.ok()) {
    shared_->Abandon(std::move(conn), "begin transaction");
    return s;
  }
  return std::unique_ptr<Transaction>(
      std::make_unique<SqlTransaction>(shared_, std::move(conn), /*read_only=*/false));
}

Result<std::unique_ptr<ReadView>> SqlMetaStore::BeginSnapshotRead() {
  RWMETA_ASSIGN_OR_RETURN(
      auto conn, shared_->AcquireWithAll(shared_->spec.begin_snapshot, "begin snapshot read"));
  // Where the snapshot is taken by the first statement, reading the schema version is that one.
  Result<int> version = shared_->ReadVersion(*conn);
  Status s = version.status();
  if (s.ok() && *version != shared_->model->version()) s = shared_->VersionMismatch(*version);
  if (!s.ok()) {
    shared_->Abandon(std::move(conn), "begin snapshot read");
    return s;
  }
  return std::unique_ptr<ReadView>(
      std::make_unique<SqlTransaction>(shared_, std::move(conn), /*read_only=*/true));
}

Result<std::unique_ptr<BulkLoader>> SqlMetaStore::BeginBulkLoad() {
  // An empty database gets the schema; one made by create-meta-store-schema is at the version.
  RWMETA_RETURN_IF_ERROR(Migrate());
  RWMETA_ASSIGN_OR_RETURN(
      auto conn, shared_->AcquireWithAll(shared_->spec.begin_transaction, "begin bulk load"));
  Status s = shared_->CheckVersion(*conn);
  if (!s.ok()) {
    shared_->Abandon(std::move(conn), "begin bulk load");
    return s;
  }
  auto txn = std::make_unique<SqlTransaction>(shared_, std::move(conn), /*read_only=*/false);
  RWMETA_RETURN_IF_ERROR(CheckEmptyForBulkLoad(*this, *txn));
  auto loader = std::make_unique<SqlBulkLoader>(shared_, std::move(txn));
  RWMETA_RETURN_IF_ERROR(loader->SuspendChecks());
  return std::unique_ptr<BulkLoader>(std::move(loader));
}

}  // namespace rwmeta::metastore::sql
