#include "metastore/meta_store.h"

#include <fmt/format.h>

namespace rwmeta::metastore {

namespace {

// The default bulk load: one transaction, committed by Finish.
class TransactionBulkLoader final : public BulkLoader {
 public:
  explicit TransactionBulkLoader(std::unique_ptr<Transaction> txn) : txn_(std::move(txn)) {}
  Status Add(const TableSchema& table, const Row& row) override { return txn_->Insert(table, row); }
  Status Finish() override { return txn_->Commit(); }

 private:
  std::unique_ptr<Transaction> txn_;
};

}  // namespace

Status Transaction::Upsert(const TableSchema& table, const Row& row) {
  RWMETA_RETURN_IF_ERROR(ValidateRow(table, row));
  RWMETA_ASSIGN_OR_RETURN(std::optional<Row> existing, Get(table, KeyOf(table, row)));
  return existing.has_value() ? Update(table, row) : Insert(table, row);
}

Result<std::unique_ptr<BulkLoader>> MetaStore::BeginBulkLoad() {
  // An empty database gets the schema; one made by create-meta-store-schema is at the version.
  RWMETA_RETURN_IF_ERROR(Migrate());
  RWMETA_ASSIGN_OR_RETURN(auto txn, BeginTransaction());
  RWMETA_RETURN_IF_ERROR(CheckEmptyForBulkLoad(*this, *txn));
  return std::unique_ptr<BulkLoader>(std::make_unique<TransactionBulkLoader>(std::move(txn)));
}

Status CheckEmptyForBulkLoad(const MetaStore& store, ReadView& txn) {
  // Checked inside the load's transaction: the caller's own emptiness check came before it, and
  // rows committed in between must not be mixed with the loaded ones.
  // One CountEach: one statement for all tables where the backend can (SQL servers).
  std::vector<const TableSchema*> tables;
  for (const TableSchema& table : store.model().tables()) tables.push_back(&table);
  RWMETA_ASSIGN_OR_RETURN(std::vector<int64_t> counts, txn.CountEach(tables));
  for (size_t i = 0; i < tables.size() && i < counts.size(); ++i) {
    if (counts[i] > 0) {
      return FailedPreconditionError(fmt::format(
          "target meta store {} is not empty (table {} has {} rows, written while the restore "
          "was checking): nothing was written",
          store.DisplayUrl(), tables[i]->name, counts[i]));
    }
  }
  return Status::Ok();
}

Result<std::vector<int64_t>> ReadView::CountEach(std::span<const TableSchema* const> tables) {
  std::vector<int64_t> counts;
  counts.reserve(tables.size());
  for (const TableSchema* table : tables) {
    RWMETA_ASSIGN_OR_RETURN(int64_t n, Count(*table));
    counts.push_back(n);
  }
  return counts;
}

Status RunTransaction(MetaStore& store, const std::function<Status(Transaction&)>& body,
                      int max_attempts) {
  Status last;
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    auto txn = store.BeginTransaction();
    if (!txn.ok()) {
      if (IsAborted(txn.status())) {
        last = txn.status();
        continue;
      }
      return txn.status();
    }
    Status s = body(**txn);
    if (s.ok()) s = (*txn)->Commit();
    if (!IsAborted(s)) return s;
    last = s;
  }
  return last.WithContext(
      fmt::format("transaction gave up after {} conflicting attempts", max_attempts));
}

Result<int64_t> NextId(Transaction& txn, std::string_view sequence, int64_t count) {
  if (count < 1) return InvalidArgumentError("NextId: count must be positive");
  const TableSchema& table = Model::Get().Table("id_sequence");
  Key key{std::string(sequence)};
  RWMETA_ASSIGN_OR_RETURN(std::optional<Row> row, txn.Get(table, key));
  int64_t first = 1;
  if (row.has_value()) first = std::get<int64_t>((*row)[1]);
  Row updated{std::string(sequence), first + count};
  RWMETA_RETURN_IF_ERROR(txn.Upsert(table, updated));
  return first;
}

Result<int64_t> NextKey(Transaction& txn, const TableSchema& table) {
  if (table.id_sequence.empty()) {
    return InternalError("table " + table.name + " declares no id sequence for its key");
  }
  return NextId(txn, table.id_sequence);
}

}  // namespace rwmeta::metastore
