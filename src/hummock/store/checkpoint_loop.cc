#include "hummock/store/checkpoint_loop.h"

#include <spdlog/spdlog.h>

namespace rwmeta::hummock {

CheckpointLoop::CheckpointLoop(StateStore& store,
                               std::function<std::chrono::milliseconds()> interval)
    : store_(store), interval_(std::move(interval)), thread_([this] { Run(); }) {}

CheckpointLoop::~CheckpointLoop() { Stop().IgnoreError(); }

void CheckpointLoop::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto wait = std::max(interval_(), std::chrono::milliseconds(1));
    cv_.wait_for(lock, wait, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    auto r = store_.Checkpoint();
    lock.lock();
    if (!r.ok()) {
      spdlog::error("hummock: checkpoint failed, the epoch stays buffered: {}",
                    r.status().ToString());
    } else if (r->epoch != 0) {
      ++committed_;
    }
  }
}

Status CheckpointLoop::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return final_status_;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  auto r = store_.Checkpoint();
  std::lock_guard lock(mu_);
  stopped_ = true;
  final_status_ = r.status();
  if (r.ok() && r->epoch != 0) ++committed_;
  return final_status_;
}

uint64_t CheckpointLoop::committed() const {
  std::lock_guard lock(mu_);
  return committed_;
}

}  // namespace rwmeta::hummock
