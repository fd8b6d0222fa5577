// HttpFaultProxy: a small HTTP/1.1 proxy on a free 127.0.0.1 port that sits between a client and a
// real server (s3rver) and, per request, forwards it or injects a fault chosen by the test: an
// error answer (503 SlowDown, 500, 403, ...), a stall (no answer for a while, then close), a
// connection reset before any answer, or a reset half-way through the server's real answer.
//
// It can also stand in for S3's conditional writes in front of a server that ignores them
// (EmulateConditionalWrites): s3rver does not honour If-None-Match / If-Match, AWS S3 does.
//
// Each client connection is served by its own thread; requests are forwarded on a fresh upstream
// connection with "Connection: close", so the client reconnects for each request (connection
// reuse is not what these tests exercise). Request bodies must carry Content-Length (no chunked
// uploads), which is what the S3 client sends.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace rwmeta::testing {

struct ProxiedRequest {
  std::string method;
  std::string target;  // "/bucket/key?uploadId=x&partNumber=2"
  // Names lower-cased.
  std::map<std::string, std::string> headers;
  uint64_t body_bytes = 0;
  // 0-based arrival order over the proxy's lifetime.
  int index = 0;

  // The value of query parameter `name` in `target`, or "" (also when present without value).
  std::string QueryParam(const std::string& name) const;
  bool HasQueryParam(const std::string& name) const;
};

struct Fault {
  enum class Kind {
    kForward,           // pass to the server untouched
    kRespond,           // answer `status` with `body` without asking the server
    kStall,             // say nothing for `stall_ms`, then close
    kReset,             // reset the connection (RST) before answering
    kResetMidResponse,  // forward, then relay only half of the answer and reset
    kDelay,             // wait `stall_ms`, then forward
  };
  Kind kind = Kind::kForward;
  int status = 503;
  std::string body;
  int64_t stall_ms = 0;

  static Fault Forward() { return Fault{}; }
  // An S3 error document with `code` and a request id "proxy-<n>".
  static Fault S3Error(int status, const std::string& code);
  static Fault Stall(int64_t ms) { return Fault{Kind::kStall, 0, "", ms}; }
  static Fault Reset() { return Fault{Kind::kReset}; }
  static Fault ResetMidResponse() { return Fault{Kind::kResetMidResponse}; }
  static Fault Delay(int64_t ms) { return Fault{Kind::kDelay, 0, "", ms}; }
};

class HttpFaultProxy {
 public:
  using Rule = std::function<Fault(const ProxiedRequest&)>;

  // Listens on a free loopback port and forwards to 127.0.0.1:`upstream_port`.
  static Result<std::unique_ptr<HttpFaultProxy>> Start(int upstream_port);
  // Stops accepting, ends stalls early and joins every connection thread.
  ~HttpFaultProxy();
  HttpFaultProxy(const HttpFaultProxy&) = delete;
  HttpFaultProxy& operator=(const HttpFaultProxy&) = delete;

  int port() const { return port_; }
  std::string endpoint() const;

  // Decides each request's fate from now on (default: forward everything). Thread-safe.
  void SetRule(Rule rule);

  // The current ETag (quotes optional) of the object at a request path ("/bucket/key", decoded,
  // without the query), NotFound if there is none; any other error is answered 500.
  using EtagLookup = std::function<Result<std::string>(const std::string& path)>;
  // From now on, answers conditional writes as S3 does, judging them against `etag_of` (which
  // must ask the server directly, not through this proxy): a PutObject (PUT without partNumber)
  // or CompleteMultipartUpload (POST with uploadId) carrying If-None-Match: * fails with 412
  // PreconditionFailed if the object exists; one carrying If-Match fails with 404 NoSuchKey if
  // it does not and 412 if its ETag differs. A write whose condition holds is forwarded. The
  // check and the forwarded write happen under one lock over all conditional writes, so, as on
  // S3, of two conditional creates of one key exactly one succeeds. (Unconditional requests are
  // not ordered against them.) Applies to the requests the rule lets reach the server (forward,
  // delay, reset mid-response); the other faults come first. Null turns it off. Thread-safe.
  void EmulateConditionalWrites(EtagLookup etag_of);
  // Conditional writes refused (412 or 404) by the emulation so far.
  int conditional_writes_refused() const { return conditional_refused_.load(); }
  // Every request seen so far, in arrival order, and what was done to it. Thread-safe.
  struct Seen {
    ProxiedRequest request;
    Fault::Kind fault;
  };
  std::vector<Seen> seen() const;
  void ClearSeen();
  // The most requests that were being handled at once (from arrival to the end of the answer).
  int max_concurrent() const { return max_concurrent_.load(); }

 private:
  HttpFaultProxy() = default;
  void AcceptLoop();
  void Serve(int client_fd);

  int listen_fd_ = -1;
  int port_ = 0;
  int upstream_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> concurrent_{0};
  std::atomic<int> max_concurrent_{0};
  std::atomic<int> conditional_refused_{0};
  // Held from the judging of a conditional write until its answer is relayed.
  std::mutex conditional_mu_;
  std::thread acceptor_;
  mutable std::mutex mu_;
  Rule rule_;                         // guarded by mu_
  EtagLookup etag_of_;                // guarded by mu_
  std::vector<Seen> seen_;            // guarded by mu_
  std::vector<std::thread> workers_;  // guarded by mu_
  std::vector<int> client_fds_;       // guarded by mu_
  int next_index_ = 0;                // guarded by mu_
};

}  // namespace rwmeta::testing
