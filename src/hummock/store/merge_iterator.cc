#include "hummock/store/merge_iterator.h"

namespace rwmeta::hummock {

MergeIterator::MergeIterator(std::vector<std::unique_ptr<KvIterator>> inputs)
    : inputs_(std::move(inputs)) {}

// Why a linear scan and not a heap: inputs are the SSTs overlapping one read (a handful of L0
// sub-levels plus one SST per deeper level), so a scan of a few pointers beats heap upkeep and
// keeps the first-input-wins rule obvious.
void MergeIterator::FindCurrent() {
  current_ = -1;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const auto& in = inputs_[i];
    if (!in->Valid()) {
      if (status_.ok() && !in->status().ok()) status_ = in->status();
      continue;
    }
    if (current_ < 0 || CompareFullKeys(in->key(), inputs_[current_]->key()) < 0) {
      current_ = static_cast<int>(i);
    }
  }
  if (!status_.ok()) current_ = -1;
}

void MergeIterator::SeekToFirst() {
  status_ = Status::Ok();
  for (auto& in : inputs_) in->SeekToFirst();
  FindCurrent();
}

void MergeIterator::Seek(std::string_view full_key) {
  status_ = Status::Ok();
  for (auto& in : inputs_) in->Seek(full_key);
  FindCurrent();
}

void MergeIterator::Next() {
  // Advance every input sitting on the current key (the winner and any shadowed copies).
  std::string key(inputs_[current_]->key());
  for (auto& in : inputs_) {
    if (in->Valid() && CompareFullKeys(in->key(), key) == 0) in->Next();
  }
  FindCurrent();
}

UserKeyIterator::UserKeyIterator(std::unique_ptr<KvIterator> merged, uint32_t table_id,
                                 uint64_t read_epoch, Range range)
    : it_(std::move(merged)),
      table_id_(table_id),
      read_epoch_(read_epoch),
      range_(std::move(range)) {}

void UserKeyIterator::SeekToFirst() {
  status_ = Status::Ok();
  // The largest epoch sorts first for a user key.
  it_->Seek(EncodeFullKey(table_id_, range_.start, UINT64_MAX));
  Settle();
}

void UserKeyIterator::Next() {
  // Skip the older versions of the current key.
  std::string after = EncodeFullKey(table_id_, user_key_, 0);
  while (it_->Valid() && CompareFullKeys(it_->key(), after) <= 0) it_->Next();
  Settle();
}

void UserKeyIterator::Settle() {
  valid_ = false;
  while (it_->Valid()) {
    auto decoded = DecodeFullKey(it_->key());
    if (!decoded.ok()) {
      status_ = decoded.status();
      return;
    }
    const FullKeyView& k = *decoded;
    if (k.table_id != table_id_) break;
    if (!range_.end.empty() && k.user_key >= std::string_view(range_.end)) break;
    if (k.epoch > read_epoch_) {
      // Too new for this read: look at the next (older) entry of the same key.
      it_->Next();
      continue;
    }
    // The newest visible version of this key.
    if (!it_->tombstone()) {
      user_key_.assign(k.user_key);
      value_.assign(it_->value());
      valid_ = true;
      return;
    }
    // Deleted: skip every older version of the key.
    std::string after = EncodeFullKey(table_id_, k.user_key, 0);
    while (it_->Valid() && CompareFullKeys(it_->key(), after) <= 0) it_->Next();
  }
  if (!it_->status().ok()) status_ = it_->status();
}

}  // namespace rwmeta::hummock
