#include "hummock/sst/key.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/coding.h"

namespace rwmeta::hummock {
namespace {

constexpr uint8_t kTagNull = 0x01;
constexpr uint8_t kTagFalse = 0x02;
constexpr uint8_t kTagTrue = 0x03;
constexpr uint8_t kTagInt64 = 0x04;
constexpr uint8_t kTagDouble = 0x05;
constexpr uint8_t kTagString = 0x06;
constexpr uint64_t kSignBit = 0x8000000000000000ULL;

uint64_t DoubleToOrderedBits(double d) {
  if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
  if (d == 0.0) d = 0.0;  // -0.0 == 0.0: one encoding for both.
  uint64_t bits = std::bit_cast<uint64_t>(d);
  return (bits & kSignBit) ? ~bits : (bits | kSignBit);
}
double OrderedBitsToDouble(uint64_t v) {
  uint64_t bits = (v & kSignBit) ? (v & ~kSignBit) : ~v;
  return std::bit_cast<double>(bits);
}

}  // namespace

void AppendFullKey(uint32_t table_id, std::string_view user_key, uint64_t epoch, std::string* out) {
  out->reserve(out->size() + kMinFullKeyBytes + user_key.size());
  PutBigEndian32(out, table_id);
  out->append(user_key);
  PutBigEndian64(out, ~epoch);
}

std::string EncodeFullKey(uint32_t table_id, std::string_view user_key, uint64_t epoch) {
  std::string out;
  AppendFullKey(table_id, user_key, epoch, &out);
  return out;
}

Result<FullKeyView> DecodeFullKey(std::string_view encoded) {
  if (encoded.size() < kMinFullKeyBytes) {
    return DataLossError("full key of " + std::to_string(encoded.size()) +
                         " bytes is shorter than 12");
  }
  FullKeyView view;
  view.table_id = DecodeBigEndian32(encoded.data());
  view.user_key = encoded.substr(kTableIdBytes, encoded.size() - kTableIdBytes - kEpochBytes);
  view.epoch = EpochOf(encoded);
  return view;
}

std::string_view TableUserKeyOf(std::string_view encoded) {
  return encoded.substr(0, encoded.size() - kEpochBytes);
}

uint64_t EpochOf(std::string_view encoded) {
  return ~DecodeBigEndian64(encoded.data() + encoded.size() - kEpochBytes);
}

int CompareFullKeys(std::string_view a, std::string_view b) {
  if (a.size() < kMinFullKeyBytes || b.size() < kMinFullKeyBytes) return a.compare(b);
  int c = TableUserKeyOf(a).compare(TableUserKeyOf(b));
  if (c != 0) return c;
  // The suffixes are ~epoch big-endian: byte-wise order is epoch descending.
  return a.substr(a.size() - kEpochBytes).compare(b.substr(b.size() - kEpochBytes));
}

void AppendValue(bool tombstone, std::string_view bytes, std::string* out) {
  out->push_back(tombstone ? 1 : 0);
  out->append(bytes);
}

std::string EncodeValue(const Value& value) {
  std::string out;
  AppendValue(value.tombstone, value.bytes, &out);
  return out;
}

Result<Value> DecodeValue(std::string_view encoded) {
  if (encoded.empty()) return DataLossError("empty value (no flag byte)");
  uint8_t flag = static_cast<uint8_t>(encoded[0]);
  if (flag == 0) return Value::Put(std::string(encoded.substr(1)));
  if (flag == 1) {
    if (encoded.size() != 1) return DataLossError("tombstone value carries bytes");
    return Value::Delete();
  }
  return DataLossError("unknown value flag " + std::to_string(flag));
}

void EncodeMemcomparable(const std::vector<Datum>& datums, std::string* out) {
  for (const Datum& d : datums) {
    if (std::holds_alternative<Null>(d)) {
      out->push_back(static_cast<char>(kTagNull));
    } else if (const bool* b = std::get_if<bool>(&d)) {
      out->push_back(static_cast<char>(*b ? kTagTrue : kTagFalse));
    } else if (const int64_t* i = std::get_if<int64_t>(&d)) {
      out->push_back(static_cast<char>(kTagInt64));
      PutBigEndian64(out, static_cast<uint64_t>(*i) ^ kSignBit);
    } else if (const double* f = std::get_if<double>(&d)) {
      out->push_back(static_cast<char>(kTagDouble));
      PutBigEndian64(out, DoubleToOrderedBits(*f));
    } else {
      const std::string& s = std::get<std::string>(d);
      out->push_back(static_cast<char>(kTagString));
      for (char c : s) {
        out->push_back(c);
        if (c == '\0') out->push_back(static_cast<char>(0xFF));
      }
      out->push_back('\0');
      out->push_back('\x01');
    }
  }
}

std::string EncodeMemcomparable(const std::vector<Datum>& datums) {
  std::string out;
  EncodeMemcomparable(datums, &out);
  return out;
}

Result<std::vector<Datum>> DecodeMemcomparable(std::string_view encoded) {
  std::vector<Datum> out;
  size_t pos = 0;
  while (pos < encoded.size()) {
    uint8_t tag = static_cast<uint8_t>(encoded[pos++]);
    switch (tag) {
      case kTagNull:
        out.emplace_back(Null{});
        break;
      case kTagFalse:
      case kTagTrue:
        out.emplace_back(tag == kTagTrue);
        break;
      case kTagInt64:
      case kTagDouble: {
        if (encoded.size() - pos < 8) {
          return DataLossError("memcomparable: truncated number at byte " + std::to_string(pos));
        }
        uint64_t v = DecodeBigEndian64(encoded.data() + pos);
        pos += 8;
        if (tag == kTagInt64) {
          out.emplace_back(static_cast<int64_t>(v ^ kSignBit));
        } else {
          out.emplace_back(OrderedBitsToDouble(v));
        }
        break;
      }
      case kTagString: {
        std::string s;
        bool terminated = false;
        while (pos < encoded.size()) {
          char c = encoded[pos++];
          if (c != '\0') {
            s.push_back(c);
            continue;
          }
          if (pos >= encoded.size()) break;
          uint8_t next = static_cast<uint8_t>(encoded[pos++]);
          if (next == 0xFF) {
            s.push_back('\0');
          } else if (next == 0x01) {
            terminated = true;
            break;
          } else {
            return DataLossError("memcomparable: bad string escape at byte " +
                                 std::to_string(pos - 1));
          }
        }
        if (!terminated) return DataLossError("memcomparable: unterminated string");
        out.emplace_back(std::move(s));
        break;
      }
      default:
        return DataLossError("memcomparable: unknown tag " + std::to_string(tag) + " at byte " +
                             std::to_string(pos - 1));
    }
  }
  return out;
}

}  // namespace rwmeta::hummock
