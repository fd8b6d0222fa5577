// PersistentMap: a sorted map whose copies share structure, so that a new catalog snapshot costs
// what changed in it rather than the size of the catalog.
//
// Layout: a vector of pointers to chunks; a chunk holds up to kMaxChunkEntries (key, value)
// entries sorted by key, and the chunks' key ranges ascend and do not overlap. Copying a map
// copies the pointer vector only (n / kMaxChunkEntries pointers); changing one entry of a copy
// copies that one chunk (copy-on-write) and leaves every other chunk shared with the original.
// Lookups are two binary searches: O(log n). Iteration visits the values in key order.
//
// Why hand-written: Debian 12 has no persistent (immutable, structure-sharing) container library
// (no immer, no Boost.Immutable); see docs/architecture.md.
//
// Threading: a const map may be read (and copied) from any number of threads at once, including
// while a copy of it is being changed. Changing a map (Set, Erase) needs that map to itself.
#pragma once

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

namespace rwmeta::meta {

template <typename K, typename V, typename Compare = std::less<K>>
class PersistentMap {
 public:
  // A chunk that grows past this splits in two; one that shrinks below a quarter of it merges with
  // a neighbour when the two fit in one. About the square root of the largest catalogs (10^5).
  static constexpr size_t kMaxChunkEntries = 256;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = V;
    using difference_type = std::ptrdiff_t;
    using pointer = const V*;
    using reference = const V&;

    const_iterator() = default;
    reference operator*() const { return Entry().second; }
    pointer operator->() const { return &Entry().second; }
    // The key of the entry the iterator is at.
    const K& key() const { return Entry().first; }
    const_iterator& operator++() {
      if (++pos_ == map_->chunks_[chunk_]->size()) {
        ++chunk_;
        pos_ = 0;
      }
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.chunk_ == b.chunk_ && a.pos_ == b.pos_;
    }

   private:
    friend class PersistentMap;
    const_iterator(const PersistentMap* map, size_t chunk, size_t pos)
        : map_(map), chunk_(chunk), pos_(pos) {}
    const std::pair<K, V>& Entry() const { return (*map_->chunks_[chunk_])[pos_]; }

    const PersistentMap* map_ = nullptr;
    size_t chunk_ = 0;
    size_t pos_ = 0;
  };

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const_iterator begin() const { return {this, 0, 0}; }
  const_iterator end() const { return {this, chunks_.size(), 0}; }
  // The first entry whose key is not less than `key`.
  const_iterator LowerBound(const K& key) const {
    size_t c = ChunkFor(key);
    if (c == chunks_.size()) return end();
    const Chunk& chunk = *chunks_[c];
    return {this, c, static_cast<size_t>(LowerInChunk(chunk, key) - chunk.begin())};
  }

  // The value stored under `key`, or nullptr. The pointer lives as long as this map is unchanged.
  const V* Find(const K& key) const {
    size_t c = ChunkFor(key);
    if (c == chunks_.size()) return nullptr;
    const Chunk& chunk = *chunks_[c];
    auto it = LowerInChunk(chunk, key);
    if (it == chunk.end() || Compare()(key, it->first)) return nullptr;
    return &it->second;
  }
  bool Contains(const K& key) const { return Find(key) != nullptr; }

  // Stores `value` under `key`, replacing what was there.
  void Set(K key, V value) {
    if (chunks_.empty()) {
      chunks_.push_back(
          std::make_shared<Chunk>(1, std::pair<K, V>(std::move(key), std::move(value))));
      size_ = 1;
      return;
    }
    size_t c = ChunkFor(key);
    if (c == chunks_.size()) c = chunks_.size() - 1;  // past every key: the last chunk grows
    Chunk& chunk = MutableChunk(c);
    auto it = LowerInChunk(chunk, key);
    if (it != chunk.end() && !Compare()(key, it->first)) {
      it->second = std::move(value);
      return;
    }
    const bool appended = it == chunk.end() && c + 1 == chunks_.size();
    chunk.insert(it, {std::move(key), std::move(value)});
    ++size_;
    if (chunk.size() > kMaxChunkEntries && appended) {
      // Ids grow: an append past the last key starts a new chunk and leaves the full one full
      // (halving would leave every chunk of an id map half empty).
      chunks_.push_back(std::make_shared<Chunk>(1, std::move(chunk.back())));
      chunk.pop_back();
    } else if (chunk.size() > kMaxChunkEntries) {
      auto upper =
          std::make_shared<Chunk>(std::make_move_iterator(chunk.begin() + chunk.size() / 2),
                                  std::make_move_iterator(chunk.end()));
      chunk.resize(chunk.size() / 2);
      chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(c) + 1, std::move(upper));
    }
  }

  // Removes `key`; false if it was absent.
  bool Erase(const K& key) {
    size_t c = ChunkFor(key);
    if (c == chunks_.size()) return false;
    {
      const Chunk& shared = *chunks_[c];
      auto it = LowerInChunk(shared, key);
      if (it == shared.end() || Compare()(key, it->first)) return false;
    }
    Chunk& chunk = MutableChunk(c);
    chunk.erase(LowerInChunk(chunk, key));
    --size_;
    if (chunk.empty()) {
      chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(c));
      return true;
    }
    // Keep chunks from thinning out after many erasures: merge a small chunk into its neighbour.
    if (chunk.size() < kMaxChunkEntries / 4) {
      // The pair (c, c + 1), or (c - 1, c) for the last chunk.
      size_t left = c + 1 < chunks_.size() ? c : (c > 0 ? c - 1 : c);
      if (left + 1 < chunks_.size() &&
          chunks_[left]->size() + chunks_[left + 1]->size() <= kMaxChunkEntries) {
        Chunk& into = MutableChunk(left);
        const Chunk& from = *chunks_[left + 1];
        into.insert(into.end(), from.begin(), from.end());
        chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(left) + 1);
      }
    }
    return true;
  }

  // Equal keys with equal values, in the same order (chunk boundaries do not matter).
  friend bool operator==(const PersistentMap& a, const PersistentMap& b) {
    if (a.size_ != b.size_) return false;
    auto x = a.begin();
    for (auto y = b.begin(); y != b.end(); ++x, ++y) {
      if (!(x.key() == y.key()) || !(*x == *y)) return false;
    }
    return true;
  }

  // For tests: the number of chunks (each holds at most kMaxChunkEntries entries).
  size_t chunk_count() const { return chunks_.size(); }

 private:
  using Chunk = std::vector<std::pair<K, V>>;

  // The first chunk whose last key is not less than `key`, or chunks_.size().
  size_t ChunkFor(const K& key) const {
    auto it = std::partition_point(chunks_.begin(), chunks_.end(), [&](const auto& chunk) {
      return Compare()(chunk->back().first, key);
    });
    return static_cast<size_t>(it - chunks_.begin());
  }

  template <typename C>
  static auto LowerInChunk(C& chunk, const K& key) {
    return std::partition_point(chunk.begin(), chunk.end(),
                                [&](const auto& entry) { return Compare()(entry.first, key); });
  }

  // Chunk `c`, copied first unless this map is its only holder.
  Chunk& MutableChunk(size_t c) {
    std::shared_ptr<Chunk>& p = chunks_[c];
    if (p.use_count() == 1) {
      // The last other holder may have released the chunk on another thread just now; the fence
      // orders its reads of the chunk before our writes (it pairs with the release of that
      // decrement of the count).
      std::atomic_thread_fence(std::memory_order_acquire);
    } else {
      p = std::make_shared<Chunk>(*p);
    }
    return *p;
  }

  std::vector<std::shared_ptr<Chunk>> chunks_;
  size_t size_ = 0;
};

}  // namespace rwmeta::meta
