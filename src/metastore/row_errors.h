// How every MetaStore backend names rows in its errors, so that a missing or duplicate key reads
// the same whichever backend reported it.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "metastore/model.h"

namespace rwmeta::metastore {

// "(v1, v2)": `values` rendered with ValueToString by the types of `table`'s columns `idx`.
std::string RenderValues(const TableSchema& table, const std::vector<int>& idx,
                         const std::vector<Value>& values);

// The primary key `key` of `table`, rendered as RenderValues does.
std::string RenderKey(const TableSchema& table, const Key& key);

// NotFound "table t: no row with primary key (k)", what Update and Delete return for a missing row.
Status RowNotFoundError(const TableSchema& table, const Key& key);

}  // namespace rwmeta::metastore
