#include "meta/persistent_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace rwmeta::meta {
namespace {

using Map = PersistentMap<int, std::string>;

// Checks `map` against `model`: size, order, every key findable, chunk sizes within bounds.
void ExpectSame(const Map& map, const std::map<int, std::string>& model) {
  ASSERT_EQ(map.size(), model.size());
  EXPECT_EQ(map.empty(), model.empty());
  auto m = model.begin();
  for (auto it = map.begin(); it != map.end(); ++it, ++m) {
    ASSERT_EQ(it.key(), m->first);
    ASSERT_EQ(*it, m->second);
  }
  for (const auto& [k, v] : model) {
    const std::string* found = map.Find(k);
    ASSERT_NE(found, nullptr) << k;
    EXPECT_EQ(*found, v);
  }
  // Every chunk holds at least one entry and at most the maximum.
  EXPECT_LE(map.chunk_count(), map.size());
  EXPECT_GE(map.chunk_count() * Map::kMaxChunkEntries, map.size());
}

TEST(PersistentMapTest, EmptyMap) {
  Map map;
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.begin(), map.end());
  EXPECT_EQ(map.Find(1), nullptr);
  EXPECT_EQ(map.LowerBound(1), map.end());
  EXPECT_FALSE(map.Erase(1));
  EXPECT_EQ(map, Map());
}

TEST(PersistentMapTest, SetReplacesAndEraseRemoves) {
  Map map;
  map.Set(2, "b");
  map.Set(1, "a");
  map.Set(2, "B");
  ExpectSame(map, {{1, "a"}, {2, "B"}});
  EXPECT_TRUE(map.Erase(1));
  EXPECT_FALSE(map.Erase(1));
  ExpectSame(map, {{2, "B"}});
  EXPECT_EQ(map.LowerBound(0).key(), 2);
  EXPECT_EQ(map.LowerBound(3), map.end());
}

// Randomized against std::map, with copies taken along the way: a copy never sees the changes
// made to the map after it was taken (copy-on-write), and the map never sees the copy's.
TEST(PersistentMapTest, RandomizedAgainstStdMapWithCopies) {
  for (uint32_t seed : {1u, 2u, 3u, 4u}) {
    std::mt19937 rng(seed);
    // Small key ranges make replacements and erasures of present keys common; large ones grow
    // many chunks.
    const int key_range = seed % 2 == 0 ? 300 : 5000;
    Map map;
    std::map<int, std::string> model;
    std::vector<std::pair<Map, std::map<int, std::string>>> copies;
    for (int step = 0; step < 20000; ++step) {
      int key = static_cast<int>(rng() % key_range);
      switch (rng() % 10) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4: {
          std::string value = std::to_string(rng());
          map.Set(key, value);
          model[key] = value;
          break;
        }
        case 5:
        case 6:
        case 7: {
          bool erased = map.Erase(key);
          ASSERT_EQ(erased, model.erase(key) == 1) << "seed " << seed << " step " << step;
          break;
        }
        case 8: {
          const std::string* found = map.Find(key);
          auto it = model.find(key);
          ASSERT_EQ(found != nullptr, it != model.end());
          if (found != nullptr) {
            ASSERT_EQ(*found, it->second);
          }
          auto lb = map.LowerBound(key);
          auto mlb = model.lower_bound(key);
          ASSERT_EQ(lb == map.end(), mlb == model.end());
          if (mlb != model.end()) {
            ASSERT_EQ(lb.key(), mlb->first);
          }
          break;
        }
        default:
          if (copies.size() < 8) copies.push_back({map, model});
          break;
      }
      if (step % 2500 == 0) ExpectSame(map, model);
    }
    ExpectSame(map, model);
    for (const auto& [copy, copy_model] : copies) ExpectSame(copy, copy_model);
    // Erase everything: chunks merge and go away.
    for (const auto& [k, v] : std::map<int, std::string>(model)) ASSERT_TRUE(map.Erase(k));
    EXPECT_TRUE(map.empty());
    EXPECT_EQ(map.chunk_count(), 0u);
  }
}

TEST(PersistentMapTest, EqualityIgnoresChunkBoundaries) {
  Map ascending, descending;
  for (int i = 0; i < 2000; ++i) ascending.Set(i, std::to_string(i));
  for (int i = 1999; i >= 0; --i) descending.Set(i, std::to_string(i));
  EXPECT_EQ(ascending, descending);
  descending.Set(7, "seven");
  EXPECT_NE(ascending, descending);
  descending.Set(7, "7");
  descending.Erase(8);
  EXPECT_NE(ascending, descending);
}

// Ids grow: appending keeps chunks full rather than half empty.
TEST(PersistentMapTest, AscendingKeysFillChunks) {
  Map map;
  for (int i = 0; i < static_cast<int>(10 * Map::kMaxChunkEntries); ++i) map.Set(i, "v");
  EXPECT_EQ(map.chunk_count(), 10u);
}

TEST(PersistentMapTest, CopySharesChunksUntilChanged) {
  PersistentMap<int, std::vector<int>> map;
  for (int i = 0; i < 5000; ++i) map.Set(i, {i});
  auto copy = map;
  const std::vector<int>* before = map.Find(4000);
  EXPECT_EQ(copy.Find(4000), before);  // shared, not copied
  copy.Set(10, {-10});
  EXPECT_EQ(copy.Find(4000), before);  // another chunk: still shared
  EXPECT_NE(copy.Find(10), map.Find(10));
  EXPECT_EQ(*map.Find(10), std::vector<int>{10});
}

}  // namespace
}  // namespace rwmeta::meta
