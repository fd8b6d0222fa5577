// The one declarative model of everything the meta service stores.
//
// Every backend derives its storage from this list: SQL backends create real tables (with primary,
// unique and foreign keys) through versioned migrations computed from `added_in_version`; etcd
// derives a key layout. Meta snapshots contain every table whose `in_snapshot` is true, by
// iterating this list, so a table added here can never be silently missing from backups.
//
// Rules for changing the model (they keep old stores and old snapshots readable):
// - Never rename or remove a table or column, never change a type. Add new ones with
//   `added_in_version = kModelVersion` after bumping kModelVersion.
// - A column added after its table must be nullable or have a default, and is listed after every
//   older column (SQL backends append it with ALTER TABLE ... ADD COLUMN; Validate checks this).
// - Tables are listed parents before children, so inserting in list order satisfies foreign keys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace rwmeta::metastore {

// The model's schema version. Reaches disk (migration bookkeeping, snapshot headers): only ever
// grows.
// 1: the first model. 2: cluster.generation (src/hummock/cluster/generation.h).
inline constexpr int kModelVersion = 2;

// The id sequence meta snapshot ids (and backup job ids: a job's id is its snapshot's) come from:
// the `id_sequence` of table backup_job, re-exported as backup::kSnapshotIdSequence. It is declared
// here because the model names it, and the model knows nothing above the meta store. Reaches disk.
inline constexpr char kSnapshotIdSequence[] = "meta_backup";

// Storage types. Values reach disk: never renumber.
enum class ColumnType : int {
  kInt64 = 1,   // INTEGER / BIGINT
  kDouble = 2,  // REAL / DOUBLE PRECISION
  kBool = 3,    // stored as 0/1 where the backend has no boolean
  kText = 4,    // UTF-8 text
  kBytes = 5,   // arbitrary bytes (BLOB / BYTEA / LONGBLOB)
  kJson = 6,    // JSON document kept as text, byte for byte
};

std::string_view ColumnTypeName(ColumnType type);

struct ColumnSchema {
  std::string name;
  ColumnType type;
  bool nullable = false;
  int added_in_version = 1;
};

struct ForeignKey {
  std::vector<std::string> columns;
  std::string ref_table;
  std::vector<std::string> ref_columns;
  // When the parent row is deleted: delete this row too (true) or refuse the delete (false).
  bool on_delete_cascade = false;
};

struct TableSchema {
  std::string name;
  std::vector<ColumnSchema> columns;
  std::vector<std::string> primary_key;
  std::vector<std::vector<std::string>> unique_keys;
  std::vector<ForeignKey> foreign_keys;
  int added_in_version = 1;
  // False only for runtime state that must not survive a restore (reader pins, in-flight jobs);
  // the reason is written beside the table in model.cc.
  bool in_snapshot = true;
  // The id_sequence row whose NextKey hands out this table's primary key (one int64 column), or
  // empty if the key does not come from a sequence. Ids are never reused, so in a consistent store
  // the sequence's next_value is above every key of the table (restore drills check this). The
  // name reaches disk: never change it.
  std::string id_sequence = {};

  // Position of the column named `name` in `columns`, or -1.
  int ColumnIndex(std::string_view name) const;
  // Positions of the columns named `names`, in that order (-1 for an unknown name).
  std::vector<int> ColumnIndexes(const std::vector<std::string>& names) const;
  // Positions of the primary-key columns, in key order.
  std::vector<int> PrimaryKeyIndexes() const { return ColumnIndexes(primary_key); }
};

// A stored value. Which alternative is used is fixed by the column's type: kInt64 → int64_t,
// kDouble → double, kBool → bool, kText/kBytes/kJson → std::string. NULL is std::monostate.
using Value = std::variant<std::monostate, int64_t, double, bool, std::string>;

// One row: values in the table's column order.
using Row = std::vector<Value>;
// A primary key: values in primary_key order.
using Key = std::vector<Value>;

inline bool IsNull(const Value& v) { return std::holds_alternative<std::monostate>(v); }

// Checks that `row` has one value per column, each of the column's type or NULL where nullable.
// InvalidArgument naming the table and column otherwise.
Status ValidateRow(const TableSchema& table, const Row& row);

// Checks that `key` has one non-NULL value per primary-key column, each of the column's type.
// InvalidArgument naming the table and column otherwise.
Status ValidateKey(const TableSchema& table, const Key& key);

// The values of `row` at `indexes` (from ColumnIndexes), in that order.
std::vector<Value> ValuesAt(const Row& row, const std::vector<int>& indexes);

// Whether any of `values` is NULL (a unique key with a NULL column constrains nothing).
bool AnyNull(const std::vector<Value>& values);

// The primary key of `row`.
Key KeyOf(const TableSchema& table, const Row& row);

// Renders a value for messages and logs: NULL, 42, 'text', x'00ff'.
std::string ValueToString(const Value& v, ColumnType type);

class Model {
 public:
  // The model compiled into this binary.
  static const Model& Get();

  int version() const { return version_; }
  // Parents before children.
  const std::vector<TableSchema>& tables() const { return tables_; }
  // nullptr if there is no such table.
  const TableSchema* Find(std::string_view name) const;
  // Like Find, for names the code knows exist. REQUIRES: the table exists.
  const TableSchema& Table(std::string_view name) const;

  // Checks the model's own consistency: unique names, keys and foreign keys naming existing
  // columns, parents listed before children, added_in_version within range. Internal on a
  // violation.
  Status Validate() const;

  Model(int version, std::vector<TableSchema> tables)
      : version_(version), tables_(std::move(tables)) {}

 private:
  int version_;
  std::vector<TableSchema> tables_;
};

}  // namespace rwmeta::metastore
