#include "frontend/sql/datum.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "frontend/sql/decimal.h"
#include "frontend/sql/sql_error.h"

namespace rwmeta::frontend::sql {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

Status InvalidInput(TypeId type, const std::string& text) {
  return BadText("invalid input syntax for type " + TypeName(type) + ": \"" + text + "\"");
}

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Parses "YYYY-MM-DD" at the start of `s`; sets *consumed.
bool ParseDatePart(const std::string& s, int64_t* days, size_t* consumed) {
  int y = 0, mo = 0, d = 0, n = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%d%n", &y, &mo, &d, &n) != 3) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1) return false;
  if (d > kDays[mo - 1] + (mo == 2 && IsLeap(y) ? 1 : 0)) return false;
  *days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  *consumed = static_cast<size_t>(n);
  return true;
}

std::string FormatDate(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

// PostgreSQL's float output (extra_float_digits = 1): shortest round-trip digits, fixed notation
// when the decimal exponent is in [-4, precision), else d.ddde+XX.
std::string FormatFloat(double v, bool is_float4) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  char buf[64];
  std::to_chars_result r =
      is_float4 ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v),
                                std::chars_format::scientific)
                : std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  // sci = [-]d[.ddd]e[+-]XX
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t epos = sci.find('e');
  int exp = std::stoi(sci.substr(epos + 1));
  std::string digits = sci.substr(0, epos);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int precision = is_float4 ? 6 : 15;
  std::string out;
  if (exp < -4 || exp >= precision) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += e;
  } else if (exp < 0) {
    out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  } else {
    size_t int_len = static_cast<size_t>(exp) + 1;
    if (digits.size() <= int_len) {
      out = digits + std::string(int_len - digits.size(), '0');
    } else {
      out = digits.substr(0, int_len) + "." + digits.substr(int_len);
    }
  }
  return neg ? "-" + out : out;
}

// jsonb's text form: keys ordered by length then bytes, ", " and ": " separators.
void JsonbOut(const nlohmann::json& j, std::string* out) {
  if (j.is_object()) {
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
    std::sort(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) {
      return a.size() != b.size() ? a.size() < b.size() : a < b;
    });
    *out += "{";
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i) *out += ", ";
      *out += nlohmann::json(keys[i]).dump();
      *out += ": ";
      JsonbOut(j.at(keys[i]), out);
    }
    *out += "}";
  } else if (j.is_array()) {
    *out += "[";
    for (size_t i = 0; i < j.size(); ++i) {
      if (i) *out += ", ";
      JsonbOut(j[i], out);
    }
    *out += "]";
  } else {
    *out += j.dump();
  }
}

std::string ArrayElementOut(const std::string& e) {
  bool quote = e.empty() || Lower(e) == "null";
  for (char c : e) {
    if (c == ',' || c == '{' || c == '}' || c == '"' || c == '\\' ||
        std::isspace(static_cast<unsigned char>(c))) {
      quote = true;
    }
  }
  if (!quote) return e;
  std::string out = "\"";
  for (char c : e) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

Result<std::vector<std::string>> ParseTextArray(const std::string& text) {
  std::string s = Trim(text);
  auto bad = [&] { return BadText("malformed array literal: \"" + text + "\""); };
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return bad();
  std::vector<std::string> out;
  size_t i = 1, end = s.size() - 1;
  while (i < end && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  if (i == end) return out;
  while (true) {
    while (i < end && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::string elem;
    if (i < end && s[i] == '"') {
      ++i;
      while (i < end && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < end) ++i;
        elem += s[i++];
      }
      if (i >= end) return bad();
      ++i;
    } else {
      while (i < end && s[i] != ',') elem += s[i++];
      elem = Trim(elem);
      if (elem.empty()) return bad();
    }
    out.push_back(elem);
    while (i < end && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i == end) break;
    if (s[i] != ',') return bad();
    ++i;
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Result<Datum> ParseInteger(const std::string& text, TypeId type) {
  std::string s = Trim(text);
  int64_t v = 0;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec == std::errc::result_out_of_range) {
    return OutOfRange("value \"" + text + "\" is out of range for type " + TypeName(type));
  }
  if (ec != std::errc() || p != e || s.empty()) return InvalidInput(type, text);
  int64_t lo = type == TypeId::kInt16   ? std::numeric_limits<int16_t>::min()
               : type == TypeId::kInt32 ? std::numeric_limits<int32_t>::min()
                                        : std::numeric_limits<int64_t>::min();
  int64_t hi = type == TypeId::kInt16   ? std::numeric_limits<int16_t>::max()
               : type == TypeId::kInt32 ? std::numeric_limits<int32_t>::max()
                                        : std::numeric_limits<int64_t>::max();
  if (v < lo || v > hi) {
    return OutOfRange("value \"" + text + "\" is out of range for type " + TypeName(type));
  }
  return Datum{v};
}

}  // namespace

uint32_t PgTypeOid(TypeId type) {
  switch (type) {
    case TypeId::kUnknown:
      return 705;
    case TypeId::kBoolean:
      return 16;
    case TypeId::kInt16:
      return 21;
    case TypeId::kInt32:
      return 23;
    case TypeId::kInt64:
      return 20;
    case TypeId::kFloat32:
      return 700;
    case TypeId::kFloat64:
      return 701;
    case TypeId::kDecimal:
      return 1700;
    case TypeId::kVarchar:
      return 1043;
    case TypeId::kDate:
      return 1082;
    case TypeId::kTimestamp:
      return 1114;
    case TypeId::kJsonb:
      return 3802;
    case TypeId::kBytea:
      return 17;
    case TypeId::kTextArray:
      return 1009;
  }
  return 0;
}

int16_t PgTypeSize(TypeId type) {
  switch (type) {
    case TypeId::kBoolean:
      return 1;
    case TypeId::kInt16:
      return 2;
    case TypeId::kInt32:
    case TypeId::kFloat32:
    case TypeId::kDate:
      return 4;
    case TypeId::kInt64:
    case TypeId::kFloat64:
    case TypeId::kTimestamp:
      return 8;
    case TypeId::kUnknown:
      return -2;
    default:
      return -1;
  }
}

std::string TypeName(TypeId type) {
  switch (type) {
    case TypeId::kUnknown:
      return "unknown";
    case TypeId::kBoolean:
      return "boolean";
    case TypeId::kInt16:
      return "smallint";
    case TypeId::kInt32:
      return "integer";
    case TypeId::kInt64:
      return "bigint";
    case TypeId::kFloat32:
      return "real";
    case TypeId::kFloat64:
      return "double precision";
    case TypeId::kDecimal:
      return "numeric";
    case TypeId::kVarchar:
      return "character varying";
    case TypeId::kDate:
      return "date";
    case TypeId::kTimestamp:
      return "timestamp without time zone";
    case TypeId::kJsonb:
      return "jsonb";
    case TypeId::kBytea:
      return "bytea";
    case TypeId::kTextArray:
      return "text[]";
  }
  return "unknown";
}

Result<TypeId> TypeFromName(const std::string& name) {
  std::string n = Lower(Trim(name));
  // Drop a type modifier: varchar(20), numeric(10,2), timestamp(3).
  size_t paren = n.find('(');
  std::string suffix;
  if (paren != std::string::npos) {
    size_t close = n.find(')', paren);
    if (close == std::string::npos) {
      return SqlError(StatusCode::kInvalidArgument, "42704",
                      "type \"" + name + "\" does not exist");
    }
    suffix = Trim(n.substr(close + 1));
    n = Trim(n.substr(0, paren)) + (suffix.empty() ? "" : " " + suffix);
  }
  if (n.rfind("pg_catalog.", 0) == 0) n = n.substr(11);
  std::string collapsed;  // single spaces
  for (char c : n) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!collapsed.empty() && collapsed.back() != ' ') collapsed += ' ';
    } else {
      collapsed += c;
    }
  }
  n = collapsed;
  if (n == "text[]" || n == "varchar[]" || n == "_text" || n == "character varying[]" ||
      n == "name[]") {
    return TypeId::kTextArray;
  }
  static const std::pair<const char*, TypeId> kNames[] = {
      {"int", TypeId::kInt32},
      {"int4", TypeId::kInt32},
      {"integer", TypeId::kInt32},
      {"int2", TypeId::kInt16},
      {"smallint", TypeId::kInt16},
      {"int8", TypeId::kInt64},
      {"bigint", TypeId::kInt64},
      {"oid", TypeId::kInt64},
      {"real", TypeId::kFloat32},
      {"float4", TypeId::kFloat32},
      {"double precision", TypeId::kFloat64},
      {"float8", TypeId::kFloat64},
      {"float", TypeId::kFloat64},
      {"numeric", TypeId::kDecimal},
      {"decimal", TypeId::kDecimal},
      {"varchar", TypeId::kVarchar},
      {"character varying", TypeId::kVarchar},
      {"text", TypeId::kVarchar},
      // char(n) is stored unpadded, like varchar.
      {"bpchar", TypeId::kVarchar},
      {"char", TypeId::kVarchar},
      {"character", TypeId::kVarchar},
      {"name", TypeId::kVarchar},
      {"string", TypeId::kVarchar},
      {"bool", TypeId::kBoolean},
      {"boolean", TypeId::kBoolean},
      {"date", TypeId::kDate},
      {"timestamp", TypeId::kTimestamp},
      {"timestamp without time zone", TypeId::kTimestamp},
      {"jsonb", TypeId::kJsonb},
      {"bytea", TypeId::kBytea},
  };
  for (const auto& [k, t] : kNames) {
    if (n == k) return t;
  }
  return SqlError(StatusCode::kInvalidArgument, "42704", "type \"" + name + "\" does not exist");
}

std::optional<std::string> DatumToText(const Datum& d, TypeId type) {
  if (d.is_null()) return std::nullopt;
  if (const bool* b = std::get_if<bool>(&d.v)) return std::string(*b ? "t" : "f");
  if (const int64_t* i = std::get_if<int64_t>(&d.v)) {
    if (type == TypeId::kDate) return FormatDate(*i);
    if (type == TypeId::kTimestamp) {
      int64_t us = *i;
      int64_t days = us >= 0 ? us / 86400000000LL : -((-us + 86400000000LL - 1) / 86400000000LL);
      int64_t rem = us - days * 86400000000LL;
      int64_t secs = rem / 1000000, frac = rem % 1000000;
      char buf[64];
      std::snprintf(buf, sizeof buf, "%s %02lld:%02lld:%02lld", FormatDate(days).c_str(),
                    static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                    static_cast<long long>(secs % 60));
      std::string out = buf;
      if (frac) {
        char f[16];
        std::snprintf(f, sizeof f, ".%06lld", static_cast<long long>(frac));
        std::string fs = f;
        while (fs.back() == '0') fs.pop_back();
        out += fs;
      }
      return out;
    }
    return std::to_string(*i);
  }
  if (const double* f = std::get_if<double>(&d.v)) return FormatFloat(*f, type == TypeId::kFloat32);
  if (const std::string* s = std::get_if<std::string>(&d.v)) {
    if (type == TypeId::kBytea) {
      static const char kHex[] = "0123456789abcdef";
      std::string out = "\\x";
      for (unsigned char c : *s) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
      return out;
    }
    if (type == TypeId::kJsonb) {
      nlohmann::json j = nlohmann::json::parse(*s, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) return *s;
      std::string out;
      JsonbOut(j, &out);
      return out;
    }
    return *s;
  }
  if (const auto* a = std::get_if<std::vector<std::string>>(&d.v)) {
    std::string out = "{";
    for (size_t i = 0; i < a->size(); ++i) {
      if (i) out += ",";
      out += ArrayElementOut((*a)[i]);
    }
    return out + "}";
  }
  return std::nullopt;
}

Result<Datum> DatumFromText(const std::string& text, TypeId type) {
  switch (type) {
    case TypeId::kUnknown:
    case TypeId::kVarchar:
      return Datum{text};
    case TypeId::kBoolean: {
      std::string s = Lower(Trim(text));
      if (s.empty()) return InvalidInput(type, text);
      auto prefix_of = [&](const char* word) { return std::string(word).rfind(s, 0) == 0; };
      if (s == "1" || prefix_of("true") || prefix_of("yes") || s == "on") return Datum{true};
      if (s == "0" || prefix_of("false") || prefix_of("no") || s == "off" || s == "of") {
        return Datum{false};
      }
      return InvalidInput(type, text);
    }
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
      return ParseInteger(text, type);
    case TypeId::kFloat32:
    case TypeId::kFloat64: {
      std::string s = Lower(Trim(text));
      if (s == "nan") return Datum{std::nan("")};
      if (s == "infinity" || s == "inf" || s == "+infinity") {
        return Datum{std::numeric_limits<double>::infinity()};
      }
      if (s == "-infinity" || s == "-inf") return Datum{-std::numeric_limits<double>::infinity()};
      double v = 0;
      const char* b = s.data();
      if (!s.empty() && *b == '+') ++b;
      auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
      if (ec == std::errc::result_out_of_range) {
        return OutOfRange("\"" + text + "\" is out of range for type " + TypeName(type));
      }
      if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
        return InvalidInput(type, text);
      }
      if (type == TypeId::kFloat32) {
        if (std::isinf(static_cast<float>(v))) {
          return OutOfRange("\"" + text + "\" is out of range for type real");
        }
        v = static_cast<double>(static_cast<float>(v));
      }
      return Datum{v};
    }
    case TypeId::kDecimal: {
      RWMETA_ASSIGN_OR_RETURN(Decimal d, Decimal::Parse(text));
      return Datum{d.ToString()};
    }
    case TypeId::kDate: {
      std::string s = Trim(text);
      int64_t days;
      size_t used;
      if (!ParseDatePart(s, &days, &used) || used != s.size()) return InvalidInput(type, text);
      return Datum{days};
    }
    case TypeId::kTimestamp: {
      std::string s = Trim(text);
      int64_t days;
      size_t used;
      if (!ParseDatePart(s, &days, &used)) return InvalidInput(type, text);
      int64_t us = days * 86400000000LL;
      std::string rest = s.substr(used);
      if (!rest.empty()) {
        if (rest[0] != ' ' && rest[0] != 'T' && rest[0] != 't') return InvalidInput(type, text);
        rest = Trim(rest.substr(1));
        int h = 0, mi = 0, sec = 0, n = 0;
        if (std::sscanf(rest.c_str(), "%d:%d:%d%n", &h, &mi, &sec, &n) != 3) {
          n = 0;
          if (std::sscanf(rest.c_str(), "%d:%d%n", &h, &mi, &n) != 2) {
            return InvalidInput(type, text);
          }
        }
        if (h < 0 || h > 24 || mi < 0 || mi > 59 || sec < 0 || sec > 60) {
          return OutOfRange("date/time field value out of range: \"" + text + "\"");
        }
        int64_t frac = 0;
        size_t i = static_cast<size_t>(n);
        if (i < rest.size() && rest[i] == '.') {
          ++i;
          int digits = 0;
          while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) {
            if (digits < 6) frac = frac * 10 + (rest[i] - '0');
            ++digits;
            ++i;
          }
          for (; digits < 6; ++digits) frac *= 10;
        }
        if (i != rest.size()) return InvalidInput(type, text);
        us += ((h * 60LL + mi) * 60 + sec) * 1000000LL + frac;
      }
      return Datum{us};
    }
    case TypeId::kJsonb: {
      nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded()) return BadText("invalid input syntax for type json");
      return Datum{text};
    }
    case TypeId::kBytea: {
      if (text.rfind("\\x", 0) == 0) {
        if (text.size() % 2 != 0) return InvalidInput(type, text);
        std::string out;
        for (size_t i = 2; i + 1 < text.size(); i += 2) {
          int hi = HexValue(text[i]), lo = HexValue(text[i + 1]);
          if (hi < 0 || lo < 0) return InvalidInput(type, text);
          out += static_cast<char>(hi * 16 + lo);
        }
        return Datum{out};
      }
      return Datum{text};
    }
    case TypeId::kTextArray: {
      RWMETA_ASSIGN_OR_RETURN(auto items, ParseTextArray(text));
      return Datum{std::move(items)};
    }
  }
  return InvalidInput(type, text);
}

}  // namespace rwmeta::frontend::sql
