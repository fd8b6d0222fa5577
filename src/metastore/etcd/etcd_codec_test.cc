// The etcd backend's pure parts: key layout, memcomparable keys, row encoding, URL parsing. No
// server needed (the backend itself is tested against etcd in etcd_meta_store_server_test.cc).
#include "metastore/etcd/etcd_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "common/testing/status_matchers.h"
#include "metastore/etcd/etcd_meta_store.h"

namespace rwmeta::metastore::etcd {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using T = ColumnType;

const TableSchema& Table(T key_type) {
  static const auto* const kTables = new std::vector<TableSchema>{
      {"k_int", {{"k", T::kInt64}}, {"k"}, {}, {}},
      {"k_double", {{"k", T::kDouble}}, {"k"}, {}, {}},
      {"k_bool", {{"k", T::kBool}}, {"k"}, {}, {}},
      {"k_text", {{"k", T::kText}}, {"k"}, {}, {}},
  };
  switch (key_type) {
    case T::kInt64:
      return (*kTables)[0];
    case T::kDouble:
      return (*kTables)[1];
    case T::kBool:
      return (*kTables)[2];
    default:
      return (*kTables)[3];
  }
}

// Asserts that encoding `keys` (ascending) gives strictly ascending bytes.
void ExpectOrdered(const TableSchema& table, const std::vector<Key>& keys) {
  for (size_t i = 1; i < keys.size(); ++i) {
    EXPECT_LT(EncodeKey(table, keys[i - 1]), EncodeKey(table, keys[i])) << "at " << i;
  }
}

TEST(EtcdCodecTest, KeyLayoutNames) {
  EXPECT_EQ(VersionKey("/rwmeta"), "/rwmeta/meta/version");
  EXPECT_EQ(MarkerKey("/rwmeta"), "/rwmeta/meta/restore_incomplete");
  EXPECT_EQ(MetaPrefix("/rwmeta"), "/rwmeta/meta/");
  EXPECT_EQ(GuardKey("/rwmeta", "user"), "/rwmeta/guard/user");
  EXPECT_EQ(TablePrefix("/a/b", "user"), "/a/b/data/user/");
  EXPECT_EQ(DataPrefix("/a"), "/a/data/");
  EXPECT_EQ(StorePrefix("/a"), "/a/");
  // A table whose name extends another's ("user", "user_privilege") has its own range.
  EXPECT_EQ(PrefixEnd(TablePrefix("/r", "user")), "/r/data/user0");
  EXPECT_EQ(RowKey("/r", Table(T::kInt64), Key{int64_t{1}}),
            std::string("/r/data/k_int/\x80\0\0\0\0\0\0\x01", 22));
}

TEST(EtcdCodecTest, PrefixEnd) {
  EXPECT_EQ(PrefixEnd("a/"), "a0");
  EXPECT_EQ(PrefixEnd("a\xff"), "b");
  EXPECT_EQ(PrefixEnd("\xff\xff"), std::string(1, '\0'));
  EXPECT_EQ(PrefixEnd(""), std::string(1, '\0'));
}

TEST(EtcdCodecTest, KeysSortBytewiseInKeyOrder) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  ExpectOrdered(Table(T::kInt64), {{kMin},
                                   {int64_t{-256}},
                                   {int64_t{-1}},
                                   {int64_t{0}},
                                   {int64_t{1}},
                                   {int64_t{255}},
                                   {int64_t{256}},
                                   {kMax}});
  ExpectOrdered(Table(T::kDouble), {{-std::numeric_limits<double>::infinity()},
                                    {-1e300},
                                    {-1.5},
                                    {-std::numeric_limits<double>::denorm_min()},
                                    {0.0},
                                    {std::numeric_limits<double>::denorm_min()},
                                    {0.1},
                                    {2.0},
                                    {1e308},
                                    {std::numeric_limits<double>::infinity()}});
  ExpectOrdered(Table(T::kBool), {{false}, {true}});
  ExpectOrdered(Table(T::kText), {{std::string("")},
                                  {std::string(1, '\0')},
                                  {std::string(2, '\0')},
                                  {std::string("\x01")},
                                  {std::string("B")},
                                  {std::string("a")},
                                  {std::string("a\0", 2)},
                                  {std::string("a\x01")},
                                  {std::string("ab")},
                                  {std::string("b")},
                                  {std::string("\xc3\xa9")},
                                  {std::string("\xff")}});
  // Composite keys: the first column decides, a shorter string first, whatever follows it.
  const TableSchema pairs{"pairs", {{"a", T::kText}, {"b", T::kInt64}}, {"a", "b"}, {}, {}};
  ExpectOrdered(pairs, {{std::string("a"), int64_t{100}},
                        {std::string("a\0", 2), int64_t{-5}},
                        {std::string("ab"), int64_t{-100}},
                        {std::string("ab"), int64_t{7}},
                        {std::string("b"), std::numeric_limits<int64_t>::min()}});
  EXPECT_EQ(EncodeKey(Table(T::kText), {std::string("a\0b", 3)}), std::string("a\0\xff"
                                                                              "b\0\x01",
                                                                              6));
}

TEST(EtcdCodecTest, RowGoldenBytes) {
  // The v1 row format as docs/metastore-etcd.md describes it. Never regenerate: stored rows must
  // keep decoding.
  const Row row{int64_t{-2}, 1.0, true, false, std::monostate{}, std::string("hi")};
  const std::string golden(
      "\x01\x06"
      "\x01\xff\xff\xff\xff\xff\xff\xff\xfe"
      "\x02\x3f\xf0\x00\x00\x00\x00\x00\x00"
      "\x04"
      "\x03"
      "\x00"
      "\x05\x02hi",
      27);
  EXPECT_EQ(EncodeRow(row), golden);
  const TableSchema table{"t",
                          {{"i", T::kInt64},
                           {"d", T::kDouble},
                           {"b1", T::kBool},
                           {"b2", T::kBool},
                           {"n", T::kBytes, true},
                           {"s", T::kText}},
                          {"i"},
                          {},
                          {}};
  ASSERT_OK_AND_ASSIGN(Row decoded, DecodeRow(table, golden, "k"));
  EXPECT_EQ(decoded, row);
}

TEST(EtcdCodecTest, RowsRoundTripEveryType) {
  const TableSchema table{"t",
                          {{"i", T::kInt64, true},
                           {"d", T::kDouble, true},
                           {"b", T::kBool, true},
                           {"t", T::kText, true},
                           {"by", T::kBytes, true},
                           {"j", T::kJson, true}},
                          {"i"},
                          {},
                          {}};
  const std::vector<Row> rows = {
      {std::numeric_limits<int64_t>::min(), -0.0, false, std::string(""), std::string("\0\xff", 2),
       std::string("{\"a\": 1}")},
      {std::numeric_limits<int64_t>::max(), std::numeric_limits<double>::denorm_min(), true,
       std::string(300, 'x'), std::string(""), std::string("[]")},
      {std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{}, std::monostate{},
       std::monostate{}},
  };
  for (const Row& r : rows) {
    ASSERT_OK_AND_ASSIGN(Row back, DecodeRow(table, EncodeRow(r), "k"));
    EXPECT_EQ(back, r);
  }
}

TEST(EtcdCodecTest, OlderRowsReadAddedColumnsAsNull) {
  const TableSchema v2{
      "t", {{"id", T::kInt64}, {"name", T::kText}, {"note", T::kText, true, 2}}, {"id"}, {}, {}};
  ASSERT_OK_AND_ASSIGN(Row row, DecodeRow(v2, EncodeRow({int64_t{1}, std::string("one")}), "k"));
  EXPECT_EQ(row, (Row{int64_t{1}, std::string("one"), std::monostate{}}));
  EXPECT_THAT(DecodeRow(v2, EncodeRow({int64_t{1}}), "k"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("column name is missing")));
}

TEST(EtcdCodecTest, CorruptRowsAreDataLossAndUnknownFormatsUnimplemented) {
  const TableSchema table{"tbl", {{"i", T::kInt64}, {"s", T::kText, true}}, {"i"}, {}, {}};
  const std::string good = EncodeRow({int64_t{5}, std::string("abc")});
  EXPECT_THAT(DecodeRow(table, "", "key1"),
              StatusIs(StatusCode::kDataLoss,
                       AllOf(HasSubstr("key1"), HasSubstr("table tbl"), HasSubstr("empty value"))));
  std::string v2 = good;
  v2[0] = '\x02';
  EXPECT_THAT(DecodeRow(table, v2, "k"),
              StatusIs(StatusCode::kUnimplemented, HasSubstr("unknown row format 2")));
  for (size_t cut = 1; cut < good.size(); ++cut) {
    EXPECT_THAT(DecodeRow(table, good.substr(0, cut), "k"), StatusIs(StatusCode::kDataLoss)) << cut;
  }
  EXPECT_THAT(DecodeRow(table, good + "x", "k"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("1 trailing bytes")));
  EXPECT_THAT(DecodeRow(table, EncodeRow({std::string("5"), std::string("abc")}), "k"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("column i holds value tag 5")));
  EXPECT_THAT(DecodeRow(table, EncodeRow({std::monostate{}, std::string("abc")}), "k"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("NULL in non-nullable column i")));
  EXPECT_THAT(DecodeRow(table, EncodeRow({int64_t{1}, std::string("a"), int64_t{2}}), "k"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("3 values, the table has 2 columns")));
  EXPECT_EQ(PrintableKey(std::string("/a\0\xff\\", 5)), "/a\\x00\\xff\\x5c");
}

}  // namespace
}  // namespace rwmeta::metastore::etcd

namespace rwmeta::metastore {
namespace {

using ::rwmeta::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(EtcdUrlTest, FullForm) {
  ASSERT_OK_AND_ASSIGN(EtcdMetaStoreOptions o,
                       ParseEtcdUrl("ETCD://ro%40ot:p%2Fw%3A@h1:2380,10.0.0.2,[::1]:2381/my/meta/"
                                    "?max_txn_ops=64&page_size=10&max_txn_bytes=1000&timeout_ms=250"
                                    "&bulk_load_txns_in_flight=3"));
  EXPECT_THAT(o.endpoints, ElementsAre("h1:2380", "10.0.0.2:2379", "[::1]:2381"));
  EXPECT_EQ(o.username, "ro@ot");
  EXPECT_EQ(o.password, "p/w:");
  EXPECT_EQ(o.prefix, "/my/meta");
  EXPECT_EQ(o.max_txn_ops, 64);
  EXPECT_EQ(o.page_size, 10);
  EXPECT_EQ(o.max_txn_bytes, 1000);
  EXPECT_EQ(o.bulk_load_txns_in_flight, 3);
  EXPECT_EQ(o.timeout_ms, 250);
}

TEST(EtcdUrlTest, Defaults) {
  ASSERT_OK_AND_ASSIGN(EtcdMetaStoreOptions o, ParseEtcdUrl("etcd://127.0.0.1:2379"));
  EXPECT_THAT(o.endpoints, ElementsAre("127.0.0.1:2379"));
  EXPECT_EQ(o.username, "");
  EXPECT_EQ(o.prefix, "/rwmeta");
  EXPECT_EQ(o.max_txn_ops, 128);
  ASSERT_OK_AND_ASSIGN(o, ParseEtcdUrl("etcd://h/"));
  EXPECT_EQ(o.prefix, "/rwmeta");
}

TEST(EtcdUrlTest, BadUrlsNameTheProblemWithoutThePassword) {
  auto bad = [](const std::string& url, const std::string& what) {
    EXPECT_THAT(ParseEtcdUrl(url), StatusIs(StatusCode::kInvalidArgument,
                                            AllOf(HasSubstr(what), Not(HasSubstr("s3cret")))))
        << url;
  };
  bad("etcd://root:s3cret@", "no endpoint");
  bad("etcd://root:s3cret@h1:2379,,h2:2379", "empty");
  bad("etcd://root:s3cret@h1:99999", "port out of range");
  bad("etcd://root:s3cret@h1:23x9", "bad port");
  bad("etcd://root:s3cret@h1:", "bad port");
  bad("etcd://root:s3cret@:2379", "no host");
  bad("etcd://root:s3cret@[::1", "unclosed");
  bad("etcd://root:s3cret@h1?page_size=0", "page_size must be a positive integer");
  bad("etcd://root:s3cret@h1?max_txn_ops=-3", "max_txn_ops must be a positive integer");
  bad("etcd://root:s3cret@h1?tls=1", "unknown parameter 'tls'");
  bad("etcd://:s3cret@h1", "empty user name");
  bad("http://root:s3cret@h1", "expected scheme etcd");
  bad("h1:2379", "expected etcd://");
}

}  // namespace
}  // namespace rwmeta::metastore
