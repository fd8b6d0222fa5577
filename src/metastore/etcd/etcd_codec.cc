#include "metastore/etcd/etcd_codec.h"

#include <fmt/format.h>

#include <bit>
#include <cstdint>
#include <cstring>

#include "common/coding.h"

namespace rwmeta::metastore::etcd {

namespace {

// Row value tags. Reach etcd: never renumber.
constexpr uint8_t kTagNull = 0;
constexpr uint8_t kTagInt64 = 1;
constexpr uint8_t kTagDouble = 2;
constexpr uint8_t kTagFalse = 3;
constexpr uint8_t kTagTrue = 4;
constexpr uint8_t kTagString = 5;

// Flips the sign bit of integers and orders doubles as their numeric value when compared as
// unsigned big-endian bytes.
uint64_t OrderedInt(int64_t v) { return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63); }

uint64_t OrderedDouble(double d) {
  uint64_t bits = std::bit_cast<uint64_t>(d);
  return (bits & (uint64_t{1} << 63)) != 0 ? ~bits : bits ^ (uint64_t{1} << 63);
}

bool TypeMatchesTag(ColumnType type, uint8_t tag) {
  switch (type) {
    case ColumnType::kInt64:
      return tag == kTagInt64;
    case ColumnType::kDouble:
      return tag == kTagDouble;
    case ColumnType::kBool:
      return tag == kTagFalse || tag == kTagTrue;
    case ColumnType::kText:
    case ColumnType::kBytes:
    case ColumnType::kJson:
      return tag == kTagString;
  }
  return false;
}

}  // namespace

std::string StorePrefix(std::string_view prefix) { return std::string(prefix) + "/"; }
std::string MetaPrefix(std::string_view prefix) { return std::string(prefix) + "/meta/"; }
std::string VersionKey(std::string_view prefix) { return MetaPrefix(prefix) + "version"; }
std::string MarkerKey(std::string_view prefix) { return MetaPrefix(prefix) + "restore_incomplete"; }
std::string GuardKey(std::string_view prefix, std::string_view table) {
  return fmt::format("{}/guard/{}", prefix, table);
}
std::string DataPrefix(std::string_view prefix) { return std::string(prefix) + "/data/"; }
std::string TablePrefix(std::string_view prefix, std::string_view table) {
  return fmt::format("{}/data/{}/", prefix, table);
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<uint8_t>(end.back()) != 0xff) {
      end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

std::string EncodeKey(const TableSchema& table, const Key& key) {
  std::string out;
  std::vector<int> idx = table.PrimaryKeyIndexes();
  for (size_t i = 0; i < key.size(); ++i) {
    const Value& v = key[i];
    switch (table.columns[idx[i]].type) {
      case ColumnType::kInt64:
        PutBigEndian64(&out, OrderedInt(std::get<int64_t>(v)));
        break;
      case ColumnType::kDouble:
        PutBigEndian64(&out, OrderedDouble(std::get<double>(v)));
        break;
      case ColumnType::kBool:
        out.push_back(std::get<bool>(v) ? '\x01' : '\x00');
        break;
      case ColumnType::kText:
      case ColumnType::kBytes:
      case ColumnType::kJson:
        // 0x00 is escaped as 0x00 0xff and the string ends with 0x00 0x01: a string that is a
        // prefix of another sorts first, and a later key column cannot change that order.
        for (char c : std::get<std::string>(v)) {
          out.push_back(c);
          if (c == '\0') out.push_back('\xff');
        }
        out.append("\x00\x01", 2);
        break;
    }
  }
  return out;
}

std::string RowKey(std::string_view prefix, const TableSchema& table, const Key& key) {
  return TablePrefix(prefix, table.name) + EncodeKey(table, key);
}

std::string EncodeRow(const Row& row) {
  std::string out;
  out.push_back(kRowFormatV1);
  PutVarint64(&out, row.size());
  for (const Value& v : row) {
    if (IsNull(v)) {
      out.push_back(static_cast<char>(kTagNull));
    } else if (const auto* i = std::get_if<int64_t>(&v)) {
      out.push_back(static_cast<char>(kTagInt64));
      PutBigEndian64(&out, static_cast<uint64_t>(*i));
    } else if (const auto* d = std::get_if<double>(&v)) {
      out.push_back(static_cast<char>(kTagDouble));
      PutBigEndian64(&out, std::bit_cast<uint64_t>(*d));
    } else if (const auto* b = std::get_if<bool>(&v)) {
      out.push_back(static_cast<char>(*b ? kTagTrue : kTagFalse));
    } else {
      const auto& s = std::get<std::string>(v);
      out.push_back(static_cast<char>(kTagString));
      PutLengthPrefixedSlice(&out, s);
    }
  }
  return out;
}

Result<Row> DecodeRow(const TableSchema& table, std::string_view bytes, std::string_view key) {
  auto corrupt = [&](const std::string& why) {
    return DataLossError(
        fmt::format("etcd key {} (table {}): {}", PrintableKey(key), table.name, why));
  };
  if (bytes.empty()) return corrupt("empty value");
  if (bytes.front() != kRowFormatV1) {
    return UnimplementedError(
        fmt::format("etcd key {} (table {}): unknown row format {} (this binary reads format {})",
                    PrintableKey(key), table.name, static_cast<int>(uint8_t(bytes.front())),
                    static_cast<int>(kRowFormatV1)));
  }
  std::string_view in = bytes.substr(1);
  uint64_t count = 0;
  if (!GetVarint64(&in, &count)) return corrupt("truncated value count");
  if (count > table.columns.size()) {
    return corrupt(fmt::format("{} values, the table has {} columns", count, table.columns.size()));
  }
  Row row;
  row.reserve(table.columns.size());
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const ColumnSchema& col = table.columns[i];
    if (i >= count) {
      // Written before this column was added (columns are only ever appended, nullable).
      if (!col.nullable) return corrupt(fmt::format("column {} is missing", col.name));
      row.emplace_back(std::monostate{});
      continue;
    }
    if (in.empty()) return corrupt(fmt::format("truncated at column {}", col.name));
    uint8_t tag = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    if (tag == kTagNull) {
      if (!col.nullable) return corrupt(fmt::format("NULL in non-nullable column {}", col.name));
      row.emplace_back(std::monostate{});
      continue;
    }
    if (!TypeMatchesTag(col.type, tag)) {
      return corrupt(fmt::format("column {} holds value tag {}, expected a {}", col.name, tag,
                                 ColumnTypeName(col.type)));
    }
    switch (tag) {
      case kTagInt64:
      case kTagDouble: {
        if (in.size() < 8) return corrupt(fmt::format("truncated at column {}", col.name));
        uint64_t bits = DecodeBigEndian64(in.data());
        in.remove_prefix(8);
        if (tag == kTagInt64) {
          row.emplace_back(static_cast<int64_t>(bits));
        } else {
          row.emplace_back(std::bit_cast<double>(bits));
        }
        break;
      }
      case kTagFalse:
      case kTagTrue:
        row.emplace_back(tag == kTagTrue);
        break;
      default: {
        std::string_view text;
        if (!GetLengthPrefixedSlice(&in, &text)) {
          return corrupt(fmt::format("truncated at column {}", col.name));
        }
        row.emplace_back(std::string(text));
        break;
      }
    }
  }
  if (!in.empty()) return corrupt(fmt::format("{} trailing bytes", in.size()));
  return row;
}

std::string PrintableKey(std::string_view key) {
  std::string out;
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

}  // namespace rwmeta::metastore::etcd
