// The etcd meta store's key layout and row encoding (docs/metastore-etcd.md describes both; change
// them together). Pure functions, no I/O.
//
// Keys under the store's prefix P (for example "/rwmeta"):
//   P/meta/version              the model (schema) version, decimal text: "1"
//   P/meta/restore_incomplete   present while a bulk load (restore) is in progress or was cut short
//   P/guard/<table>             rewritten by every commit that writes <table>; a transaction that
//                               read a range of <table> compares it (phantom protection)
//   P/data/<table>/<pk>         one row; <pk> is the memcomparable encoding of its primary key, so
//                               etcd's bytewise key order is the primary-key order
//
// Row values: format byte 0x01, varint count of values, then per value a tag byte
// (0 NULL, 1 int64 as 8 bytes big-endian, 2 double as 8 bytes big-endian IEEE-754, 3 false,
// 4 true, 5 string: varint length + bytes). Values are in the table's column order; a row stored
// before a nullable column was added has fewer values, and the missing trailing ones read as NULL.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "metastore/model.h"

namespace rwmeta::metastore::etcd {

// Row value format version. Reaches etcd: never reuse.
inline constexpr char kRowFormatV1 = 0x01;

// Key names under the prefix. Reach etcd: never change.
std::string VersionKey(std::string_view prefix);
std::string MarkerKey(std::string_view prefix);
// The range holding both keys above.
std::string MetaPrefix(std::string_view prefix);
std::string GuardKey(std::string_view prefix, std::string_view table);
// "P/data/<table>/": every row key of `table` starts with it.
std::string TablePrefix(std::string_view prefix, std::string_view table);
// "P/data/": every row key of every table.
std::string DataPrefix(std::string_view prefix);
// Every key of the store: "P/".
std::string StorePrefix(std::string_view prefix);

// The smallest key greater than every key that starts with `prefix` (etcd's range_end for a prefix
// scan): the prefix with its last byte incremented, dropping trailing 0xff bytes; "\0" (every key)
// if the prefix is all 0xff or empty.
std::string PrefixEnd(std::string_view prefix);

// Memcomparable encoding of `key`: for two keys of one table, bytewise order of the encodings is
// the order of the keys (integers and doubles numerically, bool false < true, text and bytes
// bytewise, column by column). REQUIRES: ValidateKey(table, key) is OK.
std::string EncodeKey(const TableSchema& table, const Key& key);

// TablePrefix(prefix, table.name) + EncodeKey(table, key).
std::string RowKey(std::string_view prefix, const TableSchema& table, const Key& key);

// REQUIRES: ValidateRow(table, row) is OK.
std::string EncodeRow(const Row& row);

// Decodes a value written by EncodeRow for `table` (stored at `key`, named in errors).
// Unimplemented for an unknown format byte; DataLoss if the bytes are truncated, have trailing
// garbage, hold more values than the table has columns, a value of the wrong type, a NULL in a
// non-nullable column, or miss a non-nullable trailing column.
Result<Row> DecodeRow(const TableSchema& table, std::string_view bytes, std::string_view key);

// Renders bytes for messages: printable ASCII as is, others as \xNN.
std::string PrintableKey(std::string_view key);

}  // namespace rwmeta::metastore::etcd
