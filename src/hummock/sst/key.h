// Keys and values of the Hummock state store as they are stored in SST objects.
//
// Full key = (table_id u32, user key bytes, epoch u64), encoded as
//   table_id (4 bytes big-endian) | user key | ~epoch (8 bytes big-endian)
// so that, for one table and user key, newer epochs come first. SSTs order keys with
// CompareFullKeys (table id + user key byte-wise, then epoch descending). Plain byte-wise order of
// the encodings agrees with it whenever the user keys of a table are prefix-free, which the
// memcomparable encoding below guarantees; with arbitrary user keys ("a" vs "ab") it may not.
//
// Value = 1 flag byte (0 = put, 1 = tombstone) | value bytes (empty for a tombstone).
//
// Memcomparable encoding of primary-key tuples (EncodeMemcomparable): byte-wise order of the
// encodings equals the tuple order (element by element, NULL first, then by type tag, then value).
// Each datum is a tag byte followed by its payload:
//   0x01 NULL      (no payload; sorts before every non-null datum)
//   0x02 false / 0x03 true (no payload)
//   0x04 int64     8 bytes big-endian of (value XOR 0x8000000000000000)
//   0x05 double    8 bytes big-endian: bits with all bits flipped if negative, sign bit set if
//                  non-negative; -0.0 is encoded as +0.0 and NaN as the canonical quiet NaN
//                  (sorts after +inf)
//   0x06 string    the bytes, with 0x00 written as 0x00 0xFF, terminated by 0x00 0x01
// The tags make mixed-type tuples decodable; within a column all datums have one type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace rwmeta::hummock {

inline constexpr size_t kTableIdBytes = 4;
inline constexpr size_t kEpochBytes = 8;
inline constexpr size_t kMinFullKeyBytes = kTableIdBytes + kEpochBytes;

// A decoded full key. Views point into the encoded bytes they came from.
struct FullKeyView {
  uint32_t table_id = 0;
  std::string_view user_key;
  uint64_t epoch = 0;
};

// Encodes (table_id, user_key, epoch) as described above.
std::string EncodeFullKey(uint32_t table_id, std::string_view user_key, uint64_t epoch);
// Appends the encoding to *out.
void AppendFullKey(uint32_t table_id, std::string_view user_key, uint64_t epoch, std::string* out);

// Splits an encoded full key. DataLoss if it is shorter than 12 bytes. The views borrow `encoded`.
Result<FullKeyView> DecodeFullKey(std::string_view encoded);

// The table id + user key part of an encoded full key (everything but the epoch suffix): what the
// bloom filter and point lookups key on. REQUIRES: encoded.size() >= kMinFullKeyBytes.
std::string_view TableUserKeyOf(std::string_view encoded);
// The epoch of an encoded full key. REQUIRES: encoded.size() >= kMinFullKeyBytes.
uint64_t EpochOf(std::string_view encoded);

// Orders encoded full keys: by table id + user key byte-wise, then by epoch descending.
// Negative, zero or positive like memcmp. Keys shorter than 12 bytes compare byte-wise (garbage
// in, a total order out).
int CompareFullKeys(std::string_view a, std::string_view b);

// A stored value: a put of `bytes`, or a tombstone (delete) with empty bytes.
struct Value {
  bool tombstone = false;
  std::string bytes;

  static Value Put(std::string bytes) { return Value{false, std::move(bytes)}; }
  static Value Delete() { return Value{true, {}}; }
  friend bool operator==(const Value&, const Value&) = default;
};

std::string EncodeValue(const Value& value);
void AppendValue(bool tombstone, std::string_view bytes, std::string* out);
// DataLoss if `encoded` is empty, has an unknown flag, or is a tombstone with bytes.
Result<Value> DecodeValue(std::string_view encoded);

// ---- memcomparable primary keys ----

struct Null {
  friend bool operator==(Null, Null) { return true; }
};
// One primary-key column value.
using Datum = std::variant<Null, bool, int64_t, double, std::string>;

// Appends the memcomparable encoding of `datums` (see the header comment) to *out.
void EncodeMemcomparable(const std::vector<Datum>& datums, std::string* out);
std::string EncodeMemcomparable(const std::vector<Datum>& datums);

// Decodes a whole encoded tuple. DataLoss on an unknown tag, a truncated datum, or a bad escape.
// -0.0 decodes as +0.0 and every NaN as the canonical quiet NaN.
Result<std::vector<Datum>> DecodeMemcomparable(std::string_view encoded);

}  // namespace rwmeta::hummock
