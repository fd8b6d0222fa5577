// A small fixed-point decimal for the executor's `numeric`: a 128-bit mantissa and a decimal scale.
// Enough for catalog arithmetic, sum() and avg(); values beyond 38 digits are out of range (22003).
#pragma once

#include <string>

#include "common/status.h"

namespace rwmeta::frontend::sql {

struct Decimal {
  __int128 mantissa = 0;
  int scale = 0;  // digits after the decimal point, >= 0

  // Parses "-12.50", "1e3", "+.5". InvalidArgument (22P02) on bad text, 22003 when too large.
  static Result<Decimal> Parse(const std::string& text);
  static Decimal FromInt(int64_t v) { return Decimal{v, 0}; }
  // PostgreSQL's text form: the digits with exactly `scale` fractional digits ("1.50").
  std::string ToString() const;
  double ToDouble() const;
  // Rounds (half away from zero) or pads to `new_scale`. 22003 on overflow.
  Result<Decimal> Rescale(int new_scale) const;
};

// Arithmetic with PostgreSQL's result scales: + and - keep the larger scale, * adds them, / gives
// at least 16 significant digits (select_div_scale). 22003 on overflow, 22012 on division by zero.
Result<Decimal> DecimalAdd(const Decimal& a, const Decimal& b);
Result<Decimal> DecimalSub(const Decimal& a, const Decimal& b);
Result<Decimal> DecimalMul(const Decimal& a, const Decimal& b);
Result<Decimal> DecimalDiv(const Decimal& a, const Decimal& b);
// Remainder with the sign of `a` (PostgreSQL's mod / %).
Result<Decimal> DecimalMod(const Decimal& a, const Decimal& b);
// <0, 0, >0.
int DecimalCompare(const Decimal& a, const Decimal& b);

}  // namespace rwmeta::frontend::sql
