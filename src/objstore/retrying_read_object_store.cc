#include "objstore/retrying_read_object_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace rwmeta::objstore {

namespace {

// Runs `fn` on its own thread and waits up to `timeout_ms` for it. On timeout returns
// DeadlineExceeded and leaves the thread to finish alone; `fn` must own (share) what it uses.
template <typename T>
Result<T> WithTimeout(std::function<Result<T>()> fn, int64_t timeout_ms, const std::string& what) {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Result<T>> result;
  };
  auto state = std::make_shared<State>();
  std::thread([state, fn = std::move(fn)]() mutable {
    Result<T> r = fn();
    std::lock_guard lock(state->mu);
    state->result.emplace(std::move(r));
    state->cv.notify_all();
  }).detach();
  std::unique_lock lock(state->mu);
  if (!state->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                          [&] { return state->result.has_value(); })) {
    return DeadlineExceededError(
        fmt::format("{}: no answer within the read attempt timeout of {} ms", what, timeout_ms));
  }
  return std::move(*state->result);
}

bool Retryable(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded;
}

template <typename T>
Result<T> Retry(const ReadRetryOptions& options, std::atomic<int64_t>& attempts,
                const std::function<Result<T>()>& fn, const std::string& what) {
  int64_t backoff_ms = options.initial_backoff_ms;
  for (int64_t retry = 0;; ++retry) {
    attempts.fetch_add(1);
    Result<T> r = WithTimeout<T>(fn, options.attempt_timeout_ms, what);
    if (r.ok() || !Retryable(r.status()) || retry >= options.retry_attempts) {
      if (!r.ok() && Retryable(r.status()) && retry > 0) {
        return r.status().WithContext(fmt::format("{} failed after {} attempts", what, retry + 1));
      }
      return r;
    }
    spdlog::warn("backup storage: {} failed ({}); retry {} of {} in {} ms", what,
                 r.status().message(), retry + 1, options.retry_attempts, backoff_ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 2000);
  }
}

class TimedReader : public ObjectReader {
 public:
  TimedReader(std::shared_ptr<ObjectReader> inner, int64_t timeout_ms, std::string key)
      : inner_(std::move(inner)), timeout_ms_(timeout_ms), key_(std::move(key)) {}
  Status Read(size_t max_bytes, std::string* out) override {
    auto inner = inner_;
    Result<std::string> r = WithTimeout<std::string>(
        [inner, max_bytes]() -> Result<std::string> {
          std::string chunk;
          RWMETA_RETURN_IF_ERROR(inner->Read(max_bytes, &chunk));
          return chunk;
        },
        timeout_ms_, "reading " + key_);
    if (!r.ok()) return r.status();
    *out = std::move(r).value();
    return Status::Ok();
  }
  uint64_t size_bytes() const override { return inner_->size_bytes(); }

 private:
  std::shared_ptr<ObjectReader> inner_;
  int64_t timeout_ms_;
  std::string key_;
};

}  // namespace

RetryingReadObjectStore::RetryingReadObjectStore(std::shared_ptr<ObjectStore> base,
                                                 ReadRetryOptions options)
    : base_(std::move(base)),
      options_(options),
      attempts_(std::make_shared<std::atomic<int64_t>>(0)) {}

int64_t RetryingReadObjectStore::attempts() const { return attempts_->load(); }

Result<std::string> RetryingReadObjectStore::Get(std::string_view key) {
  auto base = base_;
  std::string k(key);
  return Retry<std::string>(
      options_, *attempts_, [base, k] { return base->Get(k); }, "get " + k);
}

Result<std::string> RetryingReadObjectStore::GetRange(std::string_view key, uint64_t offset,
                                                      uint64_t length) {
  auto base = base_;
  std::string k(key);
  return Retry<std::string>(
      options_, *attempts_, [base, k, offset, length] { return base->GetRange(k, offset, length); },
      "get " + k);
}

Result<ObjectMeta> RetryingReadObjectStore::Head(std::string_view key) {
  auto base = base_;
  std::string k(key);
  return Retry<ObjectMeta>(
      options_, *attempts_, [base, k] { return base->Head(k); }, "head " + k);
}

Result<std::vector<ObjectMeta>> RetryingReadObjectStore::List(std::string_view prefix) {
  auto base = base_;
  std::string p(prefix);
  return Retry<std::vector<ObjectMeta>>(
      options_, *attempts_, [base, p] { return base->List(p); }, "list " + p);
}

Result<std::unique_ptr<ObjectReader>> RetryingReadObjectStore::OpenReader(std::string_view key) {
  auto base = base_;
  std::string k(key);
  RWMETA_ASSIGN_OR_RETURN(std::shared_ptr<ObjectReader> inner,
                          (Retry<std::shared_ptr<ObjectReader>>(
                              options_, *attempts_,
                              [base, k]() -> Result<std::shared_ptr<ObjectReader>> {
                                RWMETA_ASSIGN_OR_RETURN(auto reader, base->OpenReader(k));
                                return std::shared_ptr<ObjectReader>(std::move(reader));
                              },
                              "open " + k)));
  return std::unique_ptr<ObjectReader>(
      new TimedReader(std::move(inner), options_.attempt_timeout_ms, k));
}

}  // namespace rwmeta::objstore
