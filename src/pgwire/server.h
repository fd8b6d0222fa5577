// The PostgreSQL wire protocol (v3) server: accepts TCP connections, runs the startup and
// authentication exchanges, frames simple- and extended-query messages, and hands SQL to a
// Session from the SessionFactory (session.h). It never parses SQL.
//
// Protocol coverage:
//   - SSLRequest / GSSENCRequest are answered 'N' (no encryption); the client then sends its
//     StartupMessage in clear. Protocol versions other than 3.x are refused (0A000).
//   - Authentication per SessionFactory::Authenticate: trust, or MD5 challenge with a random salt.
//     A wrong password gets FATAL 28P01 "password authentication failed for user "x"".
//   - Simple query, and the extended protocol (Parse, Bind, Describe, Execute with row limits and
//     PortalSuspended, Close, Sync, Flush). After an error in an extended-protocol message the
//     server discards messages until Sync, as PostgreSQL does. ReadyForQuery reports
//     Session::TransactionStatus(); portals live until the transaction ends (dropped at Sync or
//     after a simple query whenever that status is 'I').
//   - CancelRequest: matched against the BackendKeyData of live connections; a match calls
//     Session::RequestCancel on that connection's session. No reply is sent (as PostgreSQL).
//   - A malformed message (length < 4, or > 1 GiB for Query/Parse/Bind and > 10000 bytes for the
//     small messages such as Sync or Execute, as PostgreSQL; unknown type; bad field layout) gets
//     FATAL 08P01 and the connection is closed.
//   - FunctionCall and COPY are not supported (FunctionCall gets 0A000; stray CopyData, CopyDone
//     and CopyFail are ignored, as PostgreSQL does outside COPY).
//
// Error severities: query errors are ERROR (the session continues); errors that end the connection
// (startup, authentication, protocol violations, too many connections) are FATAL, as PostgreSQL.
//
// Concurrency:
//   | method   | thread-safety                                                      |
//   |----------|--------------------------------------------------------------------|
//   | Start    | once; a Start after Stop fails (FailedPrecondition)                |
//   | port     | any thread, after Start returned OK                                |
//   | Stop     | any thread, any number of times (idempotent); blocks until every   |
//   |          | connection thread has ended                                        |
//   | ~Server  | calls Stop                                                         |
// One accept thread plus one thread per connection. The SessionFactory is called from connection
// threads concurrently; each Session only from its own connection's thread (plus RequestCancel
// from the thread serving a CancelRequest, or from Stop).
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "pgwire/session.h"

namespace rwmeta::pgwire {

struct ServerOptions {
  // "host:port"; host is an IPv4 address, a bracketed IPv6 address ("[::1]:4566") or a name.
  // Port 0 picks a free port (see Server::port()).
  std::string listen_address = "127.0.0.1:4566";
  // Connections beyond this many are refused with FATAL 53300 "sorry, too many clients already".
  int max_connections = 100;
  // A client must finish startup and authentication within this time or is disconnected.
  int startup_timeout_ms = 60'000;
};

// The SQLSTATE an ErrorResponse carries for `status`: status.sqlstate() if set, else the state of
// its code (SqlStateForCode, sql_state.h). REQUIRES: !status.ok().
std::string SqlStateFor(const Status& status);

class Connection;

class Server {
 public:
  // `factory` is shared with the connection threads; it must be thread-safe.
  Server(ServerOptions options, std::shared_ptr<SessionFactory> factory);
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listen address and starts accepting in a background thread.
  // InvalidArgument: the address does not parse ("host:port", port 0..65535) or does not resolve.
  // Unavailable: the address cannot be bound (port taken, address not local); the message names
  //   the address.
  // FailedPrecondition: Start was already called (also after Stop: a server does not restart).
  // Internal: a system call that should not fail did (pipe, socket).
  Status Start();

  // The bound port (the chosen one when the options said port 0). REQUIRES: Start returned OK.
  int port() const { return port_; }

  // Stops accepting, closes every connection and joins all threads. A statement still running is
  // asked to stop (Session::RequestCancel) and then waited for; idle clients get FATAL 57P01
  // "terminating connection due to administrator command".
  // Idempotent; safe to call from any thread, but not from inside a Session
  // call (it would wait for itself) and not from a signal handler (it locks and joins: let the
  // SIGTERM handler wake a thread that calls Stop).
  void Stop();

  // Connections currently served (after acceptance, until their thread ends). Thread-safe.
  int active_connections() const { return active_connections_.load(); }

 private:
  friend class Connection;

  struct ConnectionSlot {
    int fd = -1;
    // False if the connection was over max_connections: it only gets told so (53300).
    bool admitted = true;
    std::thread thread;
    std::atomic<bool> done{false};
    // Set by the connection once its BackendKeyData is chosen; guarded by mu_.
    int32_t process_id = 0;
    int32_t secret_key = 0;
    Connection* connection = nullptr;
  };

  void AcceptLoop();
  void ReapFinished();  // joins connection threads that have ended

  // Called by connections (any thread).
  void Register(ConnectionSlot* slot, Connection* connection, int32_t process_id,
                int32_t secret_key);
  void Unregister(ConnectionSlot* slot);
  void Cancel(int32_t process_id, int32_t secret_key);
  int32_t NextProcessId() { return next_process_id_.fetch_add(1); }
  int stop_fd() const { return stop_pipe_[0]; }

  const ServerOptions options_;
  const std::shared_ptr<SessionFactory> factory_;

  int listen_fd_ = -1;
  int port_ = 0;
  int stop_pipe_[2] = {-1, -1};  // written once by Stop: readable forever after
  std::thread accept_thread_;

  std::mutex stop_mu_;  // serializes Stop
  bool started_ = false;
  bool stopped_ = false;

  mutable std::mutex mu_;
  std::list<ConnectionSlot> slots_;  // guarded by mu_
  std::atomic<int> active_connections_{0};
  std::atomic<int> rejecting_connections_{0};
  std::atomic<int32_t> next_process_id_{1000};
};

}  // namespace rwmeta::pgwire
