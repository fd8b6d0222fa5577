#include "metastore/memory/memory_meta_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <compare>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "metastore/row_errors.h"

namespace rwmeta::metastore {

namespace {

// Rows are immutable and shared between a table and its copies: copying a table (a transaction's
// first write to it) copies keys and pointers, not values, and indexes point at rows.
using RowPtr = std::shared_ptr<const Row>;

// Compares `row`'s values at `columns` with `values` (one per column), lexicographically.
std::partial_ordering CompareAt(const Row& row, const std::vector<int>& columns,
                                const std::vector<Value>& values) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (auto c = row[columns[i]] <=> values[i]; c != 0) return c;
  }
  return std::partial_ordering::equivalent;
}

// Compares two rows of one table at `columns`, lexicographically.
std::partial_ordering CompareAt(const Row& a, const Row& b, const std::vector<int>& columns) {
  for (int column : columns) {
    if (auto c = a[column] <=> b[column]; c != 0) return c;
  }
  return std::partial_ordering::equivalent;
}

bool AnyNullAt(const Row& row, const std::vector<int>& columns) {
  return std::any_of(columns.begin(), columns.end(), [&](int c) { return IsNull(row[c]); });
}

// The order of an index: by the values of its columns, then by primary key. A row also compares
// with the values of the columns alone (transparent lookup), so the rows holding given values are
// one equal_range, in primary-key order.
class IndexOrder {
 public:
  using is_transparent = void;
  IndexOrder(std::vector<int> columns, std::vector<int> key_columns)
      : columns_(std::move(columns)), key_columns_(std::move(key_columns)) {}

  bool operator()(const Row* a, const Row* b) const {
    if (auto c = CompareAt(*a, *b, columns_); c != 0) return c < 0;
    return CompareAt(*a, *b, key_columns_) < 0;
  }
  bool operator()(const Row* row, const std::vector<Value>& values) const {
    return CompareAt(*row, columns_, values) < 0;
  }
  bool operator()(const std::vector<Value>& values, const Row* row) const {
    return CompareAt(*row, columns_, values) > 0;
  }

  const std::vector<int>& columns() const { return columns_; }

 private:
  std::vector<int> columns_;      // positions in the table's columns
  std::vector<int> key_columns_;  // the primary key's positions
};

// A secondary index: the rows of a table whose indexed columns hold no NULL (NULL matches nothing,
// in SQL and here). It points at rows its table holds.
using Index = std::set<const Row*, IndexOrder>;

// One table: rows by primary key, and the indexes that let every key check of a write look rows up
// in O(log n) instead of scanning a table (which made a bulk load of n rows, a restore drill's,
// O(n^2)). The table owns one index per column set that IndexedColumns names. std::less on Key
// orders lexicographically by column, integers numerically and text/bytes bytewise: the same order
// SQLite's BINARY collation gives.
struct TableData {
  std::map<Key, RowPtr> rows;
  std::vector<Index> indexes;

  // The index on exactly `columns`, or nullptr.
  const Index* FindIndex(const std::vector<int>& columns) const {
    for (const Index& index : indexes) {
      if (index.key_comp().columns() == columns) return &index;
    }
    return nullptr;
  }

  // REQUIRES: no row has `key`.
  void Insert(Key key, RowPtr row) {
    for (Index& index : indexes) {
      if (!AnyNullAt(*row, index.key_comp().columns())) index.insert(row.get());
    }
    rows.emplace(std::move(key), std::move(row));
  }

  // REQUIRES: a row has `key`.
  void Erase(const Key& key) {
    auto it = rows.find(key);
    for (Index& index : indexes) index.erase(it->second.get());
    rows.erase(it);
  }
};

// Tables are immutable once published; a transaction clones a table (its keys, row pointers and
// indexes) on its first write to it.
using TableMap = std::map<std::string, std::shared_ptr<const TableData>, std::less<>>;

// The column sets of `table` that the checks of a write look up, each once:
//   - each unique key (Insert, Update: does another row hold these values?);
//   - each foreign key's columns (Delete, and Update of a parent: which rows refer to this one?);
//   - each column set another table's foreign key refers to, unless it is the primary key, which
//     `rows` answers (Insert, Update of a child: does the parent row exist?).
std::vector<std::vector<int>> IndexedColumns(const Model& model, const TableSchema& table) {
  std::vector<std::vector<int>> out;
  auto add = [&](std::vector<int> columns) {
    if (std::find(out.begin(), out.end(), columns) == out.end()) out.push_back(std::move(columns));
  };
  for (const auto& uk : table.unique_keys) add(table.ColumnIndexes(uk));
  for (const ForeignKey& fk : table.foreign_keys) add(table.ColumnIndexes(fk.columns));
  for (const TableSchema& child : model.tables()) {
    for (const ForeignKey& fk : child.foreign_keys) {
      if (fk.ref_table != table.name) continue;
      std::vector<int> columns = table.ColumnIndexes(fk.ref_columns);
      if (columns != table.PrimaryKeyIndexes()) add(std::move(columns));
    }
  }
  return out;
}

std::string ColumnList(const std::vector<std::string>& columns) {
  return fmt::format("({})", fmt::join(columns, ", "));
}

}  // namespace

struct MemoryMetaStore::State {
  std::mutex mu;
  int schema_version = 0;       // guarded by mu
  uint64_t commit_version = 0;  // guarded by mu; bumped by every commit that wrote and by Migrate
  TableMap tables;              // guarded by mu
};

std::shared_ptr<MemoryMetaStore::State> MemoryMetaStore::NewState() {
  return std::make_shared<State>();
}

namespace {

// A transaction, or (read_only) a snapshot view. Works on a private copy of the table map.
class MemoryTransaction final : public Transaction {
 public:
  MemoryTransaction(const Model& model, std::shared_ptr<MemoryMetaStore::State> state,
                    TableMap tables, uint64_t base_version, bool read_only)
      : model_(model),
        state_(std::move(state)),
        tables_(std::move(tables)),
        base_version_(base_version),
        read_only_(read_only) {}

  Result<std::optional<Row>> Get(const TableSchema& table, const Key& key) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(const TableSchema* s, Resolve(table));
    RWMETA_RETURN_IF_ERROR(CheckKey(*s, key));
    const auto& rows = Read(s->name).rows;
    auto it = rows.find(key);
    if (it == rows.end()) return std::optional<Row>();
    return std::optional<Row>(*it->second);
  }

  Status Scan(const TableSchema& table, const std::function<Status(const Row&)>& visit) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(const TableSchema* s, Resolve(table));
    // Hold the table and give up ownership, so that a write from inside `visit` clones the table
    // instead of invalidating the iterator.
    std::shared_ptr<const TableData> data = tables_.find(s->name)->second;
    owned_.erase(s->name);
    for (const auto& [key, row] : data->rows) {
      RWMETA_RETURN_IF_ERROR(visit(*row));
    }
    return Status::Ok();
  }

  Result<int64_t> Count(const TableSchema& table) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    RWMETA_ASSIGN_OR_RETURN(const TableSchema* s, Resolve(table));
    return static_cast<int64_t>(Read(s->name).rows.size());
  }

  Status Insert(const TableSchema& table, const Row& row) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(const TableSchema* s, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateRow(*s, row));
    Key key = KeyOf(*s, row);
    if (Read(s->name).rows.count(key) != 0) {
      return AlreadyExistsError(
          fmt::format("table {}: primary key {} already exists", s->name, RenderKey(*s, key)));
    }
    RWMETA_RETURN_IF_ERROR(CheckUnique(*s, row, key));
    RWMETA_RETURN_IF_ERROR(CheckParents(*s, row));
    Mutable(s->name).Insert(std::move(key), std::make_shared<const Row>(row));
    return Status::Ok();
  }

  Status Update(const TableSchema& table, const Row& row) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(const TableSchema* s, Resolve(table));
    RWMETA_RETURN_IF_ERROR(ValidateRow(*s, row));
    Key key = KeyOf(*s, row);
    const auto& rows = Read(s->name).rows;
    auto it = rows.find(key);
    if (it == rows.end()) {
      return RowNotFoundError(*s, key);
    }
    RWMETA_RETURN_IF_ERROR(CheckUnique(*s, row, key));
    RWMETA_RETURN_IF_ERROR(CheckParents(*s, row));
    RWMETA_RETURN_IF_ERROR(CheckReferencedUnchanged(*s, *it->second, row));
    TableData& data = Mutable(s->name);
    data.Erase(key);
    data.Insert(std::move(key), std::make_shared<const Row>(row));
    return Status::Ok();
  }

  Status Delete(const TableSchema& table, const Key& key) override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(true));
    RWMETA_ASSIGN_OR_RETURN(const TableSchema* s, Resolve(table));
    RWMETA_RETURN_IF_ERROR(CheckKey(*s, key));
    if (Read(s->name).rows.count(key) == 0) {
      return RowNotFoundError(*s, key);
    }
    // Collect the rows the delete cascades to, then refuse if a non-cascading reference to any of
    // them remains from a row outside that set (SQL's NO ACTION, checked at statement end). Nothing
    // is changed until the whole set is known to be deletable.
    using RowId = std::pair<std::string, Key>;
    std::set<RowId> doomed{{s->name, key}};
    std::deque<RowId> queue{{s->name, key}};
    struct Blocker {
      RowId child;
      RowId parent;
    };
    std::vector<Blocker> blockers;
    while (!queue.empty()) {
      RowId parent_id = std::move(queue.front());
      queue.pop_front();
      const TableSchema& parent = *model_.Find(parent_id.first);
      const Row& parent_row = *Read(parent.name).rows.at(parent_id.second);
      for (const TableSchema& child : model_.tables()) {
        for (const ForeignKey& fk : child.foreign_keys) {
          if (fk.ref_table != parent.name) continue;
          std::vector<Value> ref = ValuesAt(parent_row, parent.ColumnIndexes(fk.ref_columns));
          if (AnyNull(ref)) continue;
          RWMETA_ASSIGN_OR_RETURN(const Index* index,
                                  IndexOf(child, child.ColumnIndexes(fk.columns)));
          auto [first, last] = index->equal_range(ref);
          for (auto entry = first; entry != last; ++entry) {
            RowId child_id{child.name, KeyOf(child, **entry)};
            if (fk.on_delete_cascade) {
              if (doomed.insert(child_id).second) queue.push_back(std::move(child_id));
            } else {
              blockers.push_back({std::move(child_id), parent_id});
            }
          }
        }
      }
    }
    for (const Blocker& b : blockers) {
      if (doomed.count(b.child) != 0) continue;
      const TableSchema& child = *model_.Find(b.child.first);
      const TableSchema& parent = *model_.Find(b.parent.first);
      return FailedPreconditionError(
          fmt::format("table {}: row {} is still referenced by table {} row {}", parent.name,
                      RenderValues(parent, parent.PrimaryKeyIndexes(), b.parent.second), child.name,
                      RenderValues(child, child.PrimaryKeyIndexes(), b.child.second)));
    }
    for (const RowId& id : doomed) Mutable(id.first).Erase(id.second);
    return Status::Ok();
  }

  Status Commit() override {
    RWMETA_RETURN_IF_ERROR(CheckUsable(false));
    finished_ = true;
    if (!wrote_) return Status::Ok();
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->commit_version != base_version_) {
      return AbortedError(
          "memory meta store: transaction conflicts with a concurrent commit, redo it");
    }
    // Nothing was committed since this transaction began, so its table map is the new state.
    state_->tables = std::move(tables_);
    ++state_->commit_version;
    return Status::Ok();
  }

 private:
  Status CheckUsable(bool write) const {
    if (finished_)
      return FailedPreconditionError("memory meta store: transaction already finished");
    if (write && read_only_) return FailedPreconditionError("memory meta store: view is read-only");
    return Status::Ok();
  }

  // The store's own schema of `table` (callers may pass a copy).
  Result<const TableSchema*> Resolve(const TableSchema& table) const {
    const TableSchema* s = model_.Find(table.name);
    if (s == nullptr || tables_.find(s->name) == tables_.end()) {
      return InvalidArgumentError(fmt::format("table {} is not in the model", table.name));
    }
    return s;
  }

  static Status CheckKey(const TableSchema& s, const Key& key) { return ValidateKey(s, key); }

  const TableData& Read(std::string_view name) const { return *tables_.find(name)->second; }

  TableData& Mutable(const std::string& name) {
    wrote_ = true;
    auto it = tables_.find(name);
    if (owned_.insert(name).second) it->second = std::make_shared<TableData>(*it->second);
    // Only this transaction holds an owned table (Scan drops ownership while it iterates).
    return const_cast<TableData&>(*it->second);
  }

  // The index of `table` on exactly `columns`. Internal if there is none: the state's indexes
  // were built by a Migrate of another model with the same version but other keys.
  Result<const Index*> IndexOf(const TableSchema& table, const std::vector<int>& columns) const {
    const Index* index = Read(table.name).FindIndex(columns);
    if (index == nullptr) {
      return InternalError(fmt::format("memory meta store: table {} has no index on columns {}",
                                       table.name, fmt::join(columns, ", ")));
    }
    return index;
  }

  Status CheckUnique(const TableSchema& s, const Row& row, const Key& self) const {
    for (const auto& uk : s.unique_keys) {
      std::vector<int> idx = s.ColumnIndexes(uk);
      std::vector<Value> values = ValuesAt(row, idx);
      if (AnyNull(values)) continue;  // NULLs never collide, as in SQL.
      RWMETA_ASSIGN_OR_RETURN(const Index* index, IndexOf(s, idx));
      // At most two rows: the other holder of the values and `self` (an Update).
      auto [first, last] = index->equal_range(values);
      for (auto entry = first; entry != last; ++entry) {
        if (KeyOf(s, **entry) != self) {
          return AlreadyExistsError(fmt::format("table {}: unique key {} = {} already exists",
                                                s.name, ColumnList(uk),
                                                RenderValues(s, idx, values)));
        }
      }
    }
    return Status::Ok();
  }

  Status CheckParents(const TableSchema& s, const Row& row) const {
    for (const ForeignKey& fk : s.foreign_keys) {
      std::vector<int> idx = s.ColumnIndexes(fk.columns);
      std::vector<Value> values = ValuesAt(row, idx);
      if (AnyNull(values)) continue;
      const TableSchema& parent = *model_.Find(fk.ref_table);
      std::vector<int> parent_idx = parent.ColumnIndexes(fk.ref_columns);
      // A row may refer to itself.
      bool found = parent.name == s.name && ValuesAt(row, parent_idx) == values;
      if (!found && parent_idx == parent.PrimaryKeyIndexes()) {
        found = Read(parent.name).rows.count(values) != 0;
      } else if (!found) {
        RWMETA_ASSIGN_OR_RETURN(const Index* index, IndexOf(parent, parent_idx));
        found = index->find(values) != index->end();
      }
      if (!found) {
        return FailedPreconditionError(
            fmt::format("table {}: foreign key {} = {} has no parent row in table {}", s.name,
                        ColumnList(fk.columns), RenderValues(s, idx, values), parent.name));
      }
    }
    return Status::Ok();
  }

  // An update must not change values that child rows refer to.
  Status CheckReferencedUnchanged(const TableSchema& s, const Row& old_row,
                                  const Row& new_row) const {
    for (const TableSchema& child : model_.tables()) {
      for (const ForeignKey& fk : child.foreign_keys) {
        if (fk.ref_table != s.name) continue;
        std::vector<int> idx = s.ColumnIndexes(fk.ref_columns);
        std::vector<Value> old_values = ValuesAt(old_row, idx);
        if (AnyNull(old_values) || ValuesAt(new_row, idx) == old_values) continue;
        RWMETA_ASSIGN_OR_RETURN(const Index* index,
                                IndexOf(child, child.ColumnIndexes(fk.columns)));
        if (index->find(old_values) != index->end()) {
          return FailedPreconditionError(fmt::format(
              "table {}: {} = {} is still referenced by table {}", s.name,
              ColumnList(fk.ref_columns), RenderValues(s, idx, old_values), child.name));
        }
      }
    }
    return Status::Ok();
  }

  const Model& model_;
  std::shared_ptr<MemoryMetaStore::State> state_;
  TableMap tables_;
  std::set<std::string, std::less<>> owned_;
  uint64_t base_version_;
  bool read_only_;
  bool wrote_ = false;
  bool finished_ = false;
};

}  // namespace

MemoryMetaStore::MemoryMetaStore(const Model& model) : MemoryMetaStore(model, NewState()) {}

MemoryMetaStore::MemoryMetaStore(const Model& model, std::shared_ptr<State> state)
    : model_(&model), state_(std::move(state)) {}

MemoryMetaStore::~MemoryMetaStore() = default;

Result<SchemaState> MemoryMetaStore::Inspect() {
  std::lock_guard<std::mutex> lock(state_->mu);
  SchemaState out;
  out.version = state_->schema_version;
  for (const auto& [name, data] : state_->tables) {
    if (!data->rows.empty()) out.empty = false;
  }
  return out;
}

Status MemoryMetaStore::Migrate() {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->schema_version > model_->version()) {
    return FailedPreconditionError(fmt::format(
        "memory meta store: schema version {} is newer than this binary's model version {}",
        state_->schema_version, model_->version()));
  }
  if (state_->schema_version == model_->version()) return Status::Ok();
  for (const TableSchema& t : model_->tables()) {
    // Indexes are rebuilt for every table: a new table's foreign key may refer to an old table's
    // columns.
    auto data = std::make_shared<TableData>();
    for (std::vector<int>& columns : IndexedColumns(*model_, t)) {
      data->indexes.emplace_back(IndexOrder(std::move(columns), t.PrimaryKeyIndexes()));
    }
    auto it = state_->tables.find(t.name);
    if (it != state_->tables.end()) {
      // Columns added after the table are nullable and appended: existing rows read them as NULL.
      for (const auto& [key, old_row] : it->second->rows) {
        auto row = std::make_shared<Row>(*old_row);
        row->resize(t.columns.size());
        data->Insert(key, std::move(row));
      }
    }
    state_->tables.insert_or_assign(t.name, std::move(data));
  }
  state_->schema_version = model_->version();
  ++state_->commit_version;
  return Status::Ok();
}

Status MemoryMetaStore::CheckVersion() const {
  if (state_->schema_version != model_->version()) {
    return FailedPreconditionError(
        fmt::format("memory meta store: schema version {}, this binary's model version is {}; "
                    "run Migrate",
                    state_->schema_version, model_->version()));
  }
  return Status::Ok();
}

Result<std::unique_ptr<Transaction>> MemoryMetaStore::BeginTransaction() {
  std::lock_guard<std::mutex> lock(state_->mu);
  RWMETA_RETURN_IF_ERROR(CheckVersion());
  return std::unique_ptr<Transaction>(std::make_unique<MemoryTransaction>(
      *model_, state_, state_->tables, state_->commit_version, /*read_only=*/false));
}

Result<std::unique_ptr<ReadView>> MemoryMetaStore::BeginSnapshotRead() {
  std::lock_guard<std::mutex> lock(state_->mu);
  RWMETA_RETURN_IF_ERROR(CheckVersion());
  return std::unique_ptr<ReadView>(std::make_unique<MemoryTransaction>(
      *model_, state_, state_->tables, state_->commit_version, /*read_only=*/true));
}

}  // namespace rwmeta::metastore
