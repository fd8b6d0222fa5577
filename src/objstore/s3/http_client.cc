#include "objstore/s3/http_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace rwmeta::objstore::s3 {

namespace {

std::once_flag curl_init_once;

struct Transfer {
  std::string_view body;
  size_t body_offset = 0;
  HttpResponse* response = nullptr;
  const std::function<bool(const HttpResponse&)>* continue_after_headers = nullptr;
  long status = 0;
  int64_t stall_timeout_ms = 0;
  std::chrono::steady_clock::time_point last_progress;
  curl_off_t last_moved = -1;
  bool stalled = false;
};

size_t ReadBody(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t n = std::min(size * nitems, t->body.size() - t->body_offset);
  std::memcpy(buffer, t->body.data() + t->body_offset, n);
  t->body_offset += n;
  return n;
}

size_t WriteBody(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  t->response->body.append(data, size * nmemb);
  return size * nmemb;
}

size_t WriteHeader(char* data, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  std::string_view line(data, size * nitems);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (after a redirect or 100 Continue): forget earlier headers.
    t->response->headers.clear();
    size_t sp = line.find(' ');
    t->status =
        sp == std::string_view::npos ? 0 : std::atol(std::string(line.substr(sp + 1, 3)).c_str());
    return size * nitems;
  }
  if (line == "\r\n" || line == "\n") {
    if (t->continue_after_headers != nullptr && *t->continue_after_headers && t->status >= 200) {
      t->response->status = t->status;
      if (!(*t->continue_after_headers)(*t->response)) {
        t->response->stopped_after_headers = true;
        return 0;  // Makes curl end the transfer with CURLE_WRITE_ERROR.
      }
    }
    return size * nitems;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * nitems;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) {
    value.remove_prefix(1);
  }
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
    value.remove_suffix(1);
  }
  if (name == "content-length" && t->response->body.empty()) {
    // Reserve once for large downloads instead of growing the string repeatedly.
    uint64_t n = 0;
    for (char c : value) {
      if (c < '0' || c > '9') break;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (n > 0 && n < (uint64_t{1} << 34)) t->response->body.reserve(n);
  }
  t->response->headers.emplace_back(std::move(name), std::string(value));
  return size * nitems;
}

// Aborts transfers that moved no byte for stall_timeout_ms: CURLOPT_LOW_SPEED_TIME only counts
// whole seconds, and a stalled server must be noticed in tests within a fraction of one.
int Progress(void* userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
             curl_off_t ulnow) {
  (void)dltotal;
  (void)ultotal;
  auto* t = static_cast<Transfer*>(userdata);
  auto now = std::chrono::steady_clock::now();
  curl_off_t moved = dlnow + ulnow;
  if (moved != t->last_moved) {
    t->last_moved = moved;
    t->last_progress = now;
    return 0;
  }
  if (t->stall_timeout_ms > 0 &&
      now - t->last_progress > std::chrono::milliseconds(t->stall_timeout_ms)) {
    t->stalled = true;
    return 1;
  }
  return 0;
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return std::nullopt;
}

HttpClient::HttpClient(HttpOptions options) : options_(options) {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpClient::~HttpClient() {
  for (CURL* h : idle_) curl_easy_cleanup(h);
}

CURL* HttpClient::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      CURL* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpClient::Release(CURL* handle) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < options_.max_idle_handles) {
    idle_.push_back(handle);
  } else {
    curl_easy_cleanup(handle);
  }
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  CURL* h = Acquire();
  if (h == nullptr) return InternalError("curl_easy_init failed");
  // Reset keeps the handle's connection cache, which is what makes reuse work.
  curl_easy_reset(h);

  HttpResponse response;
  Transfer t;
  t.body = request.body;
  t.response = &response;
  t.continue_after_headers = &request.continue_after_headers;
  t.stall_timeout_ms = options_.stall_timeout_ms;
  t.last_progress = std::chrono::steady_clock::now();

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  if (options_.request_timeout_ms > 0) {
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout_ms));
  }
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, Progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());

  if (request.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(h, CURLOPT_READDATA, &t);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  // No "Expect: 100-continue" round trip before each upload, and no default Content-Type.
  headers = curl_slist_append(headers, "Expect:");
  headers = curl_slist_append(headers, "Content-Type:");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  long connects = 0;
  curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
  connections_opened_.fetch_add(static_cast<uint64_t>(std::max(0L, connects)));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);

  if (rc == CURLE_WRITE_ERROR && response.stopped_after_headers) {
    // We ended it: the connection is mid-response and cannot be reused.
    curl_easy_cleanup(h);
    response.status = status;
    return response;
  }
  if (rc != CURLE_OK) {
    // A handle whose transfer failed may hold a broken connection: do not pool it.
    curl_easy_cleanup(h);
    std::string reason = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
    std::string what = fmt::format("{} {}: ", request.method, request.url);
    if (t.stalled) {
      return DeadlineExceededError(
          fmt::format("{}no progress for {} ms (stalled)", what, options_.stall_timeout_ms));
    }
    switch (rc) {
      case CURLE_OPERATION_TIMEDOUT:
        return DeadlineExceededError(what + "timed out: " + reason);
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return InvalidArgumentError(what + reason);
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
        return FailedPreconditionError(what + "tls: " + reason);
      default:
        return UnavailableError(what + reason);
    }
  }
  Release(h);
  response.status = status;
  return response;
}

}  // namespace rwmeta::objstore::s3
