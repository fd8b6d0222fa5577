#include "testing/http_fault_proxy.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <optional>

namespace rwmeta::testing {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Closes with RST instead of FIN.
void ResetClose(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  ::close(fd);
}

// Reads into `buf` until it holds `want` bytes or more; false on EOF, error or `stopping`.
bool ReadAtLeast(int fd, std::string* buf, size_t want, const std::atomic<bool>& stopping) {
  char chunk[65536];
  while (buf->size() < want) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (stopping.load()) return false;
    if (r <= 0) continue;
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buf->append(chunk, static_cast<size_t>(n));
  }
  return true;
}

// "%2F" -> "/" and so on; '+' stays (S3 paths encode spaces as %20).
std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string Unquoted(std::string s) {
  std::erase(s, '"');
  return s;
}

// PutObject or CompleteMultipartUpload with If-None-Match or If-Match.
bool IsConditionalWrite(const ProxiedRequest& r) {
  bool write = (r.method == "PUT" && !r.HasQueryParam("partNumber") &&
                r.headers.count("x-amz-copy-source") == 0) ||
               (r.method == "POST" && r.HasQueryParam("uploadId"));
  return write && (r.headers.count("if-none-match") > 0 || r.headers.count("if-match") > 0);
}

// S3's answer to a conditional write whose condition does not hold, or nullopt to forward it.
std::optional<Fault> JudgeConditionalWrite(const ProxiedRequest& r,
                                           const HttpFaultProxy::EtagLookup& etag_of) {
  std::string path = PercentDecode(std::string_view(r.target).substr(0, r.target.find('?')));
  Result<std::string> etag = etag_of(path);
  if (!etag.ok() && etag.status().code() != StatusCode::kNotFound) {
    return Fault::S3Error(500, "InternalError");
  }
  if (auto it = r.headers.find("if-none-match"); it != r.headers.end()) {
    if (etag.ok()) return Fault::S3Error(412, "PreconditionFailed");
  }
  if (auto it = r.headers.find("if-match"); it != r.headers.end()) {
    if (!etag.ok()) return Fault::S3Error(404, "NoSuchKey");
    if (Unquoted(it->second) != Unquoted(*etag)) return Fault::S3Error(412, "PreconditionFailed");
  }
  return std::nullopt;
}

}  // namespace

std::string ProxiedRequest::QueryParam(const std::string& name) const {
  size_t q = target.find('?');
  if (q == std::string::npos) return "";
  std::string_view rest = std::string_view(target).substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    size_t eq = kv.find('=');
    if (kv.substr(0, eq) == name)
      return eq == std::string_view::npos ? "" : std::string(kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return "";
}

bool ProxiedRequest::HasQueryParam(const std::string& name) const {
  size_t q = target.find('?');
  if (q == std::string::npos) return false;
  std::string query = "&" + target.substr(q + 1);
  return query.find("&" + name + "=") != std::string::npos ||
         query.find("&" + name + "&") != std::string::npos ||
         (query.size() >= name.size() + 1 &&
          query.compare(query.size() - name.size() - 1, std::string::npos, "&" + name) == 0);
}

Fault Fault::S3Error(int status, const std::string& code) {
  Fault f;
  f.kind = Kind::kRespond;
  f.status = status;
  f.body = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>injected by "
      "the test proxy</Message><RequestId>proxy-request</RequestId></Error>",
      code);
  return f;
}

Result<std::unique_ptr<HttpFaultProxy>> HttpFaultProxy::Start(int upstream_port) {
  std::unique_ptr<HttpFaultProxy> proxy(new HttpFaultProxy());
  proxy->upstream_port_ = upstream_port;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return InternalError("proxy: socket failed");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    return InternalError(fmt::format("proxy: bind/listen failed: {}", std::strerror(errno)));
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  proxy->listen_fd_ = fd;
  proxy->port_ = ntohs(addr.sin_port);
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

HttpFaultProxy::~HttpFaultProxy() {
  stopping_.store(true);
  ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : client_fds_) ::shutdown(fd, SHUT_RDWR);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
}

std::string HttpFaultProxy::endpoint() const { return fmt::format("http://127.0.0.1:{}", port_); }

void HttpFaultProxy::SetRule(Rule rule) {
  std::lock_guard<std::mutex> lock(mu_);
  rule_ = std::move(rule);
}

void HttpFaultProxy::EmulateConditionalWrites(EtagLookup etag_of) {
  std::lock_guard<std::mutex> lock(mu_);
  etag_of_ = std::move(etag_of);
}

std::vector<HttpFaultProxy::Seen> HttpFaultProxy::seen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

void HttpFaultProxy::ClearSeen() {
  std::lock_guard<std::mutex> lock(mu_);
  seen_.clear();
}

void HttpFaultProxy::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_.load()) {
      ::close(fd);
      break;
    }
    client_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void HttpFaultProxy::Serve(int client_fd) {
  auto finish = [&](bool reset) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      client_fds_.erase(std::remove(client_fds_.begin(), client_fds_.end(), client_fd),
                        client_fds_.end());
    }
    if (reset) {
      ResetClose(client_fd);
    } else {
      ::close(client_fd);
    }
  };
  std::string buf;
  while (true) {
    size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadAtLeast(client_fd, &buf, buf.size() + 1, stopping_)) return finish(false);
    }
    std::string head = buf.substr(0, head_end);
    ProxiedRequest req;
    std::vector<std::string> lines;
    for (size_t pos = 0; pos <= head.size();) {
      size_t eol = head.find("\r\n", pos);
      if (eol == std::string::npos) eol = head.size();
      lines.push_back(head.substr(pos, eol - pos));
      pos = eol + 2;
    }
    {
      size_t sp1 = lines[0].find(' ');
      size_t sp2 = lines[0].rfind(' ');
      req.method = lines[0].substr(0, sp1);
      req.target = lines[0].substr(sp1 + 1, sp2 - sp1 - 1);
    }
    std::string forwarded_head = lines[0] + "\r\n";
    for (size_t i = 1; i < lines.size(); ++i) {
      size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      std::string name = Lower(lines[i].substr(0, colon));
      std::string value = lines[i].substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      req.headers[name] = value;
      if (name != "connection") forwarded_head += lines[i] + "\r\n";
    }
    forwarded_head += "Connection: close\r\n\r\n";
    uint64_t body_len = 0;
    if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
      body_len = std::strtoull(it->second.c_str(), nullptr, 10);
    }
    req.body_bytes = body_len;
    if (!ReadAtLeast(client_fd, &buf, head_end + 4 + body_len, stopping_)) return finish(false);
    std::string body = buf.substr(head_end + 4, body_len);
    buf.erase(0, head_end + 4 + body_len);

    Fault fault;
    EtagLookup etag_of;
    {
      std::lock_guard<std::mutex> lock(mu_);
      req.index = next_index_++;
      if (rule_) fault = rule_(req);
      seen_.push_back({req, fault.kind});
      etag_of = etag_of_;
    }
    // Counted from here to the end of the answer (or the connection).
    struct InFlight {
      HttpFaultProxy* p;
      explicit InFlight(HttpFaultProxy* proxy) : p(proxy) {
        int now = p->concurrent_.fetch_add(1) + 1;
        int max = p->max_concurrent_.load();
        while (now > max && !p->max_concurrent_.compare_exchange_weak(max, now)) {
        }
      }
      ~InFlight() { p->concurrent_.fetch_sub(1); }
    } in_flight(this);
    if (fault.kind == Fault::Kind::kDelay) {
      auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(fault.stall_ms);
      while (!stopping_.load() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    // Held until this request's answer is relayed (the end of this iteration or of Serve), so
    // that no other conditional write is judged before this one's effect is on the server.
    std::unique_lock<std::mutex> conditional_lock;
    const bool reaches_server = fault.kind == Fault::Kind::kForward ||
                                fault.kind == Fault::Kind::kDelay ||
                                fault.kind == Fault::Kind::kResetMidResponse;
    if (etag_of && reaches_server && IsConditionalWrite(req)) {
      conditional_lock = std::unique_lock<std::mutex>(conditional_mu_);
      if (std::optional<Fault> refusal = JudgeConditionalWrite(req, etag_of)) {
        if (refusal->status != 500) conditional_refused_.fetch_add(1);
        fault = *std::move(refusal);
      }
    }
    switch (fault.kind) {
      case Fault::Kind::kRespond: {
        std::string body_out = req.method == "HEAD" ? "" : fault.body;
        std::string answer = fmt::format(
            "HTTP/1.1 {} Injected\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n"
            "x-amz-request-id: proxy-{}\r\nConnection: keep-alive\r\n\r\n{}",
            fault.status, body_out.size(), req.index, body_out);
        if (!WriteAll(client_fd, answer)) return finish(false);
        continue;
      }
      case Fault::Kind::kStall: {
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(fault.stall_ms);
        while (!stopping_.load() && std::chrono::steady_clock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return finish(false);
      }
      case Fault::Kind::kReset:
        return finish(true);
      case Fault::Kind::kForward:
      case Fault::Kind::kDelay:
      case Fault::Kind::kResetMidResponse: {
        int up = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
        if (up < 0 || ::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
          if (up >= 0) ::close(up);
          return finish(true);
        }
        std::string answer;
        bool sent = WriteAll(up, forwarded_head) && WriteAll(up, body);
        if (sent) {
          char chunk[65536];
          while (true) {
            pollfd p{up, POLLIN, 0};
            int r = ::poll(&p, 1, 100);
            if (stopping_.load()) break;
            if (r <= 0) continue;
            ssize_t n = ::recv(up, chunk, sizeof(chunk), 0);
            if (n <= 0) break;
            answer.append(chunk, static_cast<size_t>(n));
          }
        }
        ::close(up);
        if (fault.kind == Fault::Kind::kResetMidResponse) {
          WriteAll(client_fd, std::string_view(answer).substr(0, answer.size() / 2));
          return finish(true);
        }
        WriteAll(client_fd, answer);
        // The server was asked to close, so the answer says so: the client reconnects.
        return finish(false);
      }
    }
  }
}

}  // namespace rwmeta::testing
