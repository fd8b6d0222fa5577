// HttpClient: the S3 backend's HTTP transport over libcurl, with connection reuse (a pool of curl
// easy handles: each keeps its connections alive between requests) and stall detection.
//
// It only moves bytes: no signing, no retries, no S3 error parsing (s3_object_store.cc does
// those). A transport failure is a Status; any HTTP answer, 5xx included, is a response.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace rwmeta::objstore::s3 {

struct HttpOptions {
  // Abort a connect attempt after this long.
  int64_t connect_timeout_ms = 5000;
  // Abort a request when no byte has moved in either direction for this long (a stalled server),
  // however long the whole transfer takes.
  int64_t stall_timeout_ms = 30000;
  // Abort a request that takes longer than this in total; 0 means no limit (large objects).
  int64_t request_timeout_ms = 0;
  // Easy handles kept for reuse; more may exist while many threads send at once.
  size_t max_idle_handles = 16;
  // Verify the server's TLS certificate (https endpoints only).
  bool verify_tls = true;
  // PEM file of certificate authorities to trust instead of the system's (AWS_CA_BUNDLE); empty:
  // the system store.
  std::string ca_file;
};

struct HttpResponse {
  long status = 0;
  // Names lower-cased, values trimmed, in the order received.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool stopped_after_headers = false;

  // The first header named `name` (lower case), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
};

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;     // absolute, already percent-encoded
  // Sent as given ("Host" included when set). No credentials are ever logged from here.
  std::vector<std::pair<std::string, std::string>> headers;
  // The body of PUT and POST; must outlive Send.
  std::string_view body;
  // Called once the response headers are in; returning false ends the transfer there (the
  // response is returned with its status and headers, no body, and `stopped_after_headers` set).
  // Lets a caller refuse a body it can tell from the headers is useless (or never coming).
  std::function<bool(const HttpResponse&)> continue_after_headers;
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request` and reads the whole response. Transport failures: DeadlineExceeded when the
  // connect, stall or request timeout fired; Unavailable for refused, reset or broken connections
  // and short responses (worth retrying); FailedPrecondition for TLS certificate problems and
  // InvalidArgument for malformed URLs (retrying cannot help). Messages carry curl's reason, never
  // header values. Thread-safe: concurrent calls use different handles.
  Result<HttpResponse> Send(const HttpRequest& request);

  // TCP connections opened so far (each new one, including reconnects after failures); with
  // connection reuse this stays far below the number of requests.
  uint64_t connections_opened() const { return connections_opened_.load(); }

 private:
  CURL* Acquire();
  void Release(CURL* handle);

  HttpOptions options_;
  std::atomic<uint64_t> connections_opened_{0};
  std::mutex mu_;
  std::vector<CURL*> idle_;  // guarded by mu_
};

}  // namespace rwmeta::objstore::s3
