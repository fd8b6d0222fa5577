#include "metastore/row_errors.h"

#include <fmt/format.h>

namespace rwmeta::metastore {

std::string RenderValues(const TableSchema& table, const std::vector<int>& idx,
                         const std::vector<Value>& values) {
  std::string out = "(";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += ValueToString(values[i], table.columns[idx[i]].type);
  }
  return out + ")";
}

std::string RenderKey(const TableSchema& table, const Key& key) {
  return RenderValues(table, table.PrimaryKeyIndexes(), key);
}

Status RowNotFoundError(const TableSchema& table, const Key& key) {
  return NotFoundError(
      fmt::format("table {}: no row with primary key {}", table.name, RenderKey(table, key)));
}

}  // namespace rwmeta::metastore
