#include "pgwire/values.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <limits>

#include "pgwire/message.h"
#include "pgwire/session.h"

namespace rwmeta::pgwire {

namespace {

Status Unsupported(uint32_t type_oid) {
  return InvalidArgumentError("binary format is not supported for type oid " +
                              std::to_string(type_oid))
      .WithSqlState("0A000");
}

Status BadBinary(uint32_t type_oid, size_t size) {
  return InvalidArgumentError("incorrect binary data format: " + std::to_string(size) +
                              " bytes for type oid " + std::to_string(type_oid))
      .WithSqlState("22P03");
}

Status BadText(uint32_t type_oid, std::string_view text) {
  return InvalidArgumentError("invalid input for type oid " + std::to_string(type_oid) + ": \"" +
                              std::string(text) + "\"")
      .WithSqlState("22P02");
}

bool IsTextType(uint32_t oid) { return oid == kTextOid || oid == kVarcharOid || oid == kNameOid; }

// PostgreSQL's text output for floats: shortest round-trip digits, NaN, Infinity, -Infinity.
template <typename F>
std::string FloatToText(F v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;  // 64 bytes always hold the shortest representation of a double
  return std::string(buf, end);
}

template <typename F>
bool ParseFloat(std::string_view text, F* out) {
  // from_chars accepts "nan", "inf" and "infinity" in any case but not a leading '+'.
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

template <typename I>
bool ParseInt(std::string_view text, I* out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

bool SupportsBinary(uint32_t oid) {
  switch (oid) {
    case kBoolOid:
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kFloat4Oid:
    case kFloat8Oid:
      return true;
    default:
      return IsTextType(oid);
  }
}

Result<std::string> BinaryToText(uint32_t oid, std::string_view b) {
  switch (oid) {
    case kBoolOid:
      if (b.size() != 1) return BadBinary(oid, b.size());
      return std::string(b[0] != 0 ? "t" : "f");
    case kInt2Oid:
      if (b.size() != 2) return BadBinary(oid, b.size());
      return std::to_string(DecodeInt16(b));
    case kInt4Oid:
      if (b.size() != 4) return BadBinary(oid, b.size());
      return std::to_string(DecodeInt32(b));
    case kInt8Oid:
      if (b.size() != 8) return BadBinary(oid, b.size());
      return std::to_string(DecodeInt64(b));
    case kFloat4Oid:
      if (b.size() != 4) return BadBinary(oid, b.size());
      return FloatToText(std::bit_cast<float>(static_cast<uint32_t>(DecodeInt32(b))));
    case kFloat8Oid:
      if (b.size() != 8) return BadBinary(oid, b.size());
      return FloatToText(std::bit_cast<double>(static_cast<uint64_t>(DecodeInt64(b))));
    default:
      if (IsTextType(oid)) return std::string(b);
      return Unsupported(oid);
  }
}

Result<std::string> TextToBinary(uint32_t oid, std::string_view text) {
  std::string out;
  switch (oid) {
    case kBoolOid: {
      // The spellings PostgreSQL's boolin accepts most often; the front end emits "t"/"f".
      if (text == "t" || text == "true" || text == "TRUE" || text == "1" || text == "on" ||
          text == "yes") {
        out.push_back('\1');
      } else if (text == "f" || text == "false" || text == "FALSE" || text == "0" ||
                 text == "off" || text == "no") {
        out.push_back('\0');
      } else {
        return BadText(oid, text);
      }
      return out;
    }
    case kInt2Oid: {
      int16_t v = 0;
      if (!ParseInt(text, &v)) return BadText(oid, text);
      AppendInt16(&out, v);
      return out;
    }
    case kInt4Oid: {
      int32_t v = 0;
      if (!ParseInt(text, &v)) return BadText(oid, text);
      AppendInt32(&out, v);
      return out;
    }
    case kInt8Oid: {
      int64_t v = 0;
      if (!ParseInt(text, &v)) return BadText(oid, text);
      AppendInt64(&out, v);
      return out;
    }
    case kFloat4Oid: {
      float v = 0;
      if (!ParseFloat(text, &v)) return BadText(oid, text);
      AppendInt32(&out, static_cast<int32_t>(std::bit_cast<uint32_t>(v)));
      return out;
    }
    case kFloat8Oid: {
      double v = 0;
      if (!ParseFloat(text, &v)) return BadText(oid, text);
      AppendInt64(&out, static_cast<int64_t>(std::bit_cast<uint64_t>(v)));
      return out;
    }
    default:
      if (IsTextType(oid)) return std::string(text);
      return Unsupported(oid);
  }
}

}  // namespace rwmeta::pgwire
