#include "metastore/meta_store.h"

#include <fmt/format.h>

namespace rwmeta::metastore {

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

}  // namespace rwmeta::metastore
