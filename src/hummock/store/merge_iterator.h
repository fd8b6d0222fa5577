// Iterators over encoded Hummock entries (full key -> value), the merge of several of them, and the
// user-key view that readers want.
//
//   KvIterator        the interface: entries in CompareFullKeys order (key.h)
//   SstKvIterator     one SST object (wraps SstIterator)
//   MemKvIterator     a sorted in-memory batch (the write buffer of an epoch not yet committed)
//   MergeIterator     several KvIterators merged; the same full key in two inputs: the input listed
//                     first wins and the others' copies are skipped (so list newer data first)
//   UserKeyIterator   over a merge: for each (table, user key) the newest entry with epoch <=
//                     read_epoch, tombstones hidden, within one table and an optional key range
//
// Compaction merges with MergeIterator; SELECT reads with UserKeyIterator. All are single-threaded
// objects; an error ends the iteration (Valid() false, status() says why, e.g. DataLoss naming the
// SST object and block).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "hummock/sst/key.h"
#include "hummock/sst/sst_reader.h"

namespace rwmeta::hummock {

class KvIterator {
 public:
  virtual ~KvIterator() = default;
  virtual void SeekToFirst() = 0;
  // Positions at the first entry whose full key is >= `full_key` (CompareFullKeys).
  virtual void Seek(std::string_view full_key) = 0;
  // REQUIRES: Valid().
  virtual void Next() = 0;
  virtual bool Valid() const = 0;
  // REQUIRES: Valid(). Views stay valid until the next Seek/Next.
  virtual std::string_view key() const = 0;
  virtual bool tombstone() const = 0;
  virtual std::string_view value() const = 0;
  // OK unless an error ended the iteration.
  virtual Status status() const = 0;
};

// One SST. Keeps the reader alive (shared) for the iterator's lifetime.
class SstKvIterator : public KvIterator {
 public:
  explicit SstKvIterator(std::shared_ptr<const SstReader> reader)
      : reader_(std::move(reader)), it_(reader_->NewIterator()) {}
  void SeekToFirst() override { it_->SeekToFirst(); }
  void Seek(std::string_view full_key) override { it_->Seek(full_key); }
  void Next() override { it_->Next(); }
  bool Valid() const override { return it_->Valid(); }
  std::string_view key() const override { return it_->key(); }
  bool tombstone() const override { return it_->tombstone(); }
  std::string_view value() const override { return it_->value(); }
  Status status() const override { return it_->status(); }

 private:
  std::shared_ptr<const SstReader> reader_;
  std::unique_ptr<SstIterator> it_;
};

// Comparator for maps keyed by encoded full keys.
struct FullKeyLess {
  bool operator()(const std::string& a, const std::string& b) const {
    return CompareFullKeys(a, b) < 0;
  }
};
using KvBatch = std::map<std::string, Value, FullKeyLess>;

// A sorted in-memory batch. The batch must outlive the iterator and not change while it is used.
class MemKvIterator : public KvIterator {
 public:
  explicit MemKvIterator(const KvBatch* batch) : batch_(batch), it_(batch->end()) {}
  void SeekToFirst() override { it_ = batch_->begin(); }
  void Seek(std::string_view full_key) override {
    it_ = batch_->lower_bound(std::string(full_key));
  }
  void Next() override { ++it_; }
  bool Valid() const override { return it_ != batch_->end(); }
  std::string_view key() const override { return it_->first; }
  bool tombstone() const override { return it_->second.tombstone; }
  std::string_view value() const override { return it_->second.bytes; }
  Status status() const override { return Status::Ok(); }

 private:
  const KvBatch* batch_;
  KvBatch::const_iterator it_;
};

class MergeIterator : public KvIterator {
 public:
  // `inputs` in priority order: for equal full keys the earlier input wins.
  explicit MergeIterator(std::vector<std::unique_ptr<KvIterator>> inputs);
  void SeekToFirst() override;
  void Seek(std::string_view full_key) override;
  void Next() override;
  bool Valid() const override { return current_ >= 0; }
  std::string_view key() const override { return inputs_[current_]->key(); }
  bool tombstone() const override { return inputs_[current_]->tombstone(); }
  std::string_view value() const override { return inputs_[current_]->value(); }
  Status status() const override { return status_; }

 private:
  // Picks the smallest input (first on ties); records the first input error.
  void FindCurrent();

  std::vector<std::unique_ptr<KvIterator>> inputs_;
  int current_ = -1;
  Status status_;
};

// The visible rows of one table at `read_epoch`: for every user key, the newest entry with epoch
// <= read_epoch if it is a put. Keys ascending (memcomparable order of the primary key).
class UserKeyIterator {
 public:
  struct Range {
    std::string start;  // inclusive user key; empty: from the table's start
    std::string end;    // exclusive user key; empty: to the table's end
  };
  UserKeyIterator(std::unique_ptr<KvIterator> merged, uint32_t table_id, uint64_t read_epoch,
                  Range range = {});

  // Positions at the first visible key of the range.
  void SeekToFirst();
  void Next();
  bool Valid() const { return valid_; }
  // REQUIRES: Valid().
  std::string_view user_key() const { return user_key_; }
  std::string_view value() const { return value_; }
  Status status() const { return status_; }

 private:
  // From the merge's position, finds the next visible key.
  void Settle();

  std::unique_ptr<KvIterator> it_;
  uint32_t table_id_;
  uint64_t read_epoch_;
  Range range_;
  bool valid_ = false;
  std::string user_key_;
  std::string value_;
  Status status_;
};

}  // namespace rwmeta::hummock
