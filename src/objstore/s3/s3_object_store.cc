#include "objstore/s3/s3_object_store.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <future>
#include <random>
#include <thread>

#include "common/clock.h"

namespace rwmeta::objstore::s3 {

namespace {

constexpr uint64_t kMinPartSize = 5 << 20;
constexpr uint64_t kMaxPartSize = uint64_t{5} << 30;
constexpr size_t kDeleteBatch = 1000;

std::string Md5Raw(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), len);
}

std::string StripQuotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

bool IsPlainMd5(std::string_view etag) {
  if (etag.size() != 32) return false;
  return std::all_of(etag.begin(), etag.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

std::string LowerHex(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "Wed, 25 Nov 2026 00:40:19 GMT" -> ms since the epoch; 0 if unparseable.
int64_t ParseHttpDate(const std::string& s) {
  struct tm tm = {};
  if (strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm) == nullptr) return 0;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

// "2026-11-25T00:40:19.123Z" -> ms since the epoch; 0 if unparseable.
int64_t ParseIsoDate(const std::string& s) {
  struct tm tm = {};
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return 0;
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  if (*rest == '.') {
    int64_t frac = 0;
    int digits = 0;
    for (++rest; *rest >= '0' && *rest <= '9'; ++rest) {
      if (digits < 3) {
        frac = frac * 10 + (*rest - '0');
        ++digits;
      }
    }
    while (digits < 3) {
      frac *= 10;
      ++digits;
    }
    ms += frac;
  }
  return ms;
}

std::optional<uint64_t> ParseU64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (UINT64_MAX - static_cast<uint64_t>(c - '0')) / 10) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

bool RetryableErrorCode(std::string_view code) {
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
         code == "ServiceUnavailable" || code == "BadDigest" || code == "RequestTimeTooSkewed" ||
         code == "OperationAborted";
}

bool RetryableHttpStatus(long status) { return (status >= 500 && status != 501) || status == 429; }

bool ValidBucketName(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) {
      return false;
    }
  }
  return std::isalnum(static_cast<unsigned char>(b.front())) &&
         std::isalnum(static_cast<unsigned char>(b.back()));
}

std::string XmlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out.push_back(s[i]);
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") {
      out.push_back('&');
    } else if (ent == "lt") {
      out.push_back('<');
    } else if (ent == "gt") {
      out.push_back('>');
    } else if (ent == "quot") {
      out.push_back('"');
    } else if (ent == "apos") {
      out.push_back('\'');
    } else if (!ent.empty() && ent[0] == '#') {
      uint32_t cp = 0;
      bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
      for (char c : ent.substr(hex ? 2 : 1)) {
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0 || (!hex && d > 9)) break;
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
      }
      // UTF-8 encode the code point.
      if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
      } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
    } else {
      out.append(s.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

}  // namespace

std::vector<std::string> XmlElements(std::string_view xml, std::string_view tag) {
  std::vector<std::string> out;
  const std::string open = "<" + std::string(tag);
  const std::string close = "</" + std::string(tag) + ">";
  size_t pos = 0;
  while (true) {
    size_t start = xml.find(open, pos);
    if (start == std::string_view::npos) break;
    size_t after = start + open.size();
    if (after >= xml.size()) break;
    // "<Key>" or "<Key attr=...>", not "<KeyMarker>"; "<Key/>" is an empty element.
    char next = xml[after];
    if (next != '>' && next != ' ' && next != '/') {
      pos = after;
      continue;
    }
    size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) break;
    if (xml[gt - 1] == '/') {
      out.emplace_back();
      pos = gt + 1;
      continue;
    }
    size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) break;
    out.push_back(XmlDecode(xml.substr(gt + 1, end - gt - 1)));
    pos = end + close.size();
  }
  return out;
}

std::string XmlElement(std::string_view xml, std::string_view tag) {
  auto all = XmlElements(xml, tag);
  return all.empty() ? std::string() : all.front();
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Store

Result<std::unique_ptr<S3ObjectStore>> S3ObjectStore::Open(S3Config config) {
  if (!ValidBucketName(config.bucket)) {
    return InvalidArgumentError(fmt::format(
        "s3: invalid bucket name '{}' (3 to 63 of a-z 0-9 . - _, starting and ending with a "
        "letter or digit)",
        config.bucket));
  }
  while (!config.prefix.empty() && config.prefix.back() == '/') config.prefix.pop_back();
  while (!config.prefix.empty() && config.prefix.front() == '/') config.prefix.erase(0, 1);
  if (!config.prefix.empty()) {
    Status s = ValidateKey(config.prefix);
    if (!s.ok()) return InvalidArgumentError("s3: bad key prefix: " + s.message());
  }
  if (!config.endpoint.empty()) {
    while (config.endpoint.back() == '/') config.endpoint.pop_back();
    if (config.endpoint.rfind("http://", 0) != 0 && config.endpoint.rfind("https://", 0) != 0) {
      return InvalidArgumentError(
          fmt::format("s3: endpoint '{}' must start with http:// or https://", config.endpoint));
    }
    std::string_view rest =
        std::string_view(config.endpoint).substr(config.endpoint.find("//") + 2);
    if (rest.empty() || rest.find_first_of("/?#@") != std::string_view::npos) {
      return InvalidArgumentError(fmt::format(
          "s3: endpoint '{}' must be scheme://host[:port] with no path", config.endpoint));
    }
  }
  if (config.region.empty()) return InvalidArgumentError("s3: region is empty");
  if (config.credentials.access_key_id.empty() != config.credentials.secret_access_key.empty()) {
    return InvalidArgumentError(
        "s3: an access key id needs a secret access key and the other way round");
  }
  if (config.part_size_bytes < kMinPartSize || config.part_size_bytes > kMaxPartSize) {
    return InvalidArgumentError(
        fmt::format("s3: part size {} outside [5 MiB, 5 GiB]", config.part_size_bytes));
  }
  if (config.upload_parallelism < 1 || config.upload_parallelism > 64) {
    return InvalidArgumentError("s3: upload parallelism must be in [1, 64]");
  }
  if (config.list_page_size < 1 || config.list_page_size > 1000) {
    return InvalidArgumentError("s3: list page size must be in [1, 1000]");
  }
  if (config.retry.max_attempts < 1 || config.retry.initial_backoff_ms < 0 ||
      config.retry.max_backoff_ms < config.retry.initial_backoff_ms) {
    return InvalidArgumentError("s3: bad retry policy");
  }
  if (config.display_url.empty()) {
    config.display_url = "s3://" + config.bucket;
    if (!config.prefix.empty()) config.display_url += "/" + config.prefix;
  }
  if (!config.sleep_ms) {
    config.sleep_ms = [](int64_t ms) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    };
  }
  if (!config.now_seconds) {
    config.now_seconds = [] { return UnixNowMs() / 1000; };
  }
  return std::unique_ptr<S3ObjectStore>(new S3ObjectStore(std::move(config)));
}

S3ObjectStore::S3ObjectStore(S3Config config) : config_(std::move(config)), http_(config_.http) {
  if (!config_.endpoint.empty()) {
    base_url_ = config_.endpoint;
    host_header_ = config_.endpoint.substr(config_.endpoint.find("//") + 2);
    path_prefix_ = "/" + config_.bucket;
  } else if (config_.bucket.find('.') != std::string::npos) {
    // Dotted bucket names do not match the wildcard certificate of virtual-hosted style.
    host_header_ = "s3." + config_.region + ".amazonaws.com";
    base_url_ = "https://" + host_header_;
    path_prefix_ = "/" + config_.bucket;
  } else {
    host_header_ = config_.bucket + ".s3." + config_.region + ".amazonaws.com";
    base_url_ = "https://" + host_header_;
  }
}

std::string S3ObjectStore::FullKey(std::string_view key) const {
  if (config_.prefix.empty()) return std::string(key);
  return config_.prefix + "/" + std::string(key);
}

std::string S3ObjectStore::ObjectName(std::string_view full_key) const {
  return "s3://" + config_.bucket + "/" + std::string(full_key);
}

std::string S3ObjectStore::Url(
    const std::string& object_key,
    const std::vector<std::pair<std::string, std::string>>& query) const {
  std::string url = base_url_ + path_prefix_;
  if (!object_key.empty() || path_prefix_.empty()) url += "/" + UriEncode(object_key, true);
  if (!query.empty()) url += "?" + CanonicalQueryString(query);
  return url;
}

Result<HttpResponse> S3ObjectStore::SendOnce(const Request& request, int64_t now_seconds) {
  SigningRequest sr;
  sr.method = request.method;
  sr.encoded_path = path_prefix_;
  if (!request.object_key.empty() || path_prefix_.empty()) {
    sr.encoded_path += "/" + UriEncode(request.object_key, true);
  }
  sr.query = request.query;
  sr.headers = request.headers;
  sr.payload_hash = config_.sign_payload || request.body.empty() ? Sha256Hex(request.body)
                                                                 : std::string(kUnsignedPayload);
  sr.headers.emplace_back("host", host_header_);
  sr.headers.emplace_back("x-amz-date", AmzDate(now_seconds));
  sr.headers.emplace_back("x-amz-content-sha256", sr.payload_hash);
  if (!config_.credentials.session_token.empty()) {
    sr.headers.emplace_back("x-amz-security-token", config_.credentials.session_token);
  }
  HttpRequest http;
  http.method = request.method;
  http.url = Url(request.object_key, request.query);
  http.body = request.body;
  http.headers = sr.headers;
  http.continue_after_headers = request.continue_after_headers;
  if (!config_.credentials.access_key_id.empty()) {
    http.headers.emplace_back(
        "Authorization",
        AuthorizationHeader(sr, config_.credentials, config_.region, "s3", now_seconds));
  }
  requests_sent_.fetch_add(1);
  return http_.Send(http);
}

Result<HttpResponse> S3ObjectStore::Execute(const Request& request, std::string_view what,
                                            int* attempts_sent) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  Status last;
  const int attempts = config_.retry.max_attempts;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempts_sent != nullptr) *attempts_sent = attempt;
    if (attempt > 1) {
      int64_t cap = config_.retry.initial_backoff_ms;
      for (int i = 2; i < attempt && cap < config_.retry.max_backoff_ms; ++i) cap *= 2;
      cap = std::min(cap, config_.retry.max_backoff_ms);
      int64_t ms = cap > 0 ? std::uniform_int_distribution<int64_t>(0, cap)(rng) : 0;
      spdlog::debug("s3: {} {}: retry {} of {} in {} ms after: {}", what,
                    ObjectName(request.object_key), attempt - 1, attempts - 1, ms, last.message());
      config_.sleep_ms(ms);
    }
    Result<HttpResponse> r = SendOnce(request, config_.now_seconds());
    if (!r.ok()) {
      StatusCode code = r.status().code();
      if (code != StatusCode::kUnavailable && code != StatusCode::kDeadlineExceeded) {
        return r.status().WithContext(
            fmt::format("s3 {} {}", what, ObjectName(request.object_key)));
      }
      last = r.status();
      continue;
    }
    HttpResponse& response = *r;
    if (response.status >= 200 && response.status < 300) {
      if (!request.validate) return r;
      Status v = request.validate(response);
      if (v.ok()) return r;
      if (v.code() != StatusCode::kUnavailable) return v;
      last = v;
      continue;
    }
    std::string code = XmlElement(response.body, "Code");
    if (RetryableHttpStatus(response.status) || RetryableErrorCode(code)) {
      last = ErrorStatus(response, what, request.object_key);
      continue;
    }
    return r;
  }
  return UnavailableError(fmt::format("s3 {} {}: gave up after {} attempts; last error: {}", what,
                                      ObjectName(request.object_key), attempts, last.message()));
}

Status S3ObjectStore::ErrorStatus(const HttpResponse& response, std::string_view what,
                                  std::string_view object_key) const {
  std::string code = XmlElement(response.body, "Code");
  std::string message = XmlElement(response.body, "Message");
  std::string request_id = response.Header("x-amz-request-id").value_or("");
  if (request_id.empty()) request_id = XmlElement(response.body, "RequestId");
  std::string text =
      fmt::format("s3 {} {}: HTTP {}", what, ObjectName(object_key), response.status);
  if (!code.empty()) text += " " + code;
  if (!message.empty()) text += ": " + message;
  text += " (request id " + (request_id.empty() ? std::string("none") : request_id) + ")";
  switch (response.status) {
    case 404:
      if (code == "NoSuchBucket") return FailedPreconditionError(text);
      return NotFoundError(text);
    case 401:
      return UnauthenticatedError(text);
    case 403:
      return PermissionDeniedError(text);
    case 409:
    case 412:
      return AbortedError(text);
    case 416:
      return OutOfRangeError(text);
    case 501:
      return UnimplementedError(text);
    default:
      break;
  }
  if (RetryableHttpStatus(response.status) || RetryableErrorCode(code)) {
    return UnavailableError(text);
  }
  if (response.status >= 400 && response.status < 500) return InvalidArgumentError(text);
  return UnknownError(text);
}

Status S3ObjectStore::CheckConditionSupported(const PutOptions& options, std::string_view what,
                                              std::string_view key) const {
  const bool conditional = options.if_none_match || options.if_match_etag.has_value();
  if (!conditional || config_.conditional_put) return Status::Ok();
  return UnimplementedError(fmt::format(
      "s3 {} {}: conditional put is not enabled for this store (conditional_put=false); "
      "callers must use their locked fallback",
      what, ObjectName(FullKey(key))));
}

void S3ObjectStore::AddConditionHeaders(const PutOptions& options,
                                        std::vector<std::pair<std::string, std::string>>* headers) {
  if (options.if_none_match) headers->emplace_back("If-None-Match", "*");
  if (options.if_match_etag) {
    headers->emplace_back("If-Match", "\"" + StripQuotes(*options.if_match_etag) + "\"");
  }
}

Status S3ObjectStore::ConditionalWriteStatus(const HttpResponse& response,
                                             const PutOptions& options, std::string_view what,
                                             std::string_view object_key) const {
  Status s = ErrorStatus(response, what, object_key);
  // If-Match on a missing object: S3 answers 404 NoSuchKey; the condition failed. (404
  // NoSuchUpload, from a completion, is not about the condition.)
  if (options.if_match_etag && response.status == 404 &&
      XmlElement(response.body, "Code") != "NoSuchUpload" &&
      XmlElement(response.body, "Code") != "NoSuchBucket") {
    return AbortedError(s.message());
  }
  return s;
}

Status S3ObjectStore::Put(std::string_view key, std::string_view data, const PutOptions& options) {
  RWMETA_RETURN_IF_ERROR(ValidateKey(key));
  RWMETA_RETURN_IF_ERROR(CheckConditionSupported(options, "PUT", key));
  const bool conditional = options.if_none_match || options.if_match_etag.has_value();
  Request req;
  req.method = "PUT";
  req.object_key = FullKey(key);
  req.body = data;
  const std::string md5 = Md5Raw(data);
  req.headers.emplace_back("Content-MD5", Base64Encode(md5));
  AddConditionHeaders(options, &req.headers);
  int attempts = 0;
  RWMETA_ASSIGN_OR_RETURN(HttpResponse r, Execute(req, "PUT", &attempts));
  if (r.status >= 200 && r.status < 300) return Status::Ok();
  if (!conditional) return ErrorStatus(r, "PUT", req.object_key);
  Status s = ConditionalWriteStatus(r, options, "PUT", req.object_key);
  if (s.code() == StatusCode::kAborted && attempts > 1) {
    // An earlier attempt may have published the object with its answer lost, and the retry then
    // failed on our own object: a plain PUT's ETag is the MD5 of its body.
    Result<ObjectMeta> meta = Head(key);
    if (meta.ok() && meta->size_bytes == data.size() && LowerHex(meta->etag) == HexEncode(md5)) {
      spdlog::info("s3 PUT {}: retry reported '{}' but the object is ours, published whole",
                   ObjectName(req.object_key), s.message());
      return Status::Ok();
    }
  }
  return s;
}

Result<std::string> S3ObjectStore::Get(std::string_view key) {
  RWMETA_RETURN_IF_ERROR(ValidateKey(key));
  Request req;
  req.method = "GET";
  req.object_key = FullKey(key);
  std::string name = ObjectName(req.object_key);
  req.validate = [name](const HttpResponse& r) -> Status {
    if (auto len = r.Header("content-length")) {
      if (ParseU64(*len) != r.body.size()) {
        return UnavailableError(
            fmt::format("GET {}: got {} bytes of {}", name, r.body.size(), *len));
      }
    }
    // A plain-MD5 ETag lets us check the body end to end (and notice a torn read from a server
    // that rewrites objects in place); encrypted objects' ETags are not the MD5.
    std::string etag = StripQuotes(r.Header("etag").value_or(""));
    if (IsPlainMd5(etag) && !r.Header("x-amz-server-side-encryption").has_value() &&
        !r.Header("x-amz-server-side-encryption-customer-algorithm").has_value() &&
        HexEncode(Md5Raw(r.body)) != LowerHex(etag)) {
      return UnavailableError(fmt::format(
          "GET {}: body does not match its ETag {} (torn or damaged read)", name, etag));
    }
    return Status::Ok();
  };
  RWMETA_ASSIGN_OR_RETURN(HttpResponse r, Execute(req, "GET"));
  if (r.status == 200) return std::move(r.body);
  return ErrorStatus(r, "GET", req.object_key);
}

Result<std::string> S3ObjectStore::GetRange(std::string_view key, uint64_t offset,
                                            uint64_t length) {
  RWMETA_RETURN_IF_ERROR(ValidateKey(key));
  auto check_offset = [&]() -> Result<std::string> {
    RWMETA_ASSIGN_OR_RETURN(ObjectMeta meta, Head(key));
    if (offset > meta.size_bytes) {
      return OutOfRangeError(fmt::format("s3 GET {}: offset {} is past the end ({} bytes)",
                                         ObjectName(FullKey(key)), offset, meta.size_bytes));
    }
    return std::string();
  };
  if (length == 0) return check_offset();
  Request req;
  req.method = "GET";
  req.object_key = FullKey(key);
  std::string range = "bytes=" + std::to_string(offset) + "-";
  if (length <= UINT64_MAX - offset) range += std::to_string(offset + length - 1);
  req.headers.emplace_back("Range", range);
  // Total object size from "Content-Range: bytes a-b/total", if the answer has one.
  auto total_size = [](const HttpResponse& r) -> std::optional<uint64_t> {
    std::string cr = r.Header("content-range").value_or("");
    size_t slash = cr.rfind('/');
    if (slash == std::string::npos) return std::nullopt;
    return ParseU64(std::string_view(cr).substr(slash + 1));
  };
  // A range starting at or past the end needs no body. Some servers (s3rver) answer a range of
  // an empty object with "bytes 0-0/0" and a Content-Length of 1 they never send: without this
  // the read would stall.
  req.continue_after_headers = [offset, total_size](const HttpResponse& r) {
    if (r.status != 206) return true;
    auto total = total_size(r);
    return !(total && offset >= *total);
  };
  RWMETA_ASSIGN_OR_RETURN(HttpResponse r, Execute(req, "GET"));
  if (r.status == 206) {
    auto total = total_size(r);
    if (total && offset >= *total) {
      if (offset > *total) return check_offset();
      return std::string();
    }
    if (r.body.size() > length) r.body.resize(length);
    return std::move(r.body);
  }
  if (r.status == 200) {
    // The server ignored Range: cut the answer ourselves.
    if (offset > r.body.size()) return check_offset();
    return r.body.substr(offset, length);
  }
  if (r.status == 416) return check_offset();
  return ErrorStatus(r, "GET", req.object_key);
}

Result<ObjectMeta> S3ObjectStore::Head(std::string_view key) {
  RWMETA_RETURN_IF_ERROR(ValidateKey(key));
  Request req;
  req.method = "HEAD";
  req.object_key = FullKey(key);
  RWMETA_ASSIGN_OR_RETURN(HttpResponse r, Execute(req, "HEAD"));
  if (r.status != 200) return ErrorStatus(r, "HEAD", req.object_key);
  ObjectMeta meta;
  meta.key = std::string(key);
  auto size = ParseU64(r.Header("content-length").value_or(""));
  if (!size) {
    return UnknownError(
        fmt::format("s3 HEAD {}: answer has no Content-Length", ObjectName(req.object_key)));
  }
  meta.size_bytes = *size;
  meta.last_modified_ms = ParseHttpDate(r.Header("last-modified").value_or(""));
  meta.etag = StripQuotes(r.Header("etag").value_or(""));
  return meta;
}

Result<std::vector<ObjectMeta>> S3ObjectStore::List(std::string_view prefix) {
  std::string full_prefix =
      config_.prefix.empty() ? std::string(prefix) : config_.prefix + "/" + std::string(prefix);
  const size_t strip = config_.prefix.empty() ? 0 : config_.prefix.size() + 1;
  std::vector<ObjectMeta> out;
  std::string token;
  for (int page = 0;; ++page) {
    Request req;
    req.method = "GET";
    req.query = {{"list-type", "2"},
                 {"max-keys", std::to_string(config_.list_page_size)},
                 {"prefix", full_prefix}};
    if (!token.empty()) req.query.emplace_back("continuation-token", token);
    RWMETA_ASSIGN_OR_RETURN(HttpResponse r, Execute(req, "LIST"));
    if (r.status != 200) return ErrorStatus(r, "LIST", full_prefix);
    for (const std::string& item : XmlElements(r.body, "Contents")) {
      std::string key = XmlElement(item, "Key");
      if (key.size() < strip || key.compare(0, full_prefix.size(), full_prefix) != 0) continue;
      ObjectMeta meta;
      meta.key = key.substr(strip);
      meta.size_bytes = ParseU64(XmlElement(item, "Size")).value_or(0);
      meta.last_modified_ms = ParseIsoDate(XmlElement(item, "LastModified"));
      meta.etag = StripQuotes(XmlElement(item, "ETag"));
      out.push_back(std::move(meta));
    }
    if (XmlElement(r.body, "IsTruncated") != "true") break;
    token = XmlElement(r.body, "NextContinuationToken");
    if (token.empty()) {
      return UnknownError(fmt::format("s3 LIST {}: truncated page {} without a continuation token",
                                      ObjectName(full_prefix), page));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const ObjectMeta& a, const ObjectMeta& b) { return a.key < b.key; });
  return out;
}

Status S3ObjectStore::Delete(std::string_view key) {
  RWMETA_RETURN_IF_ERROR(ValidateKey(key));
  Request req;
  req.method = "DELETE";
  req.object_key = FullKey(key);
  RWMETA_ASSIGN_OR_RETURN(HttpResponse r, Execute(req, "DELETE"));
  if ((r.status >= 200 && r.status < 300) || r.status == 404) {
    if (r.status == 404 && XmlElement(r.body, "Code") == "NoSuchBucket") {
      return ErrorStatus(r, "DELETE", req.object_key);
    }
    return Status::Ok();
  }
  return ErrorStatus(r, "DELETE", req.object_key);
}

Status S3ObjectStore::DeleteBatch(const std::vector<std::string>& full_keys) {
  std::string body = "<Delete><Quiet>true</Quiet>";
  for (const auto& k : full_keys) body += "<Object><Key>" + XmlEscape(k) + "</Key></Object>";
  body += "</Delete>";
  Request req;
  req.method = "POST";
  req.query = {{"delete", ""}};
  req.body = body;
  req.headers.emplace_back("Content-MD5", Base64Encode(Md5Raw(body)));
  RWMETA_ASSIGN_OR_RETURN(HttpResponse r, Execute(req, "DeleteObjects"));
  if (r.status != 200) return ErrorStatus(r, "DeleteObjects", "");
  for (const std::string& error : XmlElements(r.body, "Error")) {
    std::string code = XmlElement(error, "Code");
    if (code == "NoSuchKey") continue;
    std::string text =
        fmt::format("s3 DeleteObjects {}: {}: {}", ObjectName(XmlElement(error, "Key")), code,
                    XmlElement(error, "Message"));
    if (code == "AccessDenied") return PermissionDeniedError(text);
    return UnavailableError(text);
  }
  return Status::Ok();
}

Status S3ObjectStore::DeleteMany(const std::vector<std::string>& keys) {
  Status first;
  std::vector<std::string> batch;
  auto flush = [&] {
    if (batch.empty()) return;
    Status s = DeleteBatch(batch);
    if (!s.ok() && first.ok()) first = s;
    batch.clear();
  };
  for (const auto& key : keys) {
    Status s = ValidateKey(key);
    if (!s.ok()) {
      if (first.ok()) first = s;
      continue;
    }
    batch.push_back(FullKey(key));
    if (batch.size() == kDeleteBatch) flush();
  }
  flush();
  return first;
}

// ---------------------------------------------------------------------------------------------
// Writer

namespace {

class S3Writer : public ObjectWriter {
 public:
  S3Writer(S3ObjectStore* store, std::string key, PutOptions options)
      : store_(store),
        key_(std::move(key)),
        options_(std::move(options)),
        full_key_(store->FullKey(key_)),
        whole_md5_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(whole_md5_, EVP_md5(), nullptr);
  }

  ~S3Writer() override {
    if (state_ == State::kOpen) Abort().IgnoreError();  // Best effort; Abort logs failures.
    EVP_MD_CTX_free(whole_md5_);
  }
  S3Writer(const S3Writer&) = delete;
  S3Writer& operator=(const S3Writer&) = delete;

  Status Append(std::string_view data) override {
    if (state_ != State::kOpen) return Closed("Append");
    size_bytes_ += data.size();
    EVP_DigestUpdate(whole_md5_, data.data(), data.size());
    const uint64_t part = store_->config().part_size_bytes;
    while (!data.empty()) {
      size_t take = std::min<size_t>(data.size(), part - buffer_.size());
      if (buffer_.empty()) buffer_.reserve(part);
      buffer_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (buffer_.size() == part) {
        Status s = FlushPart();
        if (!s.ok()) return Fail(s);
      }
    }
    return Status::Ok();
  }

  Status Finish() override {
    if (state_ != State::kOpen) return Closed("Finish");
    if (upload_id_.empty()) {
      // Small object: one PutObject, carrying the writer's condition.
      Status s = store_->Put(key_, buffer_, options_);
      state_ = State::kDone;
      buffer_ = std::string();
      return s;
    }
    Status s = buffer_.empty() ? Status::Ok() : FlushPart();
    if (s.ok()) s = WaitAll();
    if (s.ok()) s = Complete();
    if (!s.ok()) return Fail(s);
    state_ = State::kDone;
    return Status::Ok();
  }

  Status Abort() override {
    if (state_ == State::kAborted) return Status::Ok();
    if (state_ == State::kDone) return FailedPreconditionError("s3 writer: already finished");
    state_ = State::kAborted;
    buffer_ = std::string();
    // Let running part uploads end (they reference this writer's upload id) before aborting.
    WaitAll().IgnoreError();  // Their errors no longer matter.
    return AbortUpload();
  }

  uint64_t size_bytes() const override { return size_bytes_; }

 private:
  enum class State { kOpen, kDone, kAborted };

  Status Closed(std::string_view op) {
    return FailedPreconditionError(
        fmt::format("s3 writer {}: {} after Finish or Abort", store_->ObjectName(full_key_), op));
  }

  // Aborts the upload after a failure and returns `s`.
  Status Fail(Status s) {
    if (state_ == State::kOpen) Abort().IgnoreError();  // `s` is the error worth reporting.
    return s;
  }

  Status Start() {
    S3ObjectStore::Request req;
    req.method = "POST";
    req.object_key = full_key_;
    req.query = {{"uploads", ""}};
    RWMETA_ASSIGN_OR_RETURN(HttpResponse r, store_->Execute(req, "CreateMultipartUpload"));
    if (r.status != 200) return store_->ErrorStatus(r, "CreateMultipartUpload", full_key_);
    upload_id_ = XmlElement(r.body, "UploadId");
    if (upload_id_.empty()) {
      return UnknownError(fmt::format("s3 CreateMultipartUpload {}: no UploadId in the answer",
                                      store_->ObjectName(full_key_)));
    }
    return Status::Ok();
  }

  // Sends the buffered bytes as the next part, waiting first while `upload_parallelism` parts are
  // in flight (that wait is what bounds memory).
  Status FlushPart() {
    if (upload_id_.empty()) RWMETA_RETURN_IF_ERROR(Start());
    while (static_cast<int>(in_flight_.size()) >= store_->config().upload_parallelism) {
      RWMETA_RETURN_IF_ERROR(WaitOldest());
    }
    auto data = std::make_shared<std::string>(std::move(buffer_));
    buffer_ = std::string();
    int number = next_part_++;
    in_flight_.push_back(
        {number, std::async(std::launch::async,
                            [store = store_, key = full_key_, upload = upload_id_, number, data]() {
                              return UploadPart(store, key, upload, number, *data);
                            })});
    return Status::Ok();
  }

  struct Part {
    std::string etag;
    std::string md5;  // raw digest of the part's bytes
  };

  static Result<Part> UploadPart(S3ObjectStore* store, const std::string& full_key,
                                 const std::string& upload_id, int number,
                                 const std::string& data) {
    S3ObjectStore::Request req;
    req.method = "PUT";
    req.object_key = full_key;
    req.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}};
    req.body = data;
    std::string md5 = Md5Raw(data);
    req.headers.emplace_back("Content-MD5", Base64Encode(md5));
    std::string what = fmt::format("UploadPart {}", number);
    RWMETA_ASSIGN_OR_RETURN(HttpResponse r, store->Execute(req, what));
    if (r.status != 200) return store->ErrorStatus(r, what, full_key);
    std::string etag = r.Header("etag").value_or("");
    if (etag.empty()) {
      return UnknownError(
          fmt::format("s3 {} {}: answer has no ETag", what, store->ObjectName(full_key)));
    }
    return Part{std::move(etag), std::move(md5)};
  }

  Status WaitOldest() {
    auto [number, future] = std::move(in_flight_.front());
    in_flight_.pop_front();
    Result<Part> part = future.get();
    if (!part.ok()) return part.status();
    parts_.emplace_back(number, std::move(part).value());
    return Status::Ok();
  }

  Status WaitAll() {
    Status first;
    while (!in_flight_.empty()) {
      Status s = WaitOldest();
      if (!s.ok() && first.ok()) first = s;
    }
    return first;
  }

  Status Complete() {
    std::sort(parts_.begin(), parts_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string body = "<CompleteMultipartUpload>";
    for (const auto& [number, part] : parts_) {
      body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", number,
                          XmlEscape(part.etag));
    }
    body += "</CompleteMultipartUpload>";
    S3ObjectStore::Request req;
    req.method = "POST";
    req.object_key = full_key_;
    req.query = {{"uploadId", upload_id_}};
    req.body = body;
    // S3 checks the writer's condition on completion, atomically with publishing the object.
    S3ObjectStore::AddConditionHeaders(options_, &req.headers);
    S3ObjectStore* store = store_;
    std::string key = full_key_;
    // S3 may answer 200 and still fail the completion: the error is in the body.
    req.validate = [store, key](const HttpResponse& r) -> Status {
      if (XmlElements(r.body, "Error").empty()) return Status::Ok();
      HttpResponse as_error = r;
      as_error.status = 500;
      std::string code = XmlElement(r.body, "Code");
      Status s = store->ErrorStatus(as_error, "CompleteMultipartUpload", key);
      if (RetryableErrorCode(code)) return UnavailableError(s.message());
      if (code == "PreconditionFailed" || code == "ConditionalRequestConflict") {
        return AbortedError(s.message());
      }
      return InternalError(s.message());
    };
    int attempts = 0;
    Result<HttpResponse> r = store_->Execute(req, "CompleteMultipartUpload", &attempts);
    Status s = r.status();
    if (s.ok() && r->status != 200) {
      s = store_->ConditionalWriteStatus(*r, options_, "CompleteMultipartUpload", full_key_);
    }
    if (s.ok()) return s;
    // The first attempt's own answer that the condition does not hold is final: whatever object
    // is there, it is not ours.
    if (s.code() == StatusCode::kAborted && attempts == 1) return s;
    // A completion whose answer was lost is retried, and the retry fails (NoSuchUpload, or an
    // internal error on some servers) although the object was published. Look before failing:
    // the object with our size and our ETag (S3's multipart ETag, MD5 of the parts' MD5s plus
    // "-<parts>", or the whole MD5 some servers use) is our upload.
    Result<ObjectMeta> meta = store_->Head(key_);
    if (meta.ok() && meta->size_bytes == size_bytes_ &&
        (LowerHex(meta->etag) == MultipartEtag() || LowerHex(meta->etag) == WholeMd5Hex())) {
      spdlog::info("s3 {}: completion reported '{}' but the object is published whole",
                   store_->ObjectName(full_key_), s.message());
      return Status::Ok();
    }
    return s;
  }

  std::string MultipartEtag() const {
    std::string md5s;
    for (const auto& [number, part] : parts_) md5s += part.md5;
    return HexEncode(Md5Raw(md5s)) + "-" + std::to_string(parts_.size());
  }

  std::string WholeMd5Hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX* copy = EVP_MD_CTX_new();
    EVP_MD_CTX_copy_ex(copy, whole_md5_);
    EVP_DigestFinal_ex(copy, digest, &len);
    EVP_MD_CTX_free(copy);
    return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), len));
  }

  Status AbortUpload() {
    if (upload_id_.empty()) return Status::Ok();
    S3ObjectStore::Request req;
    req.method = "DELETE";
    req.object_key = full_key_;
    req.query = {{"uploadId", upload_id_}};
    Result<HttpResponse> r = store_->Execute(req, "AbortMultipartUpload");
    upload_id_.clear();
    if (!r.ok()) {
      spdlog::warn("{}; its parts stay on the server until a lifecycle rule removes them",
                   r.status().message());
      return r.status();
    }
    if ((r->status >= 200 && r->status < 300) || r->status == 404) return Status::Ok();
    Status s = store_->ErrorStatus(*r, "AbortMultipartUpload", full_key_);
    if (r->status == 405 || r->status == 501) {
      // The server cannot abort uploads (s3rver): nothing was published, only parts linger.
      spdlog::warn("{}; the unfinished upload's parts stay on the server", s.message());
      return Status::Ok();
    }
    spdlog::warn("{}", s.message());
    return s;
  }

  S3ObjectStore* store_;
  std::string key_;
  PutOptions options_;
  std::string full_key_;
  State state_ = State::kOpen;
  uint64_t size_bytes_ = 0;
  std::string buffer_;
  std::string upload_id_;
  int next_part_ = 1;
  EVP_MD_CTX* whole_md5_;
  std::deque<std::pair<int, std::future<Result<Part>>>> in_flight_;
  std::vector<std::pair<int, Part>> parts_;
};

// ---------------------------------------------------------------------------------------------
// Reader

class S3Reader : public ObjectReader {
 public:
  // Whole object already fetched.
  explicit S3Reader(std::string data) : data_(std::move(data)), size_(data_.size()), whole_(true) {}
  // Read in ranges, pinned to `etag`.
  S3Reader(S3ObjectStore* store, std::string full_key, uint64_t size, std::string etag)
      : store_(store),
        full_key_(std::move(full_key)),
        size_(size),
        etag_(std::move(etag)),
        whole_(false) {}

  Status Read(size_t max_bytes, std::string* out) override {
    out->clear();
    if (offset_ >= size_ || max_bytes == 0) return Status::Ok();
    uint64_t want = std::min<uint64_t>(max_bytes, size_ - offset_);
    if (whole_) {
      out->assign(data_, offset_, want);
      offset_ += want;
      return Status::Ok();
    }
    S3ObjectStore::Request req;
    req.method = "GET";
    req.object_key = full_key_;
    req.headers.emplace_back("Range", fmt::format("bytes={}-{}", offset_, offset_ + want - 1));
    if (!etag_.empty()) req.headers.emplace_back("If-Match", "\"" + etag_ + "\"");
    RWMETA_ASSIGN_OR_RETURN(HttpResponse r, store_->Execute(req, "GET"));
    std::string name = store_->ObjectName(full_key_);
    if (r.status == 412 || r.status == 404 || r.status == 416) {
      return DataLossError(
          fmt::format("s3 GET {}: object changed or vanished since the reader "
                      "opened it ({})",
                      name, store_->ErrorStatus(r, "GET", full_key_).message()));
    }
    if (r.status != 206 && r.status != 200) return store_->ErrorStatus(r, "GET", full_key_);
    std::string etag = StripQuotes(r.Header("etag").value_or(etag_));
    if (etag != etag_) {
      return DataLossError(
          fmt::format("s3 GET {}: object replaced since the reader opened it (etag {} now {})",
                      name, etag_, etag));
    }
    if (r.status == 200) r.body = r.body.size() > offset_ ? r.body.substr(offset_, want) : "";
    if (r.body.size() != want) {
      return DataLossError(fmt::format("s3 GET {}: read {} bytes at offset {}, expected {}", name,
                                       r.body.size(), offset_, want));
    }
    *out = std::move(r.body);
    offset_ += want;
    return Status::Ok();
  }

  uint64_t size_bytes() const override { return size_; }

 private:
  S3ObjectStore* store_ = nullptr;
  std::string full_key_;
  std::string data_;
  uint64_t size_ = 0;
  std::string etag_;
  bool whole_;
  uint64_t offset_ = 0;
};

}  // namespace

Result<std::unique_ptr<ObjectWriter>> S3ObjectStore::OpenWriter(std::string_view key,
                                                                const PutOptions& options) {
  RWMETA_RETURN_IF_ERROR(ValidateKey(key));
  // Refused before any byte goes up, not at Finish.
  RWMETA_RETURN_IF_ERROR(CheckConditionSupported(options, "writer", key));
  return std::unique_ptr<ObjectWriter>(new S3Writer(this, std::string(key), options));
}

Result<std::unique_ptr<ObjectReader>> S3ObjectStore::OpenReader(std::string_view key) {
  RWMETA_ASSIGN_OR_RETURN(ObjectMeta meta, Head(key));
  if (meta.size_bytes <= config_.whole_read_max_bytes) {
    // One verified GET; it is also pinned to one version for free.
    RWMETA_ASSIGN_OR_RETURN(std::string data, Get(key));
    return std::unique_ptr<ObjectReader>(new S3Reader(std::move(data)));
  }
  return std::unique_ptr<ObjectReader>(
      new S3Reader(this, FullKey(key), meta.size_bytes, meta.etag));
}

}  // namespace rwmeta::objstore::s3
