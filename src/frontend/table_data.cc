#include "frontend/table_data.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <set>

#include "common/clock.h"
#include "frontend/sql/sql_error.h"
#include "hummock/sst/key.h"

namespace rwmeta::frontend {

namespace {

using sql::Datum;
using sql::TypeId;

// Hidden row ids: microseconds since the Unix epoch << 10 | a counter, kept increasing. Unique
// across restarts as long as the clock does not go back by more than the node's downtime.
int64_t NextRowId() {
  static std::atomic<int64_t> last{0};
  int64_t candidate = UnixNowMicros() << 10;
  int64_t prev = last.load();
  int64_t next;
  do {
    next = std::max(candidate, prev + 1);
  } while (!last.compare_exchange_weak(prev, next));
  return next;
}

Result<hummock::Datum> ToKeyDatum(const Datum& d) {
  if (d.is_null()) return hummock::Datum(hummock::Null{});
  if (const auto* b = std::get_if<bool>(&d.v)) return hummock::Datum(*b);
  if (const auto* i = std::get_if<int64_t>(&d.v)) return hummock::Datum(*i);
  if (const auto* f = std::get_if<double>(&d.v)) return hummock::Datum(*f);
  if (const auto* s = std::get_if<std::string>(&d.v)) return hummock::Datum(*s);
  return sql::NotSupported("array values cannot be stored in a table");
}

Datum FromKeyDatum(const hummock::Datum& d) {
  if (std::holds_alternative<hummock::Null>(d)) return Datum::Null();
  if (const auto* b = std::get_if<bool>(&d)) return Datum{*b};
  if (const auto* i = std::get_if<int64_t>(&d)) return Datum{*i};
  if (const auto* f = std::get_if<double>(&d)) return Datum{*f};
  return Datum{std::get<std::string>(d)};
}

bool IsInt(TypeId t) { return t == TypeId::kInt16 || t == TypeId::kInt32 || t == TypeId::kInt64; }
bool IsFloat(TypeId t) { return t == TypeId::kFloat32 || t == TypeId::kFloat64; }

Status CheckIntRange(int64_t v, TypeId to) {
  if (to == TypeId::kInt16 && (v < INT16_MIN || v > INT16_MAX)) {
    return sql::OutOfRange("smallint out of range");
  }
  if (to == TypeId::kInt32 && (v < INT32_MIN || v > INT32_MAX)) {
    return sql::OutOfRange("integer out of range");
  }
  return Status::Ok();
}

// Rows of one table read from the state store.
class HummockRelation : public sql::Relation {
 public:
  HummockRelation(hummock::StateStore& store, meta::TableInfo table, bool uncommitted,
                  bool with_key, TableData::VersionSource version = {})
      : store_(store),
        table_(std::move(table)),
        uncommitted_(uncommitted),
        with_key_(with_key),
        version_(std::move(version)) {
    if (with_key_) columns_.push_back({"_rw_key", TypeId::kBytea});
    for (const auto& c : ColumnDescsOf(table_)) columns_.push_back(c);
  }
  const std::vector<sql::ColumnDesc>& columns() const override { return columns_; }
  Status Scan(const std::function<Status(const sql::Tuple&)>& visit) override {
    std::unique_ptr<hummock::TableReader> reader;
    if (version_) {
      RWMETA_ASSIGN_OR_RETURN(auto version, version_());
      RWMETA_ASSIGN_OR_RETURN(
          reader, store_.NewTableReaderAt(static_cast<uint32_t>(table_.id), std::move(version)));
    } else {
      RWMETA_ASSIGN_OR_RETURN(
          reader, store_.NewTableReader(static_cast<uint32_t>(table_.id), uncommitted_));
    }
    Status s = reader->Scan([&](std::string_view key, std::string_view value) -> Status {
      RWMETA_ASSIGN_OR_RETURN(sql::Tuple row, TableData::DecodeRow(table_, value));
      if (with_key_) row.insert(row.begin(), Datum{std::string(key)});
      return visit(row);
    });
    if (!s.ok() && (s.code() == StatusCode::kDataLoss || s.code() == StatusCode::kNotFound)) {
      // A corrupt or missing SST: say which relation could not be read, keep the object's name.
      // A missing object is undefined_file (58P01), not the undefined_object of NotFound; DataLoss
      // gets its code's state at the SQL edge (sql_state.h).
      Status out(s.code(), fmt::format("reading \"{}\" failed: {}", table_.name, s.message()));
      return s.code() == StatusCode::kNotFound ? out.WithSqlState("58P01") : out;
    }
    return s;
  }

 private:
  hummock::StateStore& store_;
  meta::TableInfo table_;
  bool uncommitted_;
  bool with_key_;
  TableData::VersionSource version_;  // set: read as of a meta snapshot's version
  std::vector<sql::ColumnDesc> columns_;
};

}  // namespace

sql::TypeId ColumnTypeOf(const meta::ColumnInfo& column) {
  auto t = sql::TypeFromName(column.type);
  return t.ok() ? *t : TypeId::kVarchar;
}

std::vector<sql::ColumnDesc> ColumnDescsOf(const meta::TableInfo& table) {
  std::vector<sql::ColumnDesc> out;
  for (const auto& c : table.columns) out.push_back({c.name, ColumnTypeOf(c)});
  return out;
}

Result<Datum> CoerceForAssignment(const Datum& d, TypeId from, TypeId to,
                                  const std::string& column) {
  if (d.is_null() || from == to) return d;
  if (IsInt(from) && IsInt(to)) {
    RWMETA_RETURN_IF_ERROR(CheckIntRange(std::get<int64_t>(d.v), to));
    return d;
  }
  if (IsInt(from) && IsFloat(to)) return Datum{static_cast<double>(std::get<int64_t>(d.v))};
  if (IsFloat(from) && IsFloat(to)) return d;
  if (IsFloat(from) && IsInt(to)) {
    double v = std::nearbyint(std::get<double>(d.v));
    if (!std::isfinite(v) || v < -9.2e18 || v > 9.2e18) {
      return sql::OutOfRange(fmt::format("{} out of range", sql::TypeName(to)));
    }
    RWMETA_RETURN_IF_ERROR(CheckIntRange(static_cast<int64_t>(v), to));
    return Datum{static_cast<int64_t>(v)};
  }
  std::optional<std::string> text = sql::DatumToText(d, from);
  if (!text) return Datum::Null();
  auto out = sql::DatumFromText(*text, to);
  if (!out.ok()) {
    if (from == TypeId::kUnknown || from == TypeId::kVarchar) return out.status();
    return sql::SqlError(StatusCode::kInvalidArgument, "42804",
                         fmt::format("column \"{}\" is of type {} but expression is of type {}",
                                     column, sql::TypeName(to), sql::TypeName(from)));
  }
  if (IsInt(to)) RWMETA_RETURN_IF_ERROR(CheckIntRange(std::get<int64_t>(out->v), to));
  return out;
}

TableData::TableData(hummock::StateStore& store, meta::CatalogManager& catalog)
    : store_(store), catalog_(catalog) {
  store_.SetPreCommitHook([this]() -> Status {
    std::function<Status()> work;
    {
      std::lock_guard lock(pre_commit_mu_);
      work = pre_commit_work_;
    }
    return work ? work() : Status::Ok();
  });
}

void TableData::SetPreCommitWork(std::function<Status()> work) {
  std::lock_guard lock(pre_commit_mu_);
  pre_commit_work_ = std::move(work);
}

std::shared_ptr<sql::Relation> TableData::NewRelation(const meta::TableInfo& table,
                                                      bool uncommitted, bool with_key) {
  return std::make_shared<HummockRelation>(store_, table, uncommitted, with_key);
}

std::shared_ptr<sql::Relation> TableData::NewSnapshotRelation(const meta::TableInfo& table,
                                                              VersionSource version) {
  return std::make_shared<HummockRelation>(store_, table, /*uncommitted=*/false,
                                           /*with_key=*/false, std::move(version));
}

Result<std::string> TableData::KeyFor(const meta::TableInfo& table, const sql::Tuple& row) {
  if (table.pk.empty()) return hummock::EncodeMemcomparable({hummock::Datum(NextRowId())});
  std::vector<hummock::Datum> key;
  for (int i : table.pk) {
    const Datum& d = row.at(static_cast<size_t>(i));
    if (d.is_null()) {
      return sql::SqlError(
          StatusCode::kInvalidArgument, "23502",
          fmt::format("null value in column \"{}\" of relation \"{}\" violates not-null "
                      "constraint",
                      table.columns[static_cast<size_t>(i)].name, table.name));
    }
    RWMETA_ASSIGN_OR_RETURN(hummock::Datum k, ToKeyDatum(d));
    key.push_back(std::move(k));
  }
  return hummock::EncodeMemcomparable(key);
}

Result<std::string> TableData::EncodeRow(const sql::Tuple& row) {
  std::vector<hummock::Datum> datums;
  datums.reserve(row.size());
  for (const Datum& d : row) {
    RWMETA_ASSIGN_OR_RETURN(hummock::Datum k, ToKeyDatum(d));
    datums.push_back(std::move(k));
  }
  return hummock::EncodeMemcomparable(datums);
}

Result<sql::Tuple> TableData::DecodeRow(const meta::TableInfo& table, std::string_view bytes) {
  auto datums = hummock::DecodeMemcomparable(bytes);
  if (!datums.ok() || datums->size() != table.columns.size()) {
    return DataLossError(fmt::format("a stored row of \"{}\" does not decode as its {} columns",
                                     table.name, table.columns.size()));
  }
  sql::Tuple row;
  row.reserve(datums->size());
  for (const auto& d : *datums) row.push_back(FromKeyDatum(d));
  return row;
}

Status TableData::OnCreated(int64_t id) {
  return store_.manager().RegisterTables({static_cast<uint32_t>(id)});
}

Status TableData::OnDropped(const std::vector<int64_t>& ids) {
  std::vector<uint32_t> tables;
  for (int64_t id : ids) tables.push_back(static_cast<uint32_t>(id));
  if (tables.empty()) return Status::Ok();
  return store_.manager().DropTables(tables);
}

Status TableData::Reconcile() {
  auto snap = catalog_.Snapshot();
  auto version = store_.manager().current();
  std::vector<uint32_t> missing, stale;
  std::set<uint32_t> in_catalog;
  for (const auto& t : snap->tables) in_catalog.insert(static_cast<uint32_t>(t.id));
  for (uint32_t id : in_catalog) {
    if (!version->state_table_info().contains(id)) missing.push_back(id);
  }
  for (const auto& [id, info] : version->state_table_info()) {
    if (!in_catalog.contains(id)) stale.push_back(id);
  }
  if (!missing.empty()) {
    spdlog::warn("hummock: registering {} tables the version did not know", missing.size());
    RWMETA_RETURN_IF_ERROR(store_.manager().RegisterTables(missing));
  }
  if (!stale.empty()) {
    spdlog::warn("hummock: dropping {} tables the catalog no longer has", stale.size());
    RWMETA_RETURN_IF_ERROR(store_.manager().DropTables(stale));
  }
  return Status::Ok();
}

}  // namespace rwmeta::frontend
