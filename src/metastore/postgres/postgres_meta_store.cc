#include "metastore/postgres/postgres_meta_store.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
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
constexpr SqlDialect kDialect = SqlDialect::kPostgres;
// Rows per FETCH from a Scan's cursor: bounds the memory a Scan holds.
constexpr int kFetchRows = 256;
// The advisory lock migrators take turns on ("rwmeta" in ASCII). Scoped to the database by
// PostgreSQL.
constexpr int64_t kMigrateLockKey = 0x72776d657461;

// Type OIDs from PostgreSQL's pg_type.h: fixed for every server version.
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;
constexpr Oid kFloat8Oid = 701;

Oid TypeOid(ColumnType type) {
  switch (type) {
    case ColumnType::kInt64:
      return kInt8Oid;
    case ColumnType::kDouble:
      return kFloat8Oid;
    case ColumnType::kBool:
      return kBoolOid;
    case ColumnType::kBytes:
      return kByteaOid;
    case ColumnType::kText:
    case ColumnType::kJson:
      return kTextOid;
  }
  return kTextOid;
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// One statement parameter in binary format.
struct Param {
  std::string bytes;
  Oid type = kTextOid;
  bool null = false;
};

void PutBigEndian(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

uint64_t GetBigEndian(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

Param Encode(const Value& value, ColumnType type) {
  Param p;
  p.type = TypeOid(type);
  if (IsNull(value)) {
    p.null = true;
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    PutBigEndian(p.bytes, static_cast<uint64_t>(*i));
  } else if (const auto* d = std::get_if<double>(&value)) {
    uint64_t bits;
    std::memcpy(&bits, d, sizeof bits);
    PutBigEndian(p.bytes, bits);
  } else if (const auto* b = std::get_if<bool>(&value)) {
    p.bytes.push_back(*b ? 1 : 0);
  } else {
    p.bytes = std::get<std::string>(value);
  }
  return p;
}

std::string TrimNewlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Maps a SQLSTATE to the Status a caller needs (see the table in the header).
Status MapSqlState(std::string_view state, std::string message) {
  if (state == "23505") return AlreadyExistsError(std::move(message));
  if (state == "23503") return FailedPreconditionError(std::move(message));
  if (state == "40001" || state == "40P01" || state == "55P03" || state == "25P02") {
    return AbortedError(std::move(message));
  }
  if (state == "42501") return PermissionDeniedError(std::move(message));
  if (state == "3D000") return NotFoundError(std::move(message));
  if (state == "53300" || state.starts_with("57P")) return UnavailableError(std::move(message));
  if (state.starts_with("08")) return UnavailableError(std::move(message));
  if (state.starts_with("28")) return UnauthenticatedError(std::move(message));
  if (state.starts_with("23") || state.starts_with("22")) {
    return InvalidArgumentError(std::move(message));
  }
  return InternalError(std::move(message));
}

// Classifies a failed connection attempt. libpq reports these as text only (no SQLSTATE); the
// phrases are libpq's and the server's own, in the C locale libpq and our servers use.
Status ConnectError(const std::string& display, std::string detail) {
  std::string message = fmt::format("postgres {}: connect: {}", display, detail);
  auto has = [&](std::string_view phrase) { return detail.find(phrase) != std::string::npos; };
  if (has("password authentication failed") || has("no password supplied") ||
      has("authentication failed") || (has("role \"") && has("does not exist")) ||
      has("pg_hba.conf")) {
    return UnauthenticatedError(std::move(message));
  }
  if (has("database \"") && has("does not exist")) return NotFoundError(std::move(message));
  if (has("permission denied")) return PermissionDeniedError(std::move(message));
  if (has("invalid connection option") || has("invalid ") || has("unrecognized")) {
    // "invalid sslmode value", "invalid integer value": the URL's parameters, not the server.
    if (!has("could not connect") && !has("Connection refused")) {
      return InvalidArgumentError(std::move(message));
    }
  }
  return UnavailableError(std::move(message));
}

class PgConnection {
 public:
  static Result<std::unique_ptr<PgConnection>> Connect(
      const std::vector<std::pair<std::string, std::string>>& params, const std::string& display,
      int lock_timeout_ms) {
    std::vector<const char*> keys;
    std::vector<const char*> values;
    for (const auto& [k, v] : params) {
      keys.push_back(k.c_str());
      values.push_back(v.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    PGconn* raw = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/0);
    if (raw == nullptr) return InternalError(fmt::format("postgres {}: out of memory", display));
    std::unique_ptr<PgConnection> conn(new PgConnection(raw, display));
    if (PQstatus(raw) != CONNECTION_OK) {
      return ConnectError(display, TrimNewlines(PQerrorMessage(raw)));
    }
    // Notices (CREATE TABLE IF NOT EXISTS on an existing table) would go to stderr.
    PQsetNoticeProcessor(
        raw, [](void*, const char*) {}, nullptr);
    RWMETA_RETURN_IF_ERROR(
        conn->Exec(fmt::format("SET lock_timeout = {}", lock_timeout_ms), "connect").status());
    return conn;
  }

  ~PgConnection() { PQfinish(conn_); }

  bool Broken() const { return PQstatus(conn_) != CONNECTION_OK; }
  bool InTransaction() const { return PQtransactionStatus(conn_) != PQTRANS_IDLE; }
  const std::string& display() const { return display_; }

  // Runs `sql` (one or more statements, no parameters) with the simple query protocol.
  Result<PgResult> Exec(const std::string& sql, std::string_view context) {
    PgResult res(PQexec(conn_, sql.c_str()));
    RWMETA_RETURN_IF_ERROR(Check(res.get(), context));
    return res;
  }

  // Runs the one statement `sql` with binary parameters and binary results. With `prepare` the
  // statement is prepared once per connection and reused.
  Result<PgResult> Run(const std::string& sql, const std::vector<Param>& params,
                       std::string_view context, bool prepare = true) {
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    std::vector<Oid> types;
    for (const Param& p : params) {
      values.push_back(p.null ? nullptr : p.bytes.data());
      lengths.push_back(static_cast<int>(p.bytes.size()));
      formats.push_back(1);
      types.push_back(p.type);
    }
    const int n = static_cast<int>(params.size());
    if (!prepare) {
      PgResult res(PQexecParams(conn_, sql.c_str(), n, types.data(), values.data(), lengths.data(),
                                formats.data(), /*resultFormat=*/1));
      RWMETA_RETURN_IF_ERROR(Check(res.get(), context));
      return res;
    }
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      std::string name = fmt::format("rwmeta_{}", prepared_.size());
      PgResult res(PQprepare(conn_, name.c_str(), sql.c_str(), n, types.data()));
      RWMETA_RETURN_IF_ERROR(Check(res.get(), context));
      it = prepared_.emplace(sql, std::move(name)).first;
    }
    PgResult res(PQexecPrepared(conn_, it->second.c_str(), n, values.data(), lengths.data(),
                                formats.data(), /*resultFormat=*/1));
    RWMETA_RETURN_IF_ERROR(Check(res.get(), context));
    return res;
  }

 private:
  PgConnection(PGconn* conn, std::string display) : conn_(conn), display_(std::move(display)) {}

  Status Check(const PGresult* res, std::string_view context) const {
    const ExecStatusType st = res == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Status::Ok();
    const char* state = res == nullptr ? nullptr : PQresultErrorField(res, PG_DIAG_SQLSTATE);
    std::string detail = TrimNewlines(res != nullptr && PQresultErrorMessage(res)[0] != '\0'
                                          ? PQresultErrorMessage(res)
                                          : PQerrorMessage(conn_));
    std::string message = fmt::format("postgres {}: {}: {}", display_, context, detail);
    if (state == nullptr || Broken()) return UnavailableError(std::move(message));
    return MapSqlState(state, std::move(message));
  }

  PGconn* conn_;
  std::string display_;
  std::unordered_map<std::string, std::string> prepared_;
};

Result<Value> Decode(const PGresult* res, int row, int col, const TableSchema& table,
                     const ColumnSchema& column, const std::string& display) {
  auto bad = [&](std::string_view why) {
    return DataLossError(
        fmt::format("postgres {}: table {} column {}: {}", display, table.name, column.name, why));
  };
  if (PQftype(res, col) != TypeOid(column.type)) {
    return bad(fmt::format("stored type oid {} is not {}", PQftype(res, col),
                           ColumnTypeName(column.type)));
  }
  if (PQgetisnull(res, row, col)) {
    if (!column.nullable) return bad("NULL in a NOT NULL column");
    return Value{};
  }
  const char* p = PQgetvalue(res, row, col);
  const int n = PQgetlength(res, row, col);
  switch (column.type) {
    case ColumnType::kInt64:
      if (n != 8) return bad("bad int8 length");
      return Value{static_cast<int64_t>(GetBigEndian(p))};
    case ColumnType::kDouble: {
      if (n != 8) return bad("bad float8 length");
      uint64_t bits = GetBigEndian(p);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      return Value{d};
    }
    case ColumnType::kBool:
      if (n != 1) return bad("bad boolean length");
      return Value{p[0] != 0};
    case ColumnType::kText:
    case ColumnType::kJson:
    case ColumnType::kBytes:
      return Value{std::string(p, static_cast<size_t>(n))};
  }
  return bad("unknown column type");
}

Result<Row> DecodeRow(const PGresult* res, int row, const TableSchema& table,
                      const std::string& display) {
  Row out;
  out.reserve(table.columns.size());
  for (size_t i = 0; i < table.columns.size(); ++i) {
    RWMETA_ASSIGN_OR_RETURN(
        Value v, Decode(res, row, static_cast<int>(i), table, table.columns[i], display));
    out.push_back(std::move(v));
  }
  return out;
}

int64_t DecodeInt8(const PGresult* res, int row, int col) {
  if (PQgetisnull(res, row, col) || PQgetlength(res, row, col) != 8) return 0;
  return static_cast<int64_t>(GetBigEndian(PQgetvalue(res, row, col)));
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The recorded schema version (0 without the bookkeeping table).
Result<int> ReadVersion(PgConnection& conn) {
  RWMETA_ASSIGN_OR_RETURN(
      PgResult exists,
      conn.Run(fmt::format("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = "
                           "current_schema() AND tablename = '{}'",
                           sql::kMigrationsTable),
               {}, "read schema version"));
  if (DecodeInt8(exists.get(), 0, 0) == 0) return 0;
  RWMETA_ASSIGN_OR_RETURN(PgResult max,
                          conn.Run(sql::CurrentVersionSql(kDialect), {}, "read schema version"));
  return static_cast<int>(DecodeInt8(max.get(), 0, 0));
}

// The tables of the current schema, by name.
Result<std::vector<std::string>> ListTables(PgConnection& conn) {
  RWMETA_ASSIGN_OR_RETURN(
      PgResult res, conn.Run("SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = "
                             "current_schema() ORDER BY tablename",
                             {}, "list tables"));
  std::vector<std::string> names;
  for (int i = 0; i < PQntuples(res.get()); ++i) {
    names.emplace_back(PQgetvalue(res.get(), i, 0),
                       static_cast<size_t>(PQgetlength(res.get(), i, 0)));
  }
  return names;
}

}  // namespace

struct PostgresMetaStore::Shared {
  std::string display;
  std::vector<std::pair<std::string, std::string>> params;
  PostgresOptions options;
  const Model* model;
  std::map<std::string, sql::TableDml, std::less<>> dml;
  std::atomic<bool> version_checked{false};
  std::atomic<int64_t> next_cursor{0};

  std::mutex mu;
  std::vector<std::unique_ptr<PgConnection>> idle;  // guarded by mu

  // An idle connection, or a new one. `pooled` says which.
  Result<std::unique_ptr<PgConnection>> Acquire(bool* pooled = nullptr) {
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
    return PgConnection::Connect(params, display, options.lock_timeout_ms);
  }

  // A connection on which `first` (BEGIN ..., or a probe) has run. An idle connection that the
  // server closed meanwhile (restart, idle timeout, pg_terminate_backend) fails its first statement
  // as Unavailable: it is dropped and the next one tried, down to a new connection, whose failure
  // is returned.
  Result<std::unique_ptr<PgConnection>> AcquireWith(const std::string& first,
                                                    std::string_view context) {
    while (true) {
      bool pooled = false;
      RWMETA_ASSIGN_OR_RETURN(auto conn, Acquire(&pooled));
      Status s = conn->Exec(first, context).status();
      if (s.ok()) return conn;
      if (pooled && IsUnavailable(s)) continue;
      Release(std::move(conn));
      return s;
    }
  }

  // Takes back `conn`; a broken connection, or one still inside a transaction, is closed.
  void Release(std::unique_ptr<PgConnection> conn) {
    if (conn == nullptr || conn->Broken() || conn->InTransaction()) return;
    std::lock_guard<std::mutex> lock(mu);
    if (idle.size() < options.max_idle_connections) idle.push_back(std::move(conn));
  }

  Status VersionMismatch(int version) const {
    return FailedPreconditionError(
        fmt::format("postgres {}: meta store schema version {}, this binary's model version is "
                    "{}; run Migrate",
                    display, version, model->version()));
  }

  Status CheckVersion(PgConnection& conn) {
    if (version_checked.load()) return Status::Ok();
    RWMETA_ASSIGN_OR_RETURN(int version, ReadVersion(conn));
    if (version != model->version()) return VersionMismatch(version);
    version_checked.store(true);
    return Status::Ok();
  }
};

namespace {

class PgTransaction final : public Transaction {
 public:
  PgTransaction(std::shared_ptr<PostgresMetaStore::Shared> shared,
                std::unique_ptr<PgConnection> conn, bool read_only)
      : shared_(std::move(shared)), conn_(std::move(conn)), read_only_(read_only) {}

  ~PgTransaction() override {
    if (conn_ != nullptr && !conn_->Broken() && conn_->InTransaction()) {
      // On failure Release closes the connection, which rolls back too.
      conn_->Exec("ROLLBACK", "rollback").status().IgnoreError();
    }
    shared_->Release(std::move(conn_));
  }

  Result<std::optional<Row>> Get(const TableSchema& table, const Key& key) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateKey(*t.schema, key));
    RWMETA_ASSIGN_OR_RETURN(PgResult res, Read(t.dml->select_by_key, KeyParams(*t.schema, key),
                                               Context("get", *t.schema)));
    if (PQntuples(res.get()) == 0) return std::optional<Row>();
    RWMETA_ASSIGN_OR_RETURN(Row row, DecodeRow(res.get(), 0, *t.schema, conn_->display()));
    return std::optional<Row>(std::move(row));
  }

  Status Scan(const TableSchema& table, const std::function<Status(const Row&)>& visit) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    const std::string cursor = fmt::format("rwmeta_scan_{}", shared_->next_cursor.fetch_add(1));
    const std::string context = Context("scan", *t.schema);
    RWMETA_RETURN_IF_ERROR(
        Read(fmt::format("DECLARE {} NO SCROLL CURSOR FOR {}", cursor, t.dml->scan), {}, context,
             /*prepare=*/false)
            .status());
    const std::string fetch = fmt::format("FETCH FORWARD {} FROM {}", kFetchRows, cursor);
    Status result;
    while (result.ok()) {
      Result<PgResult> page = Read(fetch, {}, context, /*prepare=*/false);
      if (!page.ok()) return page.status();  // the transaction is doomed: no CLOSE needed
      const int n = PQntuples(page->get());
      // The page is decoded before any visit: the visitor may read through this view.
      std::vector<Row> rows;
      rows.reserve(static_cast<size_t>(n));
      for (int i = 0; i < n && result.ok(); ++i) {
        Result<Row> row = DecodeRow(page->get(), i, *t.schema, conn_->display());
        if (row.ok()) {
          rows.push_back(std::move(*row));
        } else {
          result = row.status();
        }
      }
      page->reset();
      for (size_t i = 0; i < rows.size() && result.ok(); ++i) result = visit(rows[i]);
      if (n < kFetchRows) break;
    }
    if (doomed_.ok()) {
      Status closed = Read("CLOSE " + cursor, {}, context, /*prepare=*/false).status();
      if (result.ok()) result = closed;
    }
    return result;
  }

  Result<int64_t> Count(const TableSchema& table) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_ASSIGN_OR_RETURN(PgResult res, Read(t.dml->count, {}, Context("count", *t.schema)));
    return DecodeInt8(res.get(), 0, 0);
  }

  Status Insert(const TableSchema& table, const Row& row) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateRow(*t.schema, row));
    std::vector<Param> params;
    for (size_t i = 0; i < row.size(); ++i) {
      params.push_back(Encode(row[i], t.schema->columns[i].type));
    }
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
    std::vector<Param> params;
    for (size_t i = 0; i < row.size(); ++i) {
      if (std::find(key_idx.begin(), key_idx.end(), static_cast<int>(i)) != key_idx.end()) continue;
      params.push_back(Encode(row[i], s.columns[i].type));
    }
    for (Param& p : KeyParams(s, key)) params.push_back(std::move(p));
    RWMETA_ASSIGN_OR_RETURN(int64_t changed, Write(t.dml->update, params, Context("update", s)));
    if (changed == 0) return RowNotFoundError(s, key);
    return Status::Ok();
  }

  Status Upsert(const TableSchema& table, const Row& row) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(auto t, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateRow(*t.schema, row));
    // An update in place, never delete + insert: that would fire ON DELETE CASCADE. The
    // transaction is SERIALIZABLE, so the row cannot appear between the Get and the Insert
    // without one of the two transactions aborting.
    RWMETA_ASSIGN_OR_RETURN(std::optional<Row> existing, Get(*t.schema, KeyOf(*t.schema, row)));
    return existing.has_value() ? Update(*t.schema, row) : Insert(*t.schema, row);
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
    Result<PgResult> res = conn_->Exec("COMMIT", "commit");
    if (!res.ok()) return res.status();
    // COMMIT of a transaction that failed earlier succeeds as a ROLLBACK.
    if (std::string_view(PQcmdStatus(res->get())) != "COMMIT") {
      return AbortedError(
          fmt::format("postgres {}: commit: the transaction was rolled back", conn_->display()));
    }
    return Status::Ok();
  }

 private:
  struct Resolved {
    const TableSchema* schema;
    const sql::TableDml* dml;
  };

  Status CheckUsable(bool write) const {
    if (finished_) return FailedPreconditionError("postgres: transaction already finished");
    if (write && read_only_) return FailedPreconditionError("postgres: snapshot view is read-only");
    if (!doomed_.ok()) {
      if (IsUnavailable(doomed_)) return doomed_;
      return AbortedError(
          fmt::format("postgres: transaction failed earlier, redo it: {}", doomed_.message()));
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

  // A statement whose failure leaves PostgreSQL's transaction failed: dooms this one.
  Result<PgResult> Read(const std::string& sql, const std::vector<Param>& params,
                        std::string_view context, bool prepare = true) {
    Result<PgResult> res = conn_->Run(sql, params, context, prepare);
    if (!res.ok()) doomed_ = res.status();
    return res;
  }

  // A write under a savepoint: a refused write is undone alone and the transaction goes on.
  // Returns the number of rows affected.
  Result<int64_t> Write(const std::string& sql, const std::vector<Param>& params,
                        std::string_view context) {
    Result<PgResult> begin = conn_->Exec("SAVEPOINT rwmeta_write", context);
    if (!begin.ok()) {
      doomed_ = begin.status();
      return begin.status();
    }
    Result<PgResult> res = conn_->Run(sql, params, context);
    if (!res.ok()) {
      Status s = res.status();
      if (IsAborted(s) || IsUnavailable(s)) {
        doomed_ = s;
        return s;
      }
      Result<PgResult> undo = conn_->Exec(
          "ROLLBACK TO SAVEPOINT rwmeta_write; RELEASE SAVEPOINT rwmeta_write", context);
      if (!undo.ok()) doomed_ = undo.status();
      return s;
    }
    const char* tuples = PQcmdTuples(res->get());
    const int64_t affected = std::strtoll(tuples, nullptr, 10);  // "" for no count: 0
    Result<PgResult> release = conn_->Exec("RELEASE SAVEPOINT rwmeta_write", context);
    if (!release.ok()) {
      doomed_ = release.status();
      return release.status();
    }
    return affected;
  }

  std::vector<Param> KeyParams(const TableSchema& s, const Key& key) const {
    std::vector<int> idx = s.PrimaryKeyIndexes();
    std::vector<Param> params;
    for (size_t i = 0; i < key.size(); ++i)
      params.push_back(Encode(key[i], s.columns[idx[i]].type));
    return params;
  }

  static std::string Context(std::string_view op, const TableSchema& s) {
    return fmt::format("table {}: {}", s.name, op);
  }

  std::shared_ptr<PostgresMetaStore::Shared> shared_;
  std::unique_ptr<PgConnection> conn_;
  bool read_only_;
  bool finished_ = false;
  Status doomed_;  // the failure that ended PostgreSQL's transaction early, if any
};

}  // namespace

Result<std::unique_ptr<PostgresMetaStore>> PostgresMetaStore::Open(std::string_view url,
                                                                   const Model& model,
                                                                   PostgresOptions options) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(fmt::format("meta store url {}: {}", RedactUrl(url), why));
  };
  RWMETA_ASSIGN_OR_RETURN(Url parsed, ParseUrl(url));
  if (parsed.scheme != "postgres" && parsed.scheme != "postgresql") {
    return bad("expected postgres://user:password@host:port/database");
  }
  if (parsed.host.empty()) return bad("no host (expected postgres://user:password@host/db)");
  if (parsed.path.size() < 2 || parsed.path.find('/', 1) != std::string::npos) {
    return bad("expected one database name as the path");
  }
  auto shared = std::make_shared<Shared>();
  shared->options = options;
  shared->model = &model;
  std::string host = parsed.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = std::to_string(parsed.port.value_or(5432));
  const std::string database = parsed.path.substr(1);
  shared->display = RedactUrl(url);
  shared->params = {
      {"host", host}, {"port", port}, {"dbname", database}, {"client_encoding", "UTF8"}};
  if (!parsed.user.empty()) shared->params.emplace_back("user", parsed.user);
  if (!parsed.password.empty()) shared->params.emplace_back("password", parsed.password);
  bool timeout_given = false;
  for (const auto& [key, value] : parsed.query) {
    if (key == "host" || key == "port" || key == "dbname" || key == "user" || key == "password" ||
        key == "client_encoding") {
      return bad(fmt::format("parameter '{}' belongs in the url itself", key));
    }
    if (key == "connect_timeout") timeout_given = true;
    shared->params.emplace_back(key, value);
  }
  if (!timeout_given) {
    shared->params.emplace_back("connect_timeout",
                                std::to_string(std::max(2, options.connect_timeout_ms / 1000)));
  }
  for (const TableSchema& t : model.tables()) {
    shared->dml.emplace(t.name, sql::TableDmlSql(kDialect, t));
  }
  // Connect once now, so that a bad address or bad credentials fail here and not later.
  RWMETA_ASSIGN_OR_RETURN(auto conn, shared->Acquire());
  shared->Release(std::move(conn));
  return std::unique_ptr<PostgresMetaStore>(new PostgresMetaStore(std::move(shared)));
}

PostgresMetaStore::PostgresMetaStore(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

PostgresMetaStore::~PostgresMetaStore() = default;

std::string PostgresMetaStore::DisplayUrl() const { return shared_->display; }

Result<SchemaState> PostgresMetaStore::Inspect() {
  // One snapshot, so that version and emptiness describe the same state.
  RWMETA_ASSIGN_OR_RETURN(
      auto conn,
      shared_->AcquireWith("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "inspect"));
  auto inspect = [&]() -> Result<SchemaState> {
    SchemaState state;
    RWMETA_ASSIGN_OR_RETURN(state.version, ReadVersion(*conn));
    RWMETA_ASSIGN_OR_RETURN(std::vector<std::string> tables, ListTables(*conn));
    for (const auto& name : tables) {
      if (name == sql::kMigrationsTable) continue;
      RWMETA_ASSIGN_OR_RETURN(
          PgResult res,
          conn->Run("SELECT 1 FROM " + sql::QuoteIdentifier(kDialect, name) + " LIMIT 1", {},
                    "inspect table " + name, /*prepare=*/false));
      if (PQntuples(res.get()) > 0) {
        state.empty = false;
        break;
      }
    }
    return state;
  };
  Result<SchemaState> state = inspect();
  if (!conn->Broken() && conn->InTransaction()) {
    conn->Exec("ROLLBACK", "inspect").status().IgnoreError();  // read-only; Release drops it
  }
  shared_->Release(std::move(conn));
  return state;
}

Status PostgresMetaStore::Migrate() {
  RWMETA_ASSIGN_OR_RETURN(auto conn, shared_->AcquireWith("SELECT 1", "migrate"));
  const Model& model = *shared_->model;
  // One step per transaction, DDL included: a crash between steps leaves a recorded version.
  auto step_once = [&](bool* done) -> Status {
    RWMETA_RETURN_IF_ERROR(
        conn->Exec(fmt::format("SELECT pg_advisory_xact_lock({})", kMigrateLockKey), "migrate")
            .status());
    RWMETA_ASSIGN_OR_RETURN(std::vector<std::string> tables, ListTables(*conn));
    const bool has_bookkeeping =
        std::find(tables.begin(), tables.end(), sql::kMigrationsTable) != tables.end();
    if (!has_bookkeeping && !tables.empty()) {
      return FailedPreconditionError(fmt::format(
          "postgres {}: the database has no rwmeta schema but already holds {} table(s) ({}, "
          "...): use an empty database",
          shared_->display, tables.size(), tables.front()));
    }
    RWMETA_RETURN_IF_ERROR(conn->Exec(sql::CreateMigrationsTableSql(kDialect), "migrate").status());
    RWMETA_ASSIGN_OR_RETURN(int version, ReadVersion(*conn));
    if (version > model.version()) {
      return FailedPreconditionError(
          fmt::format("postgres {}: meta store schema version {} is newer than this binary's "
                      "model version {}",
                      shared_->display, version, model.version()));
    }
    if (version == model.version()) {
      *done = true;
      return Status::Ok();
    }
    RWMETA_ASSIGN_OR_RETURN(sql::MigrationStep step,
                            sql::MigrationStepSql(kDialect, model, version + 1));
    const std::string context = fmt::format("migrate to version {}", step.version);
    for (const auto& statement : step.statements) {
      RWMETA_RETURN_IF_ERROR(conn->Exec(statement, context).status());
    }
    return conn
        ->Run(sql::RecordMigrationSql(kDialect),
              {Encode(int64_t{step.version}, ColumnType::kInt64),
               Encode(NowMs(), ColumnType::kInt64), Encode(step.description, ColumnType::kText)},
              "record migration", /*prepare=*/false)
        .status();
  };
  Status result;
  for (bool done = false; !done;) {
    result = conn->Exec("BEGIN", "migrate").status();
    if (!result.ok()) break;
    result = step_once(&done);
    if (result.ok()) {
      Result<PgResult> commit = conn->Exec("COMMIT", "migrate");
      result = commit.status();
      if (result.ok() && std::string_view(PQcmdStatus(commit->get())) != "COMMIT") {
        result = AbortedError(fmt::format("postgres {}: migrate: rolled back", shared_->display));
      }
    }
    if (!result.ok()) {
      if (!conn->Broken() && conn->InTransaction()) {
        conn->Exec("ROLLBACK", "migrate").status().IgnoreError();  // Release drops it otherwise
      }
      break;
    }
  }
  if (result.ok()) shared_->version_checked.store(true);
  shared_->Release(std::move(conn));
  return result;
}

Result<std::unique_ptr<Transaction>> PostgresMetaStore::BeginTransaction() {
  RWMETA_ASSIGN_OR_RETURN(
      auto conn, shared_->AcquireWith("BEGIN ISOLATION LEVEL SERIALIZABLE", "begin transaction"));
  Status s = shared_->CheckVersion(*conn);
  if (!s.ok()) {
    if (!conn->Broken() && conn->InTransaction()) {
      conn->Exec("ROLLBACK", "begin transaction").status().IgnoreError();
    }
    shared_->Release(std::move(conn));
    return s;
  }
  return std::unique_ptr<Transaction>(
      std::make_unique<PgTransaction>(shared_, std::move(conn), /*read_only=*/false));
}

Result<std::unique_ptr<ReadView>> PostgresMetaStore::BeginSnapshotRead() {
  RWMETA_ASSIGN_OR_RETURN(auto conn,
                          shared_->AcquireWith("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                                               "begin snapshot read"));
  // The first statement takes the snapshot; reading the schema version is that statement.
  Result<int> version = ReadVersion(*conn);
  Status s = version.status();
  if (s.ok() && *version != shared_->model->version()) s = shared_->VersionMismatch(*version);
  if (!s.ok()) {
    if (!conn->Broken() && conn->InTransaction()) {
      conn->Exec("ROLLBACK", "begin snapshot read").status().IgnoreError();
    }
    shared_->Release(std::move(conn));
    return s;
  }
  return std::unique_ptr<ReadView>(
      std::make_unique<PgTransaction>(shared_, std::move(conn), /*read_only=*/true));
}

}  // namespace rwmeta::metastore
