#include "hummock/cluster/state_store_guard.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <random>

#include "hummock/cluster/generation.h"
#include "hummock/names.h"

namespace rwmeta::hummock {

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string RandomHolderId() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  return fmt::format("{:016x}", gen());
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown-host";
  return buf;
}

// What we know of a lease object written by someone.
struct LeaseInfo {
  std::string holder_id;
  std::string host = "unknown host";
  int64_t pid = 0;
  int64_t ttl_ms = 0;
  int64_t expires_at_ms = 0;
};

// A lease we cannot parse belongs to nobody we know: it is waited out like any foreign lease.
LeaseInfo ParseLease(const std::string& text) {
  LeaseInfo info;
  try {
    auto j = nlohmann::json::parse(text);
    info.holder_id = j.value("holder_id", "");
    info.host = j.value("host", "unknown host");
    info.pid = j.value("pid", int64_t{0});
    info.ttl_ms = j.value("ttl_ms", int64_t{0});
    info.expires_at_ms = j.value("expires_at_ms", int64_t{0});
  } catch (const nlohmann::json::exception&) {
    info.host = "unparsable lease";
  }
  return info;
}

}  // namespace

Status CheckStateStoreClusterId(objstore::ObjectStore& store, const std::string& display_url,
                                const std::string& data_directory, const std::string& cluster_id) {
  const std::string key = ClusterIdKey(data_directory);
  auto compare = [&](const std::string& stored) -> Status {
    std::string other = Trim(stored);
    if (other == cluster_id) return Status::Ok();
    return FailedPreconditionError(fmt::format(
        "state store {}/{} belongs to cluster {}, not {}: never run two clusters on the same SSTs",
        display_url, data_directory, other, cluster_id));
  };
  auto existing = store.Get(key);
  if (existing.ok()) return compare(*existing);
  if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status().WithContext("reading " + key);
  }
  objstore::PutOptions put;
  put.if_none_match = store.SupportsConditionalPut();
  Status written = store.Put(key, cluster_id + "\n", put);
  if (written.ok()) return Status::Ok();
  if (!IsAborted(written)) return written.WithContext("writing " + key);
  // Another first start wrote it between our Get and Put: whoever won decides.
  auto again = store.Get(key);
  if (!again.ok()) return again.status().WithContext("reading " + key);
  return compare(*again);
}

StateStoreGuard::StateStoreGuard(objstore::ObjectStore& store, std::string data_directory,
                                 StateStoreGuardOptions options, std::string holder_id)
    : store_(store),
      data_directory_(std::move(data_directory)),
      key_(MetaLeaseKey(data_directory_)),
      options_(std::move(options)),
      clock_(options_.clock ? options_.clock : SystemClock()),
      holder_id_(std::move(holder_id)) {}

std::string StateStoreGuard::LeaseJson(int64_t now_ms) const {
  static std::atomic<uint64_t> seq{0};
  nlohmann::json j;
  j["holder_id"] = holder_id_;
  j["host"] = HostName();
  j["pid"] = static_cast<int64_t>(getpid());
  j["ttl_ms"] = options_.ttl_ms;
  j["expires_at_ms"] = now_ms + options_.ttl_ms;
  j["renewed_at_ms"] = now_ms;
  // Every write differs, so that every renewal changes the etag even on a stopped clock.
  j["seq"] = seq.fetch_add(1);
  return j.dump();
}

// Writes our lease with `put` and learns its etag. REQUIRES: mu_ held.
Status StateStoreGuard::Create(const objstore::PutOptions& put) {
  objstore::PutOptions effective = put;
  if (!store_.SupportsConditionalPut()) effective = objstore::PutOptions{};
  const int64_t started_ms = clock_->NowMs();
  const std::string body = LeaseJson(started_ms);
  RWMETA_RETURN_IF_ERROR(store_.Put(key_, body, effective));
  RWMETA_ASSIGN_OR_RETURN(objstore::ObjectMeta meta, store_.Head(key_));
  RWMETA_ASSIGN_OR_RETURN(std::string now_stored, store_.Get(key_));
  // Put returns no etag: make sure the etag we keep belongs to what we wrote.
  if (now_stored != body) {
    return AbortedError(fmt::format("meta lease {} was overwritten by another meta node", key_));
  }
  etag_ = meta.etag;
  last_write_started_ms_ = started_ms;
  return Status::Ok();
}

Result<std::unique_ptr<StateStoreGuard>> StateStoreGuard::Acquire(objstore::ObjectStore& store,
                                                                  std::string data_directory,
                                                                  StateStoreGuardOptions options) {
  if (options.ttl_ms <= 0) return InvalidArgumentError("state store lease ttl must be positive");
  std::string holder = options.holder_id.empty() ? RandomHolderId() : options.holder_id;
  std::unique_ptr<StateStoreGuard> guard(
      new StateStoreGuard(store, std::move(data_directory), std::move(options), std::move(holder)));
  StateStoreGuard& g = *guard;
  Clock& clock = *g.clock_;
  const int64_t poll_ms = g.options_.poll_interval_ms > 0
                              ? g.options_.poll_interval_ms
                              : std::max<int64_t>(1, g.options_.ttl_ms / 10);
  std::lock_guard<std::mutex> lock(g.mu_);

  auto head = store.Head(g.key_);
  if (!head.ok() && head.status().code() != StatusCode::kNotFound) {
    return head.status().WithContext("meta lease " + g.key_);
  }
  if (!head.ok()) {
    Status created = g.Create({.if_none_match = true, .if_match_etag = std::nullopt});
    if (IsAborted(created)) {
      return AbortedError(
          fmt::format("meta lease {}: another meta node acquired it at the same time", g.key_));
    }
    RWMETA_RETURN_IF_ERROR(created);
  } else {
    RWMETA_ASSIGN_OR_RETURN(std::string text, store.Get(g.key_));
    LeaseInfo info = ParseLease(text);
    const std::string seen_etag = head->etag;
    const int64_t ttl = info.ttl_ms > 0 ? info.ttl_ms : g.options_.ttl_ms;
    bool take_over = g.options_.force || info.holder_id == g.holder_id_ ||
                     clock.NowMs() > info.expires_at_ms + ttl;
    if (g.options_.force && info.holder_id != g.holder_id_) {
      spdlog::warn("taking the state store lease from {} pid {} by force", info.host, info.pid);
    }
    if (!take_over) {
      spdlog::info("state store lease held by {} pid {}: waiting up to {} ms for it to expire",
                   info.host, info.pid, ttl);
      // Waited on our own clock, not on the holder's expires_at, so that clock skew between hosts
      // cannot let two nodes in: the lease is taken only after it stayed unchanged for a full TTL.
      const int64_t start = clock.NowMs();
      while (clock.NowMs() - start < ttl) {
        clock.SleepMs(poll_ms);
        auto again = store.Head(g.key_);
        if (!again.ok() && again.status().code() == StatusCode::kNotFound) break;
        if (!again.ok()) return again.status().WithContext("meta lease " + g.key_);
        if (again->etag != seen_etag) {
          return FailedPreconditionError(fmt::format(
              "state store is in use by another meta node ({} pid {}): its lease {} is being "
              "renewed; pass --force-state-store-lease if that node is really gone",
              info.host, info.pid, g.key_));
        }
      }
    }
    auto still = store.Head(g.key_);
    Status written;
    if (!still.ok() && still.status().code() == StatusCode::kNotFound) {
      // Released while we waited.
      written = g.Create({.if_none_match = true, .if_match_etag = std::nullopt});
    } else if (!still.ok()) {
      return still.status().WithContext("meta lease " + g.key_);
    } else {
      written = g.Create({.if_none_match = false, .if_match_etag = seen_etag});
    }
    if (IsAborted(written)) {
      return AbortedError(
          fmt::format("meta lease {}: another meta node took it at the same time", g.key_));
    }
    RWMETA_RETURN_IF_ERROR(written);
  }
  g.confirmed_until_ms_ = g.last_write_started_ms_ + g.options_.ttl_ms;
  spdlog::info("acquired state store lease {} as holder {} (ttl {} ms)", g.key_, g.holder_id_,
               g.options_.ttl_ms);
  if (g.options_.renew_in_background) {
    g.renewer_ = std::thread([&g] { g.RenewLoop(); });
  }
  return guard;
}

StateStoreGuard::~StateStoreGuard() { StopThread(); }

void StateStoreGuard::StopThread() {
  {
    std::lock_guard<std::mutex> lock(thread_mu_);
    stopping_ = true;
  }
  thread_cv_.notify_all();
  if (renewer_.joinable()) renewer_.join();
}

void StateStoreGuard::RenewLoop() {
  const auto period = std::chrono::milliseconds(std::max<int64_t>(1, options_.ttl_ms / 3));
  std::unique_lock<std::mutex> lock(thread_mu_);
  while (!stopping_) {
    if (thread_cv_.wait_for(lock, period, [this] { return stopping_; })) break;
    lock.unlock();
    Status renewed = RenewOnce();
    if (!renewed.ok() && !lost()) {
      spdlog::warn("renewing state store lease {}: {} (will retry)", key_, renewed.ToString());
    }
    lock.lock();
    if (lost()) break;
  }
}

Status StateStoreGuard::RenewOnce() {
  std::lock_guard<std::mutex> lock(mu_);
  if (lost()) return AbortedError(fmt::format("state store lease {} was lost", key_));
  if (released_) return FailedPreconditionError("state store lease was released");
  Status s = Create({.if_none_match = false, .if_match_etag = etag_});
  if (IsAborted(s) || s.code() == StatusCode::kNotFound) {
    MarkLostLocked(fmt::format(
        "this meta node lost the state store lease {} to another meta node: it no longer writes "
        "to or deletes from the state store; stop it",
        key_));
    spdlog::error(
        "lost the state store lease {}: another meta node took it over; this node must stop "
        "writing to the state store",
        key_);
    return AbortedError(fmt::format("state store lease {} was lost", key_));
  }
  RWMETA_RETURN_IF_ERROR(s);
  RWMETA_RETURN_IF_ERROR(CheckGenerationLocked());
  confirmed_until_ms_ = last_write_started_ms_ + options_.ttl_ms;
  return Status::Ok();
}

Status StateStoreGuard::CheckGenerationLocked() {
  if (options_.generation == 0) return Status::Ok();
  auto current = ReadGeneration(store_, data_directory_);
  // A restore always writes the object: without one, nobody superseded us.
  if (!current.ok() && current.status().code() == StatusCode::kNotFound) return Status::Ok();
  // A store error is retried at the next renewal (writes wait meanwhile: nothing confirmed).
  if (!current.ok()) return current.status().WithContext("re-reading the cluster generation");
  if (current->record.generation <= options_.generation) return Status::Ok();
  std::string why = SupersededMessage(options_.generation, current->record,
                                      options_.meta_store_display, options_.state_store_display);
  spdlog::error("{}; this node stops writing to and deleting from the state store: stop it", why);
  MarkLostLocked(why + "; this node no longer writes to or deletes from the state store: stop it");
  return AbortedError(why);
}

void StateStoreGuard::MarkLostLocked(std::string reason) {
  if (lost()) return;
  lost_reason_ = std::move(reason);
  lost_ = true;
}

std::string StateStoreGuard::lost_reason() const { return lost() ? lost_reason_ : std::string(); }

Status StateStoreGuard::CheckWritable() const {
  if (lost()) return FailedPreconditionError(lost_reason_);
  const int64_t now_ms = clock_->NowMs();
  const int64_t until_ms = confirmed_until_ms_.load();
  if (now_ms >= until_ms) {
    return UnavailableError(fmt::format(
        "the state store lease {} was last confirmed {} ms ago (ttl {} ms): writes to the state "
        "store wait until a renewal confirms it",
        key_, now_ms - until_ms + options_.ttl_ms, options_.ttl_ms));
  }
  return Status::Ok();
}

Status StateStoreGuard::Release() {
  StopThread();
  std::lock_guard<std::mutex> lock(mu_);
  if (released_ || lost()) {
    released_ = true;
    return Status::Ok();
  }
  released_ = true;
  auto head = store_.Head(key_);
  if (!head.ok()) {
    return head.status().code() == StatusCode::kNotFound ? Status::Ok()
                                                         : head.status().WithContext(key_);
  }
  // Someone took it over: theirs now, leave it alone.
  if (head->etag != etag_) return Status::Ok();
  RWMETA_RETURN_IF_ERROR(store_.Delete(key_));
  spdlog::info("released state store lease {}", key_);
  return Status::Ok();
}

}  // namespace rwmeta::hummock
