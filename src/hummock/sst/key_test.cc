#include "hummock/sst/key.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <tuple>

#include "common/testing/status_matchers.h"

namespace rwmeta::hummock {
namespace {

using ::rwmeta::testing::StatusIs;

int Sign(int v) { return (v > 0) - (v < 0); }

// Reference order of (table id, user key, epoch): user key byte-wise, newer epoch first.
int ReferenceCompare(uint32_t ta, const std::string& ua, uint64_t ea, uint32_t tb,
                     const std::string& ub, uint64_t eb) {
  if (ta != tb) return ta < tb ? -1 : 1;
  int c = Sign(ua.compare(ub));
  if (c != 0) return c;
  if (ea != eb) return ea > eb ? -1 : 1;
  return 0;
}

TEST(FullKeyTest, EncodesTableIdUserKeyAndInvertedEpochBigEndian) {
  std::string k = EncodeFullKey(0x01020304, "ab", 5);
  EXPECT_EQ(k, std::string("\x01\x02\x03\x04"
                           "ab"
                           "\xff\xff\xff\xff\xff\xff\xff\xfa",
                           14));
  ASSERT_OK_AND_ASSIGN(FullKeyView v, DecodeFullKey(k));
  EXPECT_EQ(v.table_id, 0x01020304u);
  EXPECT_EQ(v.user_key, "ab");
  EXPECT_EQ(v.epoch, 5u);
  EXPECT_EQ(TableUserKeyOf(k), std::string_view("\x01\x02\x03\x04"
                                                "ab",
                                                6));
  EXPECT_THAT(DecodeFullKey("short"), StatusIs(StatusCode::kDataLoss));
}

TEST(FullKeyTest, RandomizedOrderMatchesReference) {
  std::mt19937_64 rng(42);
  auto random_user_key = [&rng]() {
    std::string s(rng() % 4, '\0');
    for (char& c : s) c = static_cast<char>("a\0b\xff"[rng() % 4]);
    return s;
  };
  for (int i = 0; i < 20000; ++i) {
    uint32_t ta = rng() % 3, tb = rng() % 3;
    std::string ua = random_user_key(), ub = random_user_key();
    uint64_t ea = rng() % 4 == 0 ? ~0ULL : rng() % 5, eb = rng() % 5;
    int want = ReferenceCompare(ta, ua, ea, tb, ub, eb);
    EXPECT_EQ(Sign(CompareFullKeys(EncodeFullKey(ta, ua, ea), EncodeFullKey(tb, ub, eb))), want)
        << "iteration " << i;
    // Byte-wise order agrees when user keys are memcomparable (prefix-free).
    std::string ma = EncodeMemcomparable({Datum(ua)}), mb = EncodeMemcomparable({Datum(ub)});
    int want_mc = ReferenceCompare(ta, ma, ea, tb, mb, eb);
    EXPECT_EQ(want_mc, want);
    EXPECT_EQ(Sign(EncodeFullKey(ta, ma, ea).compare(EncodeFullKey(tb, mb, eb))), want_mc)
        << "iteration " << i;
  }
}

TEST(ValueTest, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(EncodeValue(Value::Put("xy")), std::string("\0xy", 3));
  EXPECT_EQ(EncodeValue(Value::Delete()), std::string("\x01", 1));
  ASSERT_OK_AND_ASSIGN(Value v, DecodeValue(std::string("\0xy", 3)));
  EXPECT_EQ(v, Value::Put("xy"));
  ASSERT_OK_AND_ASSIGN(Value d, DecodeValue("\x01"));
  EXPECT_TRUE(d.tombstone);
  EXPECT_THAT(DecodeValue(""), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(DecodeValue("\x02"), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(DecodeValue("\x01x"), StatusIs(StatusCode::kDataLoss));
}

TEST(MemcomparableTest, ByteLayout) {
  EXPECT_EQ(EncodeMemcomparable({Datum(Null{})}), "\x01");
  EXPECT_EQ(EncodeMemcomparable({Datum(true), Datum(false)}), "\x03\x02");
  EXPECT_EQ(EncodeMemcomparable({Datum(int64_t{1})}),
            std::string("\x04\x80\x00\x00\x00\x00\x00\x00\x01", 9));
  EXPECT_EQ(EncodeMemcomparable({Datum(int64_t{-1})}),
            std::string("\x04\x7f\xff\xff\xff\xff\xff\xff\xff", 9));
  EXPECT_EQ(EncodeMemcomparable({Datum(std::string("a\0b", 3))}), std::string("\x06"
                                                                              "a\x00\xff"
                                                                              "b\x00\x01",
                                                                              7));
}

TEST(MemcomparableTest, RoundTripsAndKeepsOrder) {
  std::vector<Datum> ordered = {
      Null{},
      false,
      true,
      std::numeric_limits<int64_t>::min(),
      int64_t{-1},
      int64_t{0},
      int64_t{1},
      std::numeric_limits<int64_t>::max(),
      -std::numeric_limits<double>::infinity(),
      -1.5,
      -std::numeric_limits<double>::denorm_min(),
      0.0,
      std::numeric_limits<double>::denorm_min(),
      2.25,
      std::numeric_limits<double>::infinity(),
      std::numeric_limits<double>::quiet_NaN(),
      std::string(),
      std::string("\0", 1),
      std::string("\0\0", 2),
      std::string("\x01"),
      std::string("a"),
      std::string("a\0", 2),
      std::string("ab"),
      std::string("\xff"),
  };
  for (size_t i = 0; i < ordered.size(); ++i) {
    for (size_t j = 0; j < ordered.size(); ++j) {
      // Two-column tuples: the second column must not disturb the first's order.
      std::string a = EncodeMemcomparable({ordered[i], Datum(std::string("zz"))});
      std::string b = EncodeMemcomparable({ordered[j], Datum(int64_t{0})});
      // Equal first columns: the string tag (0x06) sorts after the int64 tag (0x04).
      EXPECT_EQ(Sign(a.compare(b)), i < j ? -1 : 1) << i << " vs " << j;
    }
    ASSERT_OK_AND_ASSIGN(std::vector<Datum> back,
                         DecodeMemcomparable(EncodeMemcomparable({ordered[i]})));
    ASSERT_EQ(back.size(), 1u);
    if (const double* d = std::get_if<double>(&ordered[i]); d && std::isnan(*d)) {
      EXPECT_TRUE(std::isnan(std::get<double>(back[0])));
    } else {
      EXPECT_EQ(back[0], ordered[i]) << i;
    }
  }
  // -0.0 and +0.0 encode alike.
  EXPECT_EQ(EncodeMemcomparable({Datum(-0.0)}), EncodeMemcomparable({Datum(0.0)}));
}

TEST(MemcomparableTest, RejectsGarbage) {
  EXPECT_THAT(DecodeMemcomparable("\x09"), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(DecodeMemcomparable("\x04\x80"), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(DecodeMemcomparable("\x06"
                                  "abc"),
              StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(DecodeMemcomparable(std::string("\x06"
                                              "a\x00\x02",
                                              4)),
              StatusIs(StatusCode::kDataLoss));
  ASSERT_OK_AND_ASSIGN(auto empty, DecodeMemcomparable(""));
  EXPECT_TRUE(empty.empty());
}

}  // namespace
}  // namespace rwmeta::hummock
