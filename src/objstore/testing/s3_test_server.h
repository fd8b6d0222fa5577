// Test-only (header-only, included by the *_server_test.cc files of objstore_s3_test): one s3rver
// per test binary, started on first use and stopped at exit, and S3 stores pointed at it.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "objstore/s3/s3_object_store.h"
#include "testing/s3_server.h"

namespace rwmeta::objstore::s3::testing {

inline constexpr const char* kTestBucket = "rwmeta-test";
// Never sent to s3rver in any form but the signature it does not check; tests grep every error
// message for it.
inline constexpr const char* kCanarySecret = "Canary-Secret-Key-3f9a";
inline constexpr const char* kCanaryToken = "Canary-Session-Token-77e1";

struct SharedServer {
  std::unique_ptr<::rwmeta::testing::S3Server> server;
  Status status;
};

// The binary's s3rver, or the reason it is not running (FailedPrecondition: not installed).
inline SharedServer& TheServer() {
  static SharedServer* shared = [] {
    auto* s = new SharedServer();
    ::rwmeta::testing::S3Server::Options options;
    options.buckets = {kTestBucket, "rwmeta-other"};
    auto started = ::rwmeta::testing::S3Server::Start(options);
    if (started.ok()) {
      s->server = std::move(started).value();
    } else {
      s->status = started.status();
    }
    // Stop the server at exit so no process is left behind.
    std::atexit([] { TheServer().server.reset(); });
    return s;
  }();
  return *shared;
}

// A store config for `endpoint` (default: the shared server) with a fresh key prefix and small,
// fast settings for tests.
inline S3Config TestConfig(const std::string& endpoint, const std::string& prefix) {
  S3Config c;
  c.bucket = kTestBucket;
  c.prefix = prefix;
  c.endpoint = endpoint;
  c.credentials = {::rwmeta::testing::S3Server::kAccessKey, kCanarySecret, kCanaryToken};
  c.part_size_bytes = 5 << 20;
  // s3rver rewrites objects in place: readers racing the conformance suite's writers see torn
  // objects and retry, so allow plenty of quick attempts.
  c.retry.max_attempts = 10;
  c.retry.initial_backoff_ms = 5;
  c.retry.max_backoff_ms = 200;
  c.http.stall_timeout_ms = 5000;
  return c;
}

// "t-<n>": a prefix no other test in this process uses.
inline std::string FreshPrefix(const std::string& stem) {
  static std::atomic<int> next{0};
  return stem + "-" + std::to_string(next.fetch_add(1));
}

}  // namespace rwmeta::objstore::s3::testing
