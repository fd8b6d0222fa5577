#include "frontend/sql/decimal.h"

#include <algorithm>
#include <cctype>

#include "frontend/sql/sql_error.h"

namespace rwmeta::frontend::sql {
namespace {

// 10^38 bounds the mantissa: 38 significant digits, like a comfortable subset of numeric.
constexpr int kMaxDigits = 38;

__int128 Pow10(int n) {
  __int128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

__int128 Abs(__int128 v) { return v < 0 ? -v : v; }

bool TooBig(__int128 v) { return Abs(v) >= Pow10(kMaxDigits); }

Status Overflow() { return OutOfRange("numeric value out of range"); }

// Number of decimal digits of |v| (0 for 0).
int DigitCount(__int128 v) {
  v = Abs(v);
  int n = 0;
  while (v > 0) {
    v /= 10;
    ++n;
  }
  return n;
}

// PostgreSQL keeps numerics in base 10000: weight is the power of 10000 of the first digit group,
// first_digit that group's value. Needed to reproduce select_div_scale's result scales.
void Base10000(const Decimal& d, int* weight, int* first_digit) {
  int digits = DigitCount(d.mantissa);
  if (digits == 0) {
    *weight = 0;
    *first_digit = 0;
    return;
  }
  int exp10 = digits - 1 - d.scale;  // power of ten of the leading digit
  int w = exp10 >= 0 ? exp10 / 4 : -((-exp10 + 3) / 4);
  *weight = w;
  // The group value: the digits from 10^(4w+3) down to 10^(4w).
  __int128 v = Abs(d.mantissa);
  int shift = d.scale + 4 * w;  // divide by 10^shift to bring 10^(4w) to units
  __int128 g = shift >= 0 ? v / Pow10(shift) : v * Pow10(-shift);
  *first_digit = static_cast<int>(g % 10000);
}

}  // namespace

Result<Decimal> Decimal::Parse(const std::string& text) {
  size_t i = 0, n = text.size();
  while (i < n && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  while (n > i && std::isspace(static_cast<unsigned char>(text[n - 1]))) --n;
  auto bad = [&] { return BadText("invalid input syntax for type numeric: \"" + text + "\""); };
  bool neg = false;
  if (i < n && (text[i] == '+' || text[i] == '-')) neg = text[i++] == '-';
  Decimal d;
  int digits = 0;
  bool any = false, point = false;
  for (; i < n; ++i) {
    char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      any = true;
      if (d.mantissa == 0 && c == '0' && !point) continue;
      if (++digits > kMaxDigits) return Overflow();
      d.mantissa = d.mantissa * 10 + (c - '0');
      if (point) ++d.scale;
      if (d.mantissa == 0 && point) --digits;  // leading fractional zeros are free
    } else if (c == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (!any) return bad();
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) eneg = text[i++] == '-';
    if (i >= n) return bad();
    int e = 0;
    for (; i < n && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      e = e * 10 + (text[i] - '0');
      if (e > 1000) return Overflow();
    }
    if (eneg) {
      d.scale += e;
    } else if (e <= d.scale) {
      d.scale -= e;
    } else {
      int up = e - d.scale;
      d.scale = 0;
      if (DigitCount(d.mantissa) + up > kMaxDigits) return Overflow();
      d.mantissa *= Pow10(up);
    }
    if (d.scale > kMaxDigits) return Overflow();
  }
  if (i != n) return bad();
  if (neg) d.mantissa = -d.mantissa;
  return d;
}

std::string Decimal::ToString() const {
  __int128 v = Abs(mantissa);
  std::string digits;
  while (v > 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  while (static_cast<int>(digits.size()) <= scale) digits.push_back('0');
  std::reverse(digits.begin(), digits.end());
  std::string out = mantissa < 0 ? "-" : "";
  out += digits.substr(0, digits.size() - scale);
  if (scale > 0) out += "." + digits.substr(digits.size() - scale);
  return out;
}

double Decimal::ToDouble() const {
  return static_cast<double>(static_cast<long double>(mantissa) /
                             static_cast<long double>(Pow10(scale)));
}

Result<Decimal> Decimal::Rescale(int new_scale) const {
  if (new_scale == scale) return *this;
  if (new_scale > scale) {
    int up = new_scale - scale;
    if (DigitCount(mantissa) + up > kMaxDigits) return Overflow();
    return Decimal{mantissa * Pow10(up), new_scale};
  }
  __int128 div = Pow10(scale - new_scale);
  __int128 q = mantissa / div, r = mantissa % div;
  if (Abs(r) * 2 >= div) q += mantissa < 0 ? -1 : 1;
  return Decimal{q, new_scale};
}

Result<Decimal> DecimalAdd(const Decimal& a, const Decimal& b) {
  int s = std::max(a.scale, b.scale);
  RWMETA_ASSIGN_OR_RETURN(Decimal x, a.Rescale(s));
  RWMETA_ASSIGN_OR_RETURN(Decimal y, b.Rescale(s));
  Decimal r{0, s};
  // Each is below 10^38 but their sum may not fit in 128 bits: let the builtin tell.
  if (__builtin_add_overflow(x.mantissa, y.mantissa, &r.mantissa) || TooBig(r.mantissa)) {
    return Overflow();
  }
  return r;
}

Result<Decimal> DecimalSub(const Decimal& a, const Decimal& b) {
  return DecimalAdd(a, Decimal{-b.mantissa, b.scale});
}

Result<Decimal> DecimalMul(const Decimal& a, const Decimal& b) {
  if (DigitCount(a.mantissa) + DigitCount(b.mantissa) > kMaxDigits) return Overflow();
  Decimal r{a.mantissa * b.mantissa, a.scale + b.scale};
  if (r.scale > kMaxDigits) return r.Rescale(kMaxDigits);
  return r;
}

Result<Decimal> DecimalDiv(const Decimal& a, const Decimal& b) {
  if (b.mantissa == 0) {
    return SqlError(StatusCode::kInvalidArgument, "22012", "division by zero");
  }
  int w1, f1, w2, f2;
  Base10000(a, &w1, &f1);
  Base10000(b, &w2, &f2);
  int qweight = w1 - w2;
  if (f1 < f2) --qweight;  // PostgreSQL's select_div_scale
  int rscale = 16 - qweight * 4;
  rscale = std::max({rscale, a.scale, b.scale, 0});
  rscale = std::min(rscale, 1000);
  // q = a / b at scale rscale: (a.m * 10^(rscale + b.s - a.s + 1)) / b.m, then round the extra
  // digit.
  int shift = rscale + b.scale - a.scale + 1;
  __int128 num = a.mantissa, den = b.mantissa;
  if (shift >= 0) {
    if (DigitCount(num) + shift > kMaxDigits) return Overflow();
    num *= Pow10(shift);
  } else {
    den *= Pow10(-shift);
  }
  __int128 q = num / den;
  __int128 r = q % 10;
  q /= 10;
  bool negative = (num < 0) != (den < 0);
  if (Abs(r) >= 5) q += negative ? -1 : 1;
  return Decimal{q, rscale};
}

Result<Decimal> DecimalMod(const Decimal& a, const Decimal& b) {
  if (b.mantissa == 0) {
    return SqlError(StatusCode::kInvalidArgument, "22012", "division by zero");
  }
  int s = std::max(a.scale, b.scale);
  RWMETA_ASSIGN_OR_RETURN(Decimal x, a.Rescale(s));
  RWMETA_ASSIGN_OR_RETURN(Decimal y, b.Rescale(s));
  return Decimal{x.mantissa % y.mantissa, s};
}

int DecimalCompare(const Decimal& a, const Decimal& b) {
  int s = std::max(a.scale, b.scale);
  auto x = a.Rescale(s), y = b.Rescale(s);
  if (!x.ok() || !y.ok()) {
    double dx = a.ToDouble(), dy = b.ToDouble();
    return dx < dy ? -1 : (dx > dy ? 1 : 0);
  }
  return x->mantissa < y->mantissa ? -1 : (x->mantissa > y->mantissa ? 1 : 0);
}

}  // namespace rwmeta::frontend::sql
