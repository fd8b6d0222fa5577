// S3ObjectStore: the ObjectStore interface (objstore/object_store.h) over the S3 REST API, for AWS
// S3 and S3-compatible servers (MinIO, s3rver, Ceph RGW, ...). Requests are signed with SigV4
// (sigv4.h) and sent over libcurl with pooled connections (http_client.h). docs/s3.md is the
// operator's guide (URLs, environment variables, retries, conditional writes).
//
// How each ObjectStore guarantee is met:
// - Put is one PutObject (atomic on S3). OpenWriter buffers up to `part_size_bytes`; a larger
//   object becomes a multipart upload whose parts go up `upload_parallelism` at a time (memory is
//   bounded by about (upload_parallelism + 1) * part_size_bytes), and is visible only once
//   CompleteMultipartUpload succeeds. A failed, aborted or destroyed writer sends
//   AbortMultipartUpload, so no part lingers (best effort: a bucket lifecycle rule for incomplete
//   uploads is the backstop when even the abort cannot reach the server). A completion whose
//   answer was lost is recognised by the published object's size and ETag.
// - Get verifies the body against the ETag when the ETag is a plain MD5 (single-part uploads):
//   a torn read from a server that does not write atomically is retried, never returned.
// - OpenReader fetches objects up to `whole_read_max_bytes` in one verified GET; larger ones are
//   read in ranges sent with If-Match on the ETag seen at open, and each answer's ETag is checked
//   too (for servers that ignore If-Match): a replaced object is DataLoss, never a mix.
// - List pages through ListObjectsV2 (continuation tokens) and sorts byte-wise.
// - DeleteMany sends DeleteObjects in batches of at most 1000 keys; deletes are idempotent.
// - Conditional Put uses If-None-Match: * and If-Match: "<etag>" when `conditional_put` is set
//   (AWS S3 since 2024, MinIO); otherwise SupportsConditionalPut() is false and conditional Puts
//   and writers are Unimplemented, so callers take their locked fallback. 412 and 409 answers are
//   Aborted. A conditional writer sends the same headers on its one PutObject or, for a multipart
//   upload, on CompleteMultipartUpload (which S3 checks atomically with publishing). When a retry
//   of a conditional write fails its condition, the earlier attempt may have succeeded with its
//   answer lost: the object is then recognised as ours by its size and ETag (so a writer racing
//   with byte-identical content could, in that case only, be told OK).
//
// Errors: NotFound for NoSuchKey, FailedPrecondition for NoSuchBucket, PermissionDenied for 403
// (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, ...), InvalidArgument for other 4xx,
// Unavailable once retries are exhausted on what is retryable (5xx, 429, SlowDown,
// RequestTimeout, timeouts, resets, torn reads). Messages name the operation, the object
// ("s3://bucket/prefix/key"), the HTTP status, S3's error code and request id; never credentials.
//
// Thread-safe. Writers and readers must not outlive the store that opened them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "objstore/object_store.h"
#include "objstore/s3/http_client.h"
#include "objstore/s3/sigv4.h"

namespace rwmeta::objstore::s3 {

// Exponential backoff with full jitter: before retry n (1-based) sleep a uniformly random time in
// [0, min(max_backoff_ms, initial_backoff_ms * 2^(n-1))].
struct RetryPolicy {
  // Attempts per request, the first included; 1 disables retries.
  int max_attempts = 8;
  int64_t initial_backoff_ms = 100;
  int64_t max_backoff_ms = 5000;
};

struct S3Config {
  std::string bucket;
  // Key prefix inside the bucket without leading or trailing '/' ("" for the bucket root): object
  // "a/b" is stored as "<prefix>/a/b".
  std::string prefix;
  std::string region = "us-east-1";
  // "http://127.0.0.1:9000" or "https://s3.example.com"; requests are path-style
  // (<endpoint>/<bucket>/<key>). Empty: AWS, virtual-hosted
  // (https://<bucket>.s3.<region>.amazonaws.com/<key>).
  std::string endpoint;
  SigningCredentials credentials;
  HttpOptions http;
  RetryPolicy retry;
  // Multipart part size; objects written through OpenWriter that grow past one part become
  // multipart uploads. At least 5 MiB (S3's minimum for all parts but the last).
  uint64_t part_size_bytes = 16 << 20;
  // Parts uploaded at once by one writer.
  int upload_parallelism = 4;
  // OpenReader fetches objects up to this size whole at open.
  uint64_t whole_read_max_bytes = 8 << 20;
  // Keys per ListObjectsV2 page (S3 caps it at 1000).
  int list_page_size = 1000;
  // Whether the server honours If-None-Match / If-Match on PutObject (see docs/s3.md).
  bool conditional_put = false;
  // Sign the SHA-256 of each body instead of UNSIGNED-PAYLOAD (bodies always carry Content-MD5,
  // which S3 checks, so this only adds cost unless a proxy may alter bodies on plain http).
  bool sign_payload = false;
  // What DisplayUrl returns and errors name; never holds credentials. Default
  // "s3://<bucket>[/<prefix>]".
  std::string display_url;
  // Sleeps between retries; tests may replace it. Default std::this_thread::sleep_for.
  std::function<void(int64_t ms)> sleep_ms;
  // Seconds since the Unix epoch for signing; tests may replace it. Default the system clock.
  std::function<int64_t()> now_seconds;
};

class S3ObjectStore : public ObjectStore {
 public:
  // InvalidArgument if the bucket name is not a valid S3 bucket name, the endpoint is not an
  // http(s) URL, credentials are half set (a key id without a secret) or sizes are out of range.
  // Does no I/O: a missing bucket or bad credentials show on the first request.
  static Result<std::unique_ptr<S3ObjectStore>> Open(S3Config config);

  Status Put(std::string_view key, std::string_view data, const PutOptions& options) override;
  using ObjectStore::Put;
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(std::string_view key,
                                                   const PutOptions& options) override;
  using ObjectStore::OpenWriter;
  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<std::unique_ptr<ObjectReader>> OpenReader(std::string_view key) override;
  Result<ObjectMeta> Head(std::string_view key) override;
  Result<std::vector<ObjectMeta>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;
  Status DeleteMany(const std::vector<std::string>& keys) override;
  std::string DisplayUrl() const override { return config_.display_url; }
  bool SupportsConditionalPut() const override { return config_.conditional_put; }

  const S3Config& config() const { return config_; }

  // Requests sent (every attempt counts), for tests and benchmarks.
  uint64_t requests_sent() const { return requests_sent_.load(); }
  // TCP connections opened (see HttpClient::connections_opened).
  uint64_t connections_opened() const { return http_.connections_opened(); }

  // --- Internals shared with the writer and reader (s3_object_store.cc); not for callers. ---
  struct Request {
    std::string method;
    // Full object key in the bucket (prefix applied), or "" for bucket-level requests.
    std::string object_key;
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string_view body;
    // Called on each 2xx answer; Unavailable makes the attempt count as failed and retried
    // (a torn read), any other error is returned as is.
    std::function<Status(const HttpResponse&)> validate;
    // See HttpRequest::continue_after_headers.
    std::function<bool(const HttpResponse&)> continue_after_headers;
  };
  // Signs and sends `request`, retrying per the policy. Returns the final response whatever its
  // status (the caller maps non-2xx with ErrorStatus), or the transport / validation error once
  // retries are exhausted (Unavailable) or when not retryable. `what` names the operation in
  // messages ("PUT", "UploadPart 3"). If `attempts` is set, it receives how many attempts were
  // sent (more than one means an earlier one may have taken effect with its answer lost).
  Result<HttpResponse> Execute(const Request& request, std::string_view what,
                               int* attempts = nullptr);
  // Maps a non-2xx response to a Status naming `what` and `object_key`.
  Status ErrorStatus(const HttpResponse& response, std::string_view what,
                     std::string_view object_key) const;
  // "<prefix>/<key>" (or `key` without a prefix).
  std::string FullKey(std::string_view key) const;
  // "s3://bucket/full/key" for messages.
  std::string ObjectName(std::string_view full_key) const;
  // Unimplemented naming `what` and `key` when `options` hold a condition and `conditional_put` is
  // off; OK otherwise.
  Status CheckConditionSupported(const PutOptions& options, std::string_view what,
                                 std::string_view key) const;
  // Adds If-None-Match: * / If-Match: "<etag>" for `options` to `headers`.
  static void AddConditionHeaders(const PutOptions& options,
                                  std::vector<std::pair<std::string, std::string>>* headers);
  // The Status of a failed conditional write (PutObject or CompleteMultipartUpload) answered with
  // `response`: Aborted for 412 and 409, and for 404 NoSuchKey with If-Match (S3's answer when
  // the object to match is missing); ErrorStatus otherwise.
  Status ConditionalWriteStatus(const HttpResponse& response, const PutOptions& options,
                                std::string_view what, std::string_view object_key) const;

 private:
  explicit S3ObjectStore(S3Config config);
  Result<HttpResponse> SendOnce(const Request& request, int64_t now_seconds);
  std::string Url(const std::string& object_key,
                  const std::vector<std::pair<std::string, std::string>>& query) const;
  Status DeleteBatch(const std::vector<std::string>& full_keys);

  S3Config config_;
  HttpClient http_;
  // Scheme://host[:port] and the path before the key ("/bucket" for path style, "" otherwise).
  std::string base_url_;
  std::string host_header_;
  std::string path_prefix_;
  std::atomic<uint64_t> requests_sent_{0};
};

// Parts of an S3 XML answer: the text of every <tag>...</tag> in `xml` (entities decoded), in
// order. Enough for S3's flat answers (ListObjectsV2, errors, multipart); not a general parser.
std::vector<std::string> XmlElements(std::string_view xml, std::string_view tag);
// The first such element, or "".
std::string XmlElement(std::string_view xml, std::string_view tag);
// Escapes &, <, >, " and ' for XML text.
std::string XmlEscape(std::string_view text);

}  // namespace rwmeta::objstore::s3
