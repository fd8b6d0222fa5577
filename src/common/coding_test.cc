#include "common/coding.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace rwmeta {
namespace {

std::string Bytes(std::initializer_list<uint8_t> bytes) {
  std::string s;
  for (uint8_t b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

// The byte layouts are stored formats: these pin them.
TEST(CodingTest, ByteOrders) {
  std::string le, be;
  PutFixed16(&le, 0x0102);
  PutFixed32(&le, 0x01020304);
  PutFixed64(&le, 0x0102030405060708);
  PutBigEndian16(&be, 0x0102);
  PutBigEndian32(&be, 0x01020304);
  PutBigEndian64(&be, 0x0102030405060708);
  EXPECT_EQ(le, Bytes({2, 1, 4, 3, 2, 1, 8, 7, 6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(be, Bytes({1, 2, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(DecodeFixed16(le.data()), 0x0102);
  EXPECT_EQ(DecodeFixed32(le.data() + 2), 0x01020304u);
  EXPECT_EQ(DecodeFixed64(le.data() + 6), 0x0102030405060708u);
  EXPECT_EQ(DecodeBigEndian16(be.data()), 0x0102);
  EXPECT_EQ(DecodeBigEndian32(be.data() + 2), 0x01020304u);
  EXPECT_EQ(DecodeBigEndian64(be.data() + 6), 0x0102030405060708u);
}

TEST(CodingTest, EncodeOverwritesInPlace) {
  std::string s(4, 'x');
  EncodeBigEndian32(s.data(), 0xA1B2C3D4);
  EXPECT_EQ(s, Bytes({0xA1, 0xB2, 0xC3, 0xD4}));
  EncodeFixed32(s.data(), 0xA1B2C3D4);
  EXPECT_EQ(s, Bytes({0xD4, 0xC3, 0xB2, 0xA1}));
}

TEST(CodingTest, FixedRoundTripsBoundaryValues) {
  auto round_trip = [](auto put, auto decode, auto v) {
    std::string s;
    put(&s, v);
    EXPECT_EQ(s.size(), sizeof(v));
    EXPECT_EQ(decode(s.data()), v);
  };
  for (uint64_t v :
       {uint64_t{0}, uint64_t{1}, uint64_t{0x80}, uint64_t{0xff}, uint64_t{0x100},
        uint64_t{0xffffffff}, uint64_t{1} << 63, std::numeric_limits<uint64_t>::max()}) {
    round_trip(PutFixed64, DecodeFixed64, v);
    round_trip(PutBigEndian64, DecodeBigEndian64, v);
    round_trip(PutFixed32, DecodeFixed32, static_cast<uint32_t>(v));
    round_trip(PutBigEndian32, DecodeBigEndian32, static_cast<uint32_t>(v));
    round_trip(PutFixed16, DecodeFixed16, static_cast<uint16_t>(v));
    round_trip(PutBigEndian16, DecodeBigEndian16, static_cast<uint16_t>(v));
  }
}

TEST(CodingTest, BigEndianOrderIsNumericOrder) {
  std::string a, b;
  PutBigEndian64(&a, 0x00ff);
  PutBigEndian64(&b, 0x0100);
  EXPECT_LT(a, b);
}

TEST(CodingTest, VarintLayout) {
  std::string s;
  PutVarint32(&s, 0);
  PutVarint32(&s, 127);
  PutVarint32(&s, 128);
  PutVarint64(&s, 300);
  EXPECT_EQ(s, Bytes({0x00, 0x7f, 0x80, 0x01, 0xac, 0x02}));
  std::string max32, max64;
  PutVarint32(&max32, std::numeric_limits<uint32_t>::max());
  PutVarint64(&max64, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(max32, Bytes({0xff, 0xff, 0xff, 0xff, 0x0f}));
  EXPECT_EQ(max64, Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
}

TEST(CodingTest, Varint32And64AgreeBelow2To32) {
  for (uint32_t v : {0u, 1u, 127u, 128u, 16383u, 16384u, 0xffffffffu}) {
    std::string a, b;
    PutVarint32(&a, v);
    PutVarint64(&b, v);
    EXPECT_EQ(a, b) << v;
  }
}

TEST(CodingTest, VarintsRoundTripEveryLength) {
  std::vector<uint64_t> values;
  for (int bits = 0; bits <= 64; ++bits) {
    const uint64_t power = bits == 64 ? 0 : uint64_t{1} << bits;
    values.push_back(power - 1);  // all ones below `bits` (max at bits == 64)
    if (bits < 64) values.push_back(power);
  }
  std::string s;
  for (uint64_t v : values) PutVarint64(&s, v);
  std::string s32;
  for (uint64_t v : values) PutVarint32(&s32, static_cast<uint32_t>(v));
  std::string_view in = s, in32 = s32;
  for (uint64_t v : values) {
    uint64_t got = 0;
    ASSERT_TRUE(GetVarint64(&in, &got)) << v;
    EXPECT_EQ(got, v);
    uint32_t got32 = 0;
    ASSERT_TRUE(GetVarint32(&in32, &got32)) << v;
    EXPECT_EQ(got32, static_cast<uint32_t>(v));
  }
  EXPECT_TRUE(in.empty());
  EXPECT_TRUE(in32.empty());
}

TEST(CodingTest, TruncatedVarintIsRejectedAndInputKept) {
  std::string s;
  PutVarint64(&s, uint64_t{1} << 40);
  for (size_t n = 0; n < s.size(); ++n) {
    std::string_view in(s.data(), n);
    uint64_t v = 7;
    EXPECT_FALSE(GetVarint64(&in, &v)) << n;
    EXPECT_EQ(in.size(), n);
    EXPECT_EQ(v, 7u);
    uint32_t v32 = 7;
    EXPECT_FALSE(GetVarint32(&in, &v32)) << n;
    EXPECT_EQ(in.size(), n);
  }
}

TEST(CodingTest, OverlongVarintIsRejected) {
  // Six continuation bytes cannot be a varint32; eleven cannot be a varint64.
  const std::string six = Bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x00});
  std::string_view in = six;
  uint32_t v32 = 0;
  EXPECT_FALSE(GetVarint32(&in, &v32));
  EXPECT_EQ(in.size(), six.size());
  uint64_t v64 = 0;
  EXPECT_TRUE(GetVarint64(&in, &v64));  // a (padded) zero is a valid varint64
  EXPECT_EQ(v64, 0u);

  const std::string eleven = std::string(10, '\x80') + '\x00';
  in = eleven;
  EXPECT_FALSE(GetVarint64(&in, &v64));
  EXPECT_EQ(in.size(), eleven.size());
}

TEST(CodingTest, LengthPrefixedSliceRoundTrips) {
  std::string s;
  PutLengthPrefixedSlice(&s, "");
  PutLengthPrefixedSlice(&s, "abc");
  PutLengthPrefixedSlice(&s, std::string(200, 'x'));
  EXPECT_EQ(s.substr(0, 5), Bytes({0x00, 0x03, 'a', 'b', 'c'}));
  EXPECT_EQ(s.substr(5, 2), Bytes({0xc8, 0x01}));  // 200
  std::string_view in = s, out;
  ASSERT_TRUE(GetLengthPrefixedSlice(&in, &out));
  EXPECT_EQ(out, "");
  ASSERT_TRUE(GetLengthPrefixedSlice(&in, &out));
  EXPECT_EQ(out, "abc");
  ASSERT_TRUE(GetLengthPrefixedSlice(&in, &out));
  EXPECT_EQ(out, std::string(200, 'x'));
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, TruncatedLengthPrefixedSliceIsRejectedAndInputKept) {
  std::string s;
  PutLengthPrefixedSlice(&s, std::string(200, 'x'));
  for (size_t n = 0; n < s.size(); ++n) {
    std::string_view in(s.data(), n), out = "unchanged";
    EXPECT_FALSE(GetLengthPrefixedSlice(&in, &out)) << n;
    EXPECT_EQ(in.size(), n);
    EXPECT_EQ(out, "unchanged");
  }
  // A length near 2^64 must not wrap around the bounds check.
  std::string huge;
  PutVarint64(&huge, std::numeric_limits<uint64_t>::max());
  huge += "abc";
  std::string_view in = huge, out;
  EXPECT_FALSE(GetLengthPrefixedSlice(&in, &out));
}

}  // namespace
}  // namespace rwmeta
