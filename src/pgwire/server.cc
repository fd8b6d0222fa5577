#include "pgwire/server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "pgwire/connection.h"
#include "pgwire/sql_state.h"

namespace rwmeta::pgwire {

std::string SqlStateFor(const Status& status) {
  if (!status.sqlstate().empty()) return status.sqlstate();
  return std::string(SqlStateForCode(status.code()));
}

namespace {

// How often the accept loop wakes to join finished connection threads.
constexpr int kReapIntervalMs = 200;
constexpr int kListenBacklog = 128;
// Connections over max_connections that are being told so, at most.
constexpr int kMaxRejectingConnections = 8;

struct HostPort {
  std::string host;
  std::string port;
};

Result<HostPort> ParseListenAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgumentError("pgwire listen address \"" + address + "\": expected host:port");
  }
  HostPort hp{address.substr(0, colon), address.substr(colon + 1)};
  if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']') {
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  }
  if (hp.host.empty()) {
    return InvalidArgumentError("pgwire listen address \"" + address + "\": empty host");
  }
  bool digits = !hp.port.empty() && hp.port.size() <= 5;
  for (char c : hp.port) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (!digits || std::stoi(hp.port) > 65535) {
    return InvalidArgumentError("pgwire listen address \"" + address + "\": bad port \"" + hp.port +
                                "\"");
  }
  return hp;
}

void CloseFd(int* fd) {
  if (*fd >= 0) {
    close(*fd);
    *fd = -1;
  }
}

}  // namespace

Server::Server(ServerOptions options, std::shared_ptr<SessionFactory> factory)
    : options_(std::move(options)), factory_(std::move(factory)) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  if (started_ || stopped_) return FailedPreconditionError("pgwire server already started");
  RWMETA_ASSIGN_OR_RETURN(HostPort hp, ParseListenAddress(options_.listen_address));

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* addrs = nullptr;
  const int gai = getaddrinfo(hp.host.c_str(), hp.port.c_str(), &hints, &addrs);
  if (gai != 0) {
    return InvalidArgumentError("pgwire listen address \"" + options_.listen_address +
                                "\": " + gai_strerror(gai));
  }
  std::string last_error = "no usable address";
  for (addrinfo* a = addrs; a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      last_error = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    const int one = 1;
    // Lets a restarted server rebind while old connections linger in TIME_WAIT; a port another
    // socket listens on still fails with EADDRINUSE.
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, kListenBacklog) != 0) {
      last_error = std::strerror(errno);
      CloseFd(&fd);
      continue;
    }
    listen_fd_ = fd;
    break;
  }
  freeaddrinfo(addrs);
  if (listen_fd_ < 0) {
    return UnavailableError("pgwire cannot listen on " + options_.listen_address + ": " +
                            last_error);
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
    CloseFd(&listen_fd_);
    return InternalError(std::string("pgwire getsockname: ") + std::strerror(errno));
  }
  port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (pipe2(stop_pipe_, O_CLOEXEC) != 0) {
    CloseFd(&listen_fd_);
    return InternalError(std::string("pgwire pipe: ") + std::strerror(errno));
  }
  try {
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  } catch (const std::system_error& e) {
    CloseFd(&listen_fd_);
    CloseFd(&stop_pipe_[0]);
    CloseFd(&stop_pipe_[1]);
    return InternalError(std::string("pgwire cannot start accept thread: ") + e.what());
  }
  started_ = true;
  spdlog::info("pgwire: listening on {} (port {})", options_.listen_address, port_);
  return Status::Ok();
}

void Server::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  if (!started_) return;
  // The pipe is never drained: every poll on its read end wakes from now on.
  const char byte = 's';
  while (write(stop_pipe_[1], &byte, 1) < 0 && errno == EINTR) {
  }
  accept_thread_.join();
  CloseFd(&listen_fd_);
  {
    // Statements still running are asked to stop, so that Stop does not wait for a long query.
    std::lock_guard<std::mutex> lock(mu_);
    for (ConnectionSlot& slot : slots_) {
      if (slot.connection != nullptr) slot.connection->RequestCancel();
    }
  }
  // The accept thread is gone, so nobody else changes the list's structure; connection threads
  // only touch their own slot's fields (under mu_), so joining without mu_ held is safe.
  for (ConnectionSlot& slot : slots_) {
    if (slot.thread.joinable()) slot.thread.join();
    CloseFd(&slot.fd);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    slots_.clear();
  }
  CloseFd(&stop_pipe_[0]);
  CloseFd(&stop_pipe_[1]);
  spdlog::info("pgwire: stopped listening on {}", options_.listen_address);
}

void Server::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd(), POLLIN, 0}};
    const int r = poll(fds, 2, kReapIntervalMs);
    if (r < 0 && errno != EINTR) {
      spdlog::error("pgwire: poll on listen socket failed: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    ReapFinished();
    if (r <= 0 || fds[0].revents == 0) continue;

    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        spdlog::warn("pgwire: accept failed: {}", std::strerror(errno));
        // The pending connection keeps the socket readable: back off instead of spinning.
        pollfd stop = {stop_fd(), POLLIN, 0};
        poll(&stop, 1, kReapIntervalMs);
      }
      continue;  // EAGAIN, ECONNABORTED, EINTR: nothing to do
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    // Over the limit, the connection still gets a thread that answers its startup packet with
    // "too many clients" (closing at once would make the client see a reset instead); beyond a
    // few such threads, we just close.
    const bool admitted = active_connections_.load() < options_.max_connections;
    if (!admitted && rejecting_connections_.load() >= kMaxRejectingConnections) {
      close(fd);
      spdlog::warn("pgwire: dropped a connection: {} connections already",
                   options_.max_connections);
      continue;
    }
    std::atomic<int>& counter = admitted ? active_connections_ : rejecting_connections_;
    std::lock_guard<std::mutex> lock(mu_);
    ConnectionSlot& slot = slots_.emplace_back();
    slot.fd = fd;
    slot.admitted = admitted;
    counter.fetch_add(1);
    try {
      slot.thread = std::thread([this, &slot, &counter] {
        {
          Connection connection(this, &slot, slot.fd);
          connection.Run();
        }
        counter.fetch_sub(1);
        slot.done.store(true);
      });
    } catch (const std::system_error& e) {
      spdlog::error("pgwire: cannot start connection thread: {}", e.what());
      counter.fetch_sub(1);
      close(fd);
      slots_.pop_back();
    }
  }
}

void Server::ReapFinished() {
  std::list<ConnectionSlot> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = slots_.begin(); it != slots_.end();) {
      auto next = std::next(it);
      if (it->done.load()) finished.splice(finished.end(), slots_, it);
      it = next;
    }
  }
  for (ConnectionSlot& slot : finished) {
    slot.thread.join();
    CloseFd(&slot.fd);
  }
}

void Server::Register(ConnectionSlot* slot, Connection* connection, int32_t process_id,
                      int32_t secret_key) {
  std::lock_guard<std::mutex> lock(mu_);
  slot->connection = connection;
  slot->process_id = process_id;
  slot->secret_key = secret_key;
}

void Server::Unregister(ConnectionSlot* slot) {
  std::lock_guard<std::mutex> lock(mu_);
  slot->connection = nullptr;
}

void Server::Cancel(int32_t process_id, int32_t secret_key) {
  std::lock_guard<std::mutex> lock(mu_);
  for (ConnectionSlot& slot : slots_) {
    if (slot.connection != nullptr && slot.process_id == process_id &&
        slot.secret_key == secret_key) {
      spdlog::info("pgwire: cancel request for connection {}", process_id);
      slot.connection->RequestCancel();
      return;
    }
  }
  spdlog::info("pgwire: cancel request for unknown connection {} ignored", process_id);
}

}  // namespace rwmeta::pgwire
