// One client connection of the pgwire Server: socket I/O, startup and authentication, and the
// simple and extended query protocols. Internal to the server (see server.h for the behaviour).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "pgwire/server.h"
#include "pgwire/session.h"

namespace rwmeta::pgwire {

class Connection {
 public:
  // `fd` is a connected, non-blocking socket; it stays owned by the server (closed after this
  // connection's thread is joined). `server` and `slot` must outlive the connection.
  Connection(Server* server, Server::ConnectionSlot* slot, int fd);
  ~Connection();

  // Serves the connection until the client leaves, a fatal error, or the server stops. Never
  // throws; shuts the socket down before returning.
  void Run();

  // Forwards a CancelRequest to the session. Called by the server with its mutex held, only
  // while this connection is registered (so the session exists).
  void RequestCancel();

 private:
  struct PreparedStatement {
    std::string sql;
    PreparedInfo info;
  };
  struct Portal {
    std::shared_ptr<const PreparedStatement> statement;
    std::vector<TextValue> params;
    // One per result column of the statement: 0 text, 1 binary.
    std::vector<int16_t> result_formats;
    bool executed = false;
    bool suspended = false;  // some Execute stopped at its row limit
    ResultSet result;
    size_t next_row = 0;
  };

  // --- socket I/O. Errors: Unavailable (client gone or socket error), Cancelled (server
  // stopping), DeadlineExceeded (startup took too long), or a protocol violation (08P01).
  Status ReadExact(size_t n, std::string* out);
  Status FillBuffer();
  Status Flush();
  // Reads one typed message (after startup).
  Status ReadMessage(char* type, std::string* payload);
  // Marks `status` as a socket failure (no ErrorResponse can or need be sent) and returns it.
  Status IoError(Status status);
  // Queues the ErrorResponse (FATAL) a client sees before the server closes the connection
  // because of `status`: nothing after a socket failure, 57P01 when the server stops.
  void SendClosingError(const Status& status);

  // --- phases; a non-OK Status ends the connection (a FATAL error was already queued if the
  // client should see one).
  Status Startup();
  Status Authenticate(const std::string& user, const std::string& database);
  void ServeMessages();

  // --- message handlers. A non-OK Status is a query error (ErrorResponse, session continues);
  // message decoding errors are returned through `fatal_`.
  Status HandleQuery(const std::string& payload);
  Status HandleParse(const std::string& payload);
  Status HandleBind(const std::string& payload);
  Status HandleDescribe(const std::string& payload);
  Status HandleExecute(const std::string& payload);
  Status HandleClose(const std::string& payload);

  // --- output (queued in out_, written by Flush)
  void SendError(const Status& status, const char* severity);
  void SendNotice(const std::string& message);
  void SendRowDescription(const std::vector<Field>& fields, const std::vector<int16_t>& formats);
  // Appends the DataRows for rows [begin, end) of `result`; InvalidArgument if a value cannot be
  // converted to the requested binary format (nothing is appended then).
  Status SendDataRows(const ResultSet& result, size_t begin, size_t end,
                      const std::vector<int16_t>& formats);
  void SendCommandComplete(const std::string& tag);
  // Also drops every portal when the session is outside a transaction block.
  void SendReadyForQuery();
  // The session's transaction status ('I', 'T' or 'E'; anything else counts as 'I').
  char TransactionStatus() const;
  void SendSimple(char type);  // a message without payload
  // Best-effort, non-blocking write of whatever is queued (used when closing).
  void FlushNoWait();

  Server* const server_;
  Server::ConnectionSlot* const slot_;
  const int fd_;

  std::string in_;
  size_t in_pos_ = 0;
  std::string out_;
  // Reads time out at this point during startup; time_point::max() afterwards.
  std::chrono::steady_clock::time_point deadline_;

  std::string user_;
  std::unique_ptr<Session> session_;
  bool registered_ = false;
  bool io_error_ = false;     // a socket read or write failed
  bool quiet_close_ = false;  // close without an ErrorResponse (served a CancelRequest)

  // Set when a message could not be decoded: the connection gets FATAL and closes.
  Status fatal_;
  bool ignore_till_sync_ = false;
  std::map<std::string, std::shared_ptr<const PreparedStatement>> statements_;
  std::map<std::string, Portal> portals_;
};

}  // namespace rwmeta::pgwire
