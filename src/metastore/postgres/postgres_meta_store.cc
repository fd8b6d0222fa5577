#include "metastore/postgres/postgres_meta_store.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/coding.h"
#include "common/url.h"
#include "metastore/sql/schema_sql.h"
#include "metastore/sql/sql_meta_store.h"

namespace rwmeta::metastore {

namespace {

using sql::SqlDialect;
constexpr SqlDialect kDialect = SqlDialect::kPostgres;
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
struct PgParam {
  std::string bytes;
  Oid type = kTextOid;
  bool null = false;
};

PgParam Encode(const Value& value, ColumnType type) {
  PgParam p;
  p.type = TypeOid(type);
  if (IsNull(value)) {
    p.null = true;
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    PutBigEndian64(&p.bytes, static_cast<uint64_t>(*i));
  } else if (const auto* d = std::get_if<double>(&value)) {
    uint64_t bits;
    std::memcpy(&bits, d, sizeof bits);
    PutBigEndian64(&p.bytes, bits);
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

Result<Value> Decode(const PGresult* res, int row, int col, std::string_view table,
                     const ColumnSchema& column, const std::string& display) {
  auto bad = [&](std::string_view why) {
    return DataLossError(
        fmt::format("postgres {}: table {} column {}: {}", display, table, column.name, why));
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
      return Value{static_cast<int64_t>(DecodeBigEndian64(p))};
    case ColumnType::kDouble: {
      if (n != 8) return bad("bad float8 length");
      uint64_t bits = DecodeBigEndian64(p);
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

// Row `row` of `res` as `shape` (its leading columns).
Result<Row> DecodeRow(const PGresult* res, int row, const sql::RowShape& shape,
                      const std::string& display) {
  Row out;
  out.reserve(shape.columns.size());
  for (size_t i = 0; i < shape.columns.size(); ++i) {
    RWMETA_ASSIGN_OR_RETURN(
        Value v, Decode(res, row, static_cast<int>(i), shape.table, shape.columns[i], display));
    out.push_back(std::move(v));
  }
  return out;
}

class PgConnection final : public sql::SqlConnection {
 public:
  static Result<std::unique_ptr<sql::SqlConnection>> Connect(
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
        conn->Exec(fmt::format("SET lock_timeout = {}", lock_timeout_ms), "connect"));
    return std::unique_ptr<sql::SqlConnection>(std::move(conn));
  }

  ~PgConnection() override { PQfinish(conn_); }

  bool Broken() const override { return PQstatus(conn_) != CONNECTION_OK; }
  bool InTransaction() const override { return PQtransactionStatus(conn_) != PQTRANS_IDLE; }

  Status Exec(const std::string& sql, std::string_view context) override {
    return ExecRaw(sql, context).status();
  }

  Result<std::vector<Row>> Query(const std::string& sql, const sql::RowShape& shape,
                                 std::string_view context) override {
    RWMETA_ASSIGN_OR_RETURN(PgResult res, RunRaw(sql, {}, context, /*prepare=*/false));
    return DecodeRows(res.get(), shape);
  }

  Result<std::vector<Row>> Run(const std::string& sql, const std::vector<sql::SqlParam>& params,
                               const sql::RowShape& shape, std::string_view context) override {
    RWMETA_ASSIGN_OR_RETURN(PgResult res, RunRaw(sql, params, context));
    return DecodeRows(res.get(), shape);
  }

  // Any failed statement leaves PostgreSQL's transaction failed; a row that does not decode
  // (DataLoss) is our finding, not the server's.
  bool EndsTransaction(const Status& failed) const override {
    return failed.code() != StatusCode::kDataLoss;
  }

  // Under a savepoint: a refused write is undone alone and the transaction goes on.
  Result<int64_t> Write(const std::string& sql, const std::vector<sql::SqlParam>& params,
                        std::string_view context, Status* ended) override {
    Result<PgResult> begin = ExecRaw("SAVEPOINT rwmeta_write", context);
    if (!begin.ok()) {
      *ended = begin.status();
      return begin.status();
    }
    Result<PgResult> res = RunRaw(sql, params, context);
    if (!res.ok()) {
      Status s = res.status();
      if (IsAborted(s) || IsUnavailable(s)) {
        *ended = s;
        return s;
      }
      Result<PgResult> undo =
          ExecRaw("ROLLBACK TO SAVEPOINT rwmeta_write; RELEASE SAVEPOINT rwmeta_write", context);
      if (!undo.ok()) *ended = undo.status();
      return s;
    }
    const char* tuples = PQcmdTuples(res->get());
    const int64_t affected = std::strtoll(tuples, nullptr, 10);  // "" for no count: 0
    Result<PgResult> release = ExecRaw("RELEASE SAVEPOINT rwmeta_write", context);
    if (!release.ok()) {
      *ended = release.status();
      return release.status();
    }
    return affected;
  }

  Result<std::unique_ptr<sql::SqlScan>> OpenScan(const TableSchema& table, const sql::TableDml& dml,
                                                 std::string_view context) override;

  // COPY ... FROM STDIN (FORMAT binary): PgCopyLoad below.
  Result<std::unique_ptr<sql::SqlTableLoad>> OpenTableLoad(const TableSchema& table,
                                                           std::string_view context) override;

  // The foreign keys of the current schema: dropped inside the load's transaction and added back
  // before its commit, as pg_restore adds them after the data. Checked row by row during a COPY
  // they cost a query per row (more than half of a restore's time at 10,000 tables); added back,
  // each is one join over the loaded rows. Their definitions come from pg_get_constraintdef, so
  // they return exactly as Migrate (or anything else) made them. Dropping takes ACCESS EXCLUSIVE
  // locks until the load ends: other sessions wait for the load instead of reading the tables.
  Result<std::vector<std::string>> SuspendChecksForLoad(std::string_view context) override {
    RWMETA_ASSIGN_OR_RETURN(
        PgResult res,
        ExecRaw("SELECT format('ALTER TABLE %I.%I DROP CONSTRAINT %I', n.nspname, c.relname, "
                "k.conname), format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, "
                "c.relname, k.conname, pg_get_constraintdef(k.oid)) FROM pg_constraint k JOIN "
                "pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE k.contype = 'f' AND n.nspname = current_schema() ORDER BY c.relname, "
                "k.conname",
                context));
    std::string drops;
    std::vector<std::string> adds;
    for (int i = 0; i < PQntuples(res.get()); ++i) {
      drops += PQgetvalue(res.get(), i, 0);
      drops += ";\n";
      adds.emplace_back(PQgetvalue(res.get(), i, 1));
    }
    if (!drops.empty()) RWMETA_RETURN_IF_ERROR(Exec(drops, context));
    return adds;
  }

  Status Commit(std::string_view context) override {
    RWMETA_ASSIGN_OR_RETURN(PgResult res, ExecRaw("COMMIT", context));
    // COMMIT of a transaction that failed earlier succeeds as a ROLLBACK.
    if (std::string_view(PQcmdStatus(res.get())) != "COMMIT") {
      return AbortedError(
          fmt::format("postgres {}: {}: the transaction was rolled back", display_, context));
    }
    return Status::Ok();
  }

  // A transaction-level advisory lock: each migration step's transaction takes it.
  Status LockMigrations(std::string_view context) override {
    return Exec(fmt::format("SELECT pg_advisory_xact_lock({})", kMigrateLockKey), context);
  }
  void UnlockMigrations() override {}  // ends with each step's transaction

  // Runs `sql` (one or more statements, no parameters) with the simple query protocol.
  Result<PgResult> ExecRaw(const std::string& sql, std::string_view context) {
    PgResult res(PQexec(conn_, sql.c_str()));
    RWMETA_RETURN_IF_ERROR(Check(res.get(), context));
    return res;
  }

  // Runs the one statement `sql` with binary parameters and binary results. With `prepare` the
  // statement is prepared once per connection and reused.
  Result<PgResult> RunRaw(const std::string& sql, const std::vector<sql::SqlParam>& params,
                          std::string_view context, bool prepare = true) {
    std::vector<PgParam> encoded;
    for (const sql::SqlParam& p : params) encoded.push_back(Encode(p.value, p.type));
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    std::vector<Oid> types;
    for (const PgParam& p : encoded) {
      values.push_back(p.null ? nullptr : p.bytes.data());
      lengths.push_back(static_cast<int>(p.bytes.size()));
      formats.push_back(1);
      types.push_back(p.type);
    }
    const int n = static_cast<int>(encoded.size());
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

  Result<std::vector<Row>> DecodeRows(const PGresult* res, const sql::RowShape& shape) const {
    std::vector<Row> rows;
    const int n = PQntuples(res);
    rows.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      RWMETA_ASSIGN_OR_RETURN(Row row, DecodeRow(res, i, shape, display_));
      rows.push_back(std::move(row));
    }
    return rows;
  }

  // Cursor names are per session: unique on this connection is enough.
  std::string NextCursorName() { return fmt::format("rwmeta_scan_{}", next_cursor_++); }

  PGconn* raw() const { return conn_; }

  // OK for a result of `expected` status; otherwise the error `res` carries, mapped (see the
  // table in the header).
  Status Check(const PGresult* res, std::string_view context,
               ExecStatusType expected = PGRES_COMMAND_OK) const {
    const ExecStatusType st = res == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(res);
    if (st == expected || st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Status::Ok();
    const char* state = res == nullptr ? nullptr : PQresultErrorField(res, PG_DIAG_SQLSTATE);
    std::string detail = TrimNewlines(res != nullptr && PQresultErrorMessage(res)[0] != '\0'
                                          ? PQresultErrorMessage(res)
                                          : PQerrorMessage(conn_));
    std::string message = fmt::format("postgres {}: {}: {}", display_, context, detail);
    if (state == nullptr || Broken()) return UnavailableError(std::move(message));
    return MapSqlState(state, std::move(message));
  }

 private:
  PgConnection(PGconn* conn, std::string display) : conn_(conn), display_(std::move(display)) {}

  PGconn* conn_;
  std::string display_;
  std::unordered_map<std::string, std::string> prepared_;
  int64_t next_cursor_ = 0;
};

// A Scan through a server-side cursor, FETCHing a page at a time.
class PgScan final : public sql::SqlScan {
 public:
  PgScan(PgConnection* conn, const TableSchema& table, std::string cursor, std::string context)
      : conn_(conn),
        table_(table),
        cursor_(std::move(cursor)),
        fetch_(fmt::format("FETCH FORWARD {} FROM {}", sql::kScanPageRows, cursor_)),
        context_(std::move(context)) {}

  Result<std::vector<Row>> NextPage() override {
    RWMETA_ASSIGN_OR_RETURN(PgResult page, conn_->RunRaw(fetch_, {}, context_, /*prepare=*/false));
    return conn_->DecodeRows(page.get(), sql::ShapeOf(table_));
  }

  Status Close() override {
    return conn_->RunRaw("CLOSE " + cursor_, {}, context_, /*prepare=*/false).status();
  }

 private:
  PgConnection* conn_;
  const TableSchema& table_;
  std::string cursor_;
  std::string fetch_;
  std::string context_;
};

// The rows of one table in one COPY ... FROM STDIN (FORMAT binary): the values travel in the same
// binary encodings as statement parameters (Encode), so they round-trip as exactly. The server
// checks every row's keys as they arrive (foreign keys, suspended for the load, when the load
// ends); any refusal fails the COPY and the transaction, reported by Add (once libpq has seen it)
// or by Close, with the server's message (which names the key and the COPY's line). Bytes are
// handed to libpq in pieces of kCopyChunkBytes: memory stays bounded.
class PgCopyLoad final : public sql::SqlTableLoad {
 public:
  PgCopyLoad(PgConnection* conn, const TableSchema& table, std::string context)
      : conn_(conn), table_(table), context_(std::move(context)) {
    // The binary COPY header: signature, flags, header extension length (PostgreSQL's COPY
    // documentation, "Binary Format").
    buffer_.append("PGCOPY\n\377\r\n\0", 11);
    PutBigEndian32(&buffer_, 0);
    PutBigEndian32(&buffer_, 0);
  }

  ~PgCopyLoad() override {
    if (!open_) return;
    // Ends the COPY with an error, so that the connection can take the ROLLBACK.
    if (PQputCopyEnd(conn_->raw(), "rwmeta: bulk load abandoned") == 1) Drain().IgnoreError();
  }

  Status Add(const Row& row) override {
    if (!open_) return Closed();
    PutBigEndian16(&buffer_, static_cast<uint16_t>(row.size()));
    for (size_t i = 0; i < row.size(); ++i) {
      if (IsNull(row[i])) {
        PutBigEndian32(&buffer_, static_cast<uint32_t>(-1));
        continue;
      }
      PgParam p = Encode(row[i], table_.columns[i].type);
      PutBigEndian32(&buffer_, static_cast<uint32_t>(p.bytes.size()));
      buffer_ += p.bytes;
    }
    if (buffer_.size() >= kCopyChunkBytes) return Send();
    return Status::Ok();
  }

  Status Close() override {
    if (!open_) return Closed();
    PutBigEndian16(&buffer_, static_cast<uint16_t>(-1));  // the trailer
    RWMETA_RETURN_IF_ERROR(Send());
    if (PQputCopyEnd(conn_->raw(), nullptr) != 1) return Failed();
    return Drain();
  }

  // Starts the COPY on the server.
  Status Start() {
    PgResult res(PQexec(conn_->raw(), sql::CopyInSql(table_).c_str()));
    RWMETA_RETURN_IF_ERROR(conn_->Check(res.get(), context_, PGRES_COPY_IN));
    open_ = PQresultStatus(res.get()) == PGRES_COPY_IN;
    if (!open_) return InternalError(fmt::format("postgres: {}: COPY did not start", context_));
    return Status::Ok();
  }

 private:
  static constexpr size_t kCopyChunkBytes = 256 * 1024;

  Status Closed() const {
    return FailedPreconditionError(fmt::format("postgres: {}: COPY already ended", context_));
  }

  Status Send() {
    if (buffer_.empty()) return Status::Ok();
    if (PQputCopyData(conn_->raw(), buffer_.data(), static_cast<int>(buffer_.size())) != 1) {
      return Failed();
    }
    buffer_.clear();
    return Status::Ok();
  }

  // libpq refused data: the server already failed the COPY (its error is the next result) or the
  // connection is gone.
  Status Failed() { return Drain(); }

  // The COPY's outcome: the first result that is not OK, else OK; reads every result so that the
  // connection takes statements again.
  Status Drain() {
    open_ = false;
    Status outcome;
    while (PGresult* raw = PQgetResult(conn_->raw())) {
      PgResult res(raw);
      if (PQresultStatus(raw) == PGRES_COPY_IN) {
        // Still copying (a refused PQputCopyData without an error): end it.
        if (PQputCopyEnd(conn_->raw(), "rwmeta: bulk load failed") != 1) break;
        continue;
      }
      if (outcome.ok()) outcome = conn_->Check(raw, context_);
    }
    if (outcome.ok() && conn_->Broken()) {
      outcome = conn_->Check(nullptr, context_);
    }
    return outcome;
  }

  PgConnection* conn_;
  const TableSchema& table_;
  std::string context_;
  std::string buffer_;
  bool open_ = false;
};

Result<std::unique_ptr<sql::SqlTableLoad>> PgConnection::OpenTableLoad(const TableSchema& table,
                                                                       std::string_view context) {
  auto load = std::make_unique<PgCopyLoad>(this, table, std::string(context));
  RWMETA_RETURN_IF_ERROR(load->Start());
  return std::unique_ptr<sql::SqlTableLoad>(std::move(load));
}

Result<std::unique_ptr<sql::SqlScan>> PgConnection::OpenScan(const TableSchema& table,
                                                             const sql::TableDml& dml,
                                                             std::string_view context) {
  std::string cursor = NextCursorName();
  RWMETA_RETURN_IF_ERROR(RunRaw(fmt::format("DECLARE {} NO SCROLL CURSOR FOR {}", cursor, dml.scan),
                                {}, context, /*prepare=*/false)
                             .status());
  return std::unique_ptr<sql::SqlScan>(
      std::make_unique<PgScan>(this, table, std::move(cursor), std::string(context)));
}

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
  std::string host = parsed.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = std::to_string(parsed.port.value_or(5432));
  const std::string database = parsed.path.substr(1);
  std::vector<std::pair<std::string, std::string>> params = {
      {"host", host}, {"port", port}, {"dbname", database}, {"client_encoding", "UTF8"}};
  if (!parsed.user.empty()) params.emplace_back("user", parsed.user);
  if (!parsed.password.empty()) params.emplace_back("password", parsed.password);
  bool timeout_given = false;
  for (const auto& [key, value] : parsed.query) {
    if (key == "host" || key == "port" || key == "dbname" || key == "user" || key == "password" ||
        key == "client_encoding") {
      return bad(fmt::format("parameter '{}' belongs in the url itself", key));
    }
    if (key == "connect_timeout") timeout_given = true;
    params.emplace_back(key, value);
  }
  if (!timeout_given) {
    params.emplace_back("connect_timeout",
                        std::to_string(std::max(2, options.connect_timeout_ms / 1000)));
  }
  sql::SqlBackendSpec spec;
  spec.dialect = kDialect;
  spec.display = RedactUrl(url);
  spec.max_idle_connections = options.max_idle_connections;
  spec.connect = [params = std::move(params), display = spec.display,
                  lock_timeout_ms = options.lock_timeout_ms] {
    return PgConnection::Connect(params, display, lock_timeout_ms);
  };
  spec.begin_transaction = {"BEGIN ISOLATION LEVEL SERIALIZABLE"};
  // The snapshot is taken by the first statement after BEGIN.
  spec.begin_snapshot = {"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"};
  spec.probe = "SELECT 1";
  spec.migrations_table_exists = fmt::format(
      "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
      "AND tablename = '{}'",
      sql::kMigrationsTable);
  spec.list_tables =
      "SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
      "ORDER BY tablename";
  spec.transactional_ddl = true;
  std::unique_ptr<PostgresMetaStore> store(new PostgresMetaStore(std::move(spec), model));
  RWMETA_RETURN_IF_ERROR(store->CheckConnection());
  return store;
}

}  // namespace rwmeta::metastore
