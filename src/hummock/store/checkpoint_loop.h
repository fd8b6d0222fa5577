// CheckpointLoop: the barrier of the meta node. Every interval (barrier_interval_ms ×
// checkpoint_frequency, re-read each round so ALTER SYSTEM takes effect) it commits the open
// epoch through StateStore::Checkpoint, and once more when it stops, so that a clean shutdown loses
// nothing that was written. Failed checkpoints are logged and retried next round (the data stays
// buffered).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "hummock/store/state_store.h"

namespace rwmeta::hummock {

class CheckpointLoop {
 public:
  // Starts the thread. REQUIRES: `store` outlives the loop; `interval` is cheap and thread-safe.
  CheckpointLoop(StateStore& store, std::function<std::chrono::milliseconds()> interval);
  ~CheckpointLoop();  // Stop()
  CheckpointLoop(const CheckpointLoop&) = delete;
  CheckpointLoop& operator=(const CheckpointLoop&) = delete;

  // Stops the thread after a final checkpoint, returning that checkpoint's status. Idempotent.
  Status Stop();
  // Checkpoints committed by the loop so far (epochs that had data).
  uint64_t committed() const;

 private:
  void Run();

  StateStore& store_;
  std::function<std::chrono::milliseconds()> interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool stopped_ = false;
  uint64_t committed_ = 0;
  Status final_status_;
  std::thread thread_;
};

}  // namespace rwmeta::hummock
