// One cluster per state store. Two objects inside `<data_directory>/` of the state store keep two
// meta nodes from writing the same SSTs:
//   cluster_id  the id of the cluster that owns the directory (text), written once, never changed.
//   meta_lease  JSON {holder_id, host, pid, ttl_ms, expires_at_ms, renewed_at_ms}: the meta node
//               currently serving. Created and renewed with conditional Puts (etags), so of two
//               concurrent acquirers exactly one wins.
//
// Concurrency:
//   CheckStateStoreClusterId    any thread
//   StateStoreGuard::Acquire    any thread; blocks up to the current holder's TTL
//   RenewOnce, Release, lost    any thread (internally serialized)
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/status.h"
#include "objstore/object_store.h"

namespace rwmeta::hummock {

// Makes sure `<data_directory>/cluster_id` names `cluster_id`: writes it if absent (a concurrent
// first start that loses the race re-reads). OK if it already holds `cluster_id`;
// FailedPrecondition naming both clusters if it holds another; the store's errors otherwise.
// `display_url` is the state store URL without credentials, used in messages.
Status CheckStateStoreClusterId(objstore::ObjectStore& store, const std::string& display_url,
                                const std::string& data_directory, const std::string& cluster_id);

struct StateStoreGuardOptions {
  // Lease lifetime; renewed every ttl_ms / 3.
  int64_t ttl_ms = 6000;
  // Null: SystemClock(). Not owned; must outlive the guard.
  Clock* clock = nullptr;
  // Take the lease over at once whoever holds it (disaster recovery).
  bool force = false;
  // Start a thread that calls RenewOnce every ttl_ms / 3 (tests turn it off and call RenewOnce).
  bool renew_in_background = true;
  // Empty: a random id for this process.
  std::string holder_id;
  // Poll interval while waiting for another holder; 0: ttl_ms / 10.
  int64_t poll_interval_ms = 0;
  // The cluster generation this node serves (generation.h); 0: not checked. Each renewal re-reads
  // `<data_directory>/generation`: a newer generation (a restore superseded this meta store) fences
  // the node as a lost lease does. The two names are used in the message (no credentials).
  uint64_t generation = 0;
  std::string meta_store_display;
  std::string state_store_display;
};

// Holds the meta lease on a state store while alive.
class StateStoreGuard {
 public:
  // Acquires `<data_directory>/meta_lease`:
  //   absent                      -> created (if_none_match)
  //   ours (same holder id)       -> renewed
  //   another holder, renewed while we watch (etag changes) -> FailedPrecondition naming the host
  //                                  and pid and --force-state-store-lease
  //   another holder, unchanged for its TTL (or long expired) -> taken over (if_match on its etag)
  //   options.force               -> taken over at once
  // Aborted if another acquirer won a race on the same object; the store's errors otherwise.
  // `store` is not owned and must outlive the guard.
  static Result<std::unique_ptr<StateStoreGuard>> Acquire(objstore::ObjectStore& store,
                                                          std::string data_directory,
                                                          StateStoreGuardOptions options);

  // Stops renewing; does not release (call Release on a clean shutdown).
  ~StateStoreGuard();

  StateStoreGuard(const StateStoreGuard&) = delete;
  StateStoreGuard& operator=(const StateStoreGuard&) = delete;

  // Extends the lease by one TTL with if_match on our last etag. Aborted (and lost() becomes true)
  // if the lease was taken over or deleted; the store's errors otherwise (the lease is kept and
  // the next renewal retries). After losing, every call returns Aborted.
  Status RenewOnce();

  // Stops renewing and deletes the lease if it is still ours (checked by etag). OK if it was
  // already lost or released. Idempotent.
  Status Release();

  // Whether another node took the lease or a restore superseded this node's generation (then this
  // node must stop writing).
  bool lost() const { return lost_.load(); }
  // Why lost() is true ("" while it is not).
  std::string lost_reason() const;

  // Whether this node may write to and delete from the state store now:
  //   OK                  the lease was confirmed (acquired or renewed, generation re-read) less
  //                       than one TTL ago
  //   FailedPrecondition  lost() (for good; the message says why)
  //   Unavailable         the last confirmation is a TTL old or more (the process was paused, or
  //                       the store did not answer): another node may have taken over, so writes
  //                       wait until a renewal confirms the lease again
  Status CheckWritable() const;
  const std::string& holder_id() const { return holder_id_; }

 private:
  StateStoreGuard(objstore::ObjectStore& store, std::string data_directory,
                  StateStoreGuardOptions options, std::string holder_id);
  Status Create(const objstore::PutOptions& put);
  // Re-reads the generation object; marks the lease lost if a newer generation took over.
  // REQUIRES: mu_ held.
  Status CheckGenerationLocked();
  void MarkLostLocked(std::string reason);
  std::string LeaseJson(int64_t now_ms) const;
  void RenewLoop();
  void StopThread();

  objstore::ObjectStore& store_;
  const std::string data_directory_;
  const std::string key_;
  const StateStoreGuardOptions options_;
  Clock* const clock_;
  const std::string holder_id_;
  std::atomic<bool> lost_{false};
  // Clock time until which the last confirmation holds (its start + ttl_ms).
  std::atomic<int64_t> confirmed_until_ms_{0};

  std::mutex mu_;  // guards etag_, released_, and the store calls on the lease
  std::string etag_;
  // Clock time when the last successful write of the lease began.
  int64_t last_write_started_ms_ = 0;
  // Written once, before lost_ becomes true; read only after it is.
  std::string lost_reason_;
  bool released_ = false;

  std::mutex thread_mu_;
  std::condition_variable thread_cv_;
  bool stopping_ = false;
  std::thread renewer_;
};

}  // namespace rwmeta::hummock
