#include "pgwire/connection.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "pgwire/auth.h"
#include "pgwire/message.h"
#include "pgwire/values.h"

namespace rwmeta::pgwire {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunkBytes = size_t{64} * 1024;
// Queued output beyond this is written before the next message is handled.
constexpr size_t kFlushThresholdBytes = size_t{256} * 1024;
// I/O buffers larger than this are released once empty.
constexpr size_t kKeptBufferBytes = size_t{4} * 1024 * 1024;
// SSLRequest/GSSENCRequest answers before a client must send its StartupMessage.
constexpr int kMaxNegotiations = 2;

// AuthenticationRequest subtypes ('R' messages). They reach the wire.
constexpr int32_t kAuthOk = 0;
constexpr int32_t kAuthMd5Password = 5;

bool IsFrontendMessageType(char type) {
  return std::string_view("QPBDECSHXFdcf").find(type) != std::string_view::npos;
}

std::string Quoted(const std::string& name) { return "\"" + name + "\""; }

// Decodes the "format codes" array of a Bind message: 0 entries = all text, 1 = the same for
// all, else one per item. Returns one code per item.
Result<std::vector<int16_t>> ExpandFormats(const std::vector<int16_t>& codes, size_t n,
                                           const char* what) {
  for (int16_t c : codes) {
    if (c != 0 && c != 1) {
      return InvalidArgumentError("unsupported format code: " + std::to_string(c))
          .WithSqlState("22023");
    }
  }
  if (codes.empty()) return std::vector<int16_t>(n, 0);
  if (codes.size() == 1) return std::vector<int16_t>(n, codes[0]);
  if (codes.size() != n) {
    return ProtocolViolation("bind message has " + std::to_string(codes.size()) + " " + what +
                             " formats but " + std::to_string(n) + " " + what + "s");
  }
  return codes;
}

}  // namespace

Connection::Connection(Server* server, Server::ConnectionSlot* slot, int fd)
    : server_(server),
      slot_(slot),
      fd_(fd),
      deadline_(Clock::now() + std::chrono::milliseconds(server->options_.startup_timeout_ms)) {}

Connection::~Connection() {
  // The server must not reach the session once it is gone (CancelRequest).
  if (registered_) server_->Unregister(slot_);
}

void Connection::RequestCancel() {
  if (session_) session_->RequestCancel();
}

// ---------------------------------------------------------------------------------------------
// Socket I/O

Status Connection::IoError(Status status) {
  io_error_ = true;
  return status;
}

void Connection::SendClosingError(const Status& status) {
  if (quiet_close_) return;
  if (!io_error_) {
    SendError(status, "FATAL");
  } else if (status.code() == StatusCode::kCancelled) {
    SendError(UnavailableError("terminating connection due to administrator command")
                  .WithSqlState("57P01"),
              "FATAL");
  } else {
    spdlog::debug("pgwire: connection {} closed: {}", slot_->process_id, status.ToString());
  }
}

Status Connection::FillBuffer() {
  // Whatever the client is waiting for must be on its way before we wait for the client.
  if (!out_.empty()) RWMETA_RETURN_IF_ERROR(Flush());
  if (in_pos_ > 0) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  for (;;) {
    int timeout_ms = -1;
    if (deadline_ != Clock::time_point::max()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
      if (left.count() <= 0) return IoError(DeadlineExceededError("startup timed out"));
      timeout_ms = static_cast<int>(std::min<int64_t>(left.count(), 1'000'000));
    }
    pollfd fds[2] = {{fd_, POLLIN, 0}, {server_->stop_fd(), POLLIN, 0}};
    const int r = poll(fds, 2, timeout_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      return IoError(UnavailableError(std::string("poll: ") + std::strerror(errno)));
    }
    if (r == 0) continue;  // the deadline check above reports it
    if (fds[1].revents != 0) return IoError(CancelledError("server stopping"));
    if (fds[0].revents == 0) continue;
    char buf[kReadChunkBytes];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
      return Status::Ok();
    }
    if (n == 0) return IoError(UnavailableError("client closed the connection"));
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
    return IoError(UnavailableError(std::string("recv: ") + std::strerror(errno)));
  }
}

Status Connection::ReadExact(size_t n, std::string* out) {
  while (in_.size() - in_pos_ < n) RWMETA_RETURN_IF_ERROR(FillBuffer());
  if (in_pos_ == 0 && in_.size() == n) {
    // The common case for a large message: hand the buffer over instead of copying it.
    out->swap(in_);
    in_.clear();
  } else {
    out->assign(in_, in_pos_, n);
    in_pos_ += n;
  }
  if (in_pos_ == in_.size()) {
    in_pos_ = 0;
    in_.clear();
    // Do not keep the memory of one huge message for the life of the connection.
    if (in_.capacity() > kKeptBufferBytes) std::string().swap(in_);
  }
  return Status::Ok();
}

Status Connection::Flush() {
  size_t off = 0;
  while (off < out_.size()) {
    const ssize_t n = send(fd_, out_.data() + off, out_.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The client is not reading: wait for room, but never past Stop().
      pollfd fds[2] = {{fd_, POLLOUT, 0}, {server_->stop_fd(), POLLIN, 0}};
      if (poll(fds, 2, -1) < 0 && errno != EINTR) {
        return IoError(UnavailableError(std::string("poll: ") + std::strerror(errno)));
      }
      if (fds[1].revents != 0) return IoError(CancelledError("server stopping"));
      continue;
    }
    out_.clear();
    return IoError(UnavailableError(std::string("send: ") + std::strerror(errno)));
  }
  out_.clear();
  if (out_.capacity() > kKeptBufferBytes) std::string().swap(out_);
  return Status::Ok();
}

void Connection::FlushNoWait() {
  if (!out_.empty()) {
    // Best effort: the connection is closing either way.
    (void)send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    out_.clear();
  }
}

Status Connection::ReadMessage(char* type, std::string* payload) {
  std::string header;
  RWMETA_RETURN_IF_ERROR(ReadExact(1, &header));
  *type = header[0];
  if (!IsFrontendMessageType(*type)) {
    return ProtocolViolation("invalid frontend message type " +
                             std::to_string(static_cast<uint8_t>(*type)));
  }
  RWMETA_RETURN_IF_ERROR(ReadExact(4, &header));
  const auto len = static_cast<uint32_t>(DecodeInt32(header));
  const bool large = *type == 'Q' || *type == 'P' || *type == 'B' || *type == 'F' || *type == 'd';
  if (len < 4 || len > (large ? kMaxMessageBytes : kMaxSmallMessageBytes)) {
    return ProtocolViolation("invalid message length " + std::to_string(len));
  }
  return ReadExact(len - 4, payload);
}

// ---------------------------------------------------------------------------------------------
// Output

void Connection::SendError(const Status& status, const char* severity) {
  MessageWriter w(&out_);
  w.Begin('E');
  w.AddByte('S');
  w.AddCString(severity);
  w.AddByte('V');
  w.AddCString(severity);
  w.AddByte('C');
  w.AddCString(SqlStateFor(status));
  w.AddByte('M');
  std::string message = status.message();
  std::replace(message.begin(), message.end(), '\0', ' ');
  w.AddCString(message);
  w.AddByte('\0');
  w.End();
}

void Connection::SendNotice(const std::string& text) {
  MessageWriter w(&out_);
  w.Begin('N');
  w.AddByte('S');
  w.AddCString("NOTICE");
  w.AddByte('V');
  w.AddCString("NOTICE");
  w.AddByte('C');
  w.AddCString("00000");
  w.AddByte('M');
  std::string message = text;
  std::replace(message.begin(), message.end(), '\0', ' ');
  w.AddCString(message);
  w.AddByte('\0');
  w.End();
}

void Connection::SendRowDescription(const std::vector<Field>& fields,
                                    const std::vector<int16_t>& formats) {
  MessageWriter w(&out_);
  w.Begin('T');
  w.AddInt16(static_cast<int16_t>(fields.size()));
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string name = fields[i].name;
    std::replace(name.begin(), name.end(), '\0', ' ');
    w.AddCString(name);
    w.AddInt32(0);  // table oid
    w.AddInt16(0);  // column attribute number
    w.AddInt32(static_cast<int32_t>(fields[i].type_oid));
    w.AddInt16(fields[i].type_size);
    w.AddInt32(-1);  // type modifier
    w.AddInt16(i < formats.size() ? formats[i] : 0);
  }
  w.End();
}

Status Connection::SendDataRows(const ResultSet& result, size_t begin, size_t end,
                                const std::vector<int16_t>& formats) {
  std::string rows;
  MessageWriter w(&rows);
  for (size_t r = begin; r < end; ++r) {
    const auto& row = result.rows[r];
    w.Begin('D');
    w.AddInt16(static_cast<int16_t>(row.size()));
    for (size_t c = 0; c < row.size(); ++c) {
      if (!row[c].has_value()) {
        w.AddInt32(-1);
        continue;
      }
      if (c < formats.size() && formats[c] == 1) {
        const uint32_t oid = c < result.fields.size() ? result.fields[c].type_oid : kTextOid;
        RWMETA_ASSIGN_OR_RETURN(std::string binary, TextToBinary(oid, *row[c]));
        w.AddInt32(static_cast<int32_t>(binary.size()));
        w.AddBytes(binary);
      } else {
        w.AddInt32(static_cast<int32_t>(row[c]->size()));
        w.AddBytes(*row[c]);
      }
    }
    w.End();
  }
  out_.append(rows);
  return Status::Ok();
}

void Connection::SendCommandComplete(const std::string& tag) {
  MessageWriter w(&out_);
  w.Begin('C');
  w.AddCString(tag);
  w.End();
}

char Connection::TransactionStatus() const {
  const char status = session_ ? session_->TransactionStatus() : 'I';
  return status == 'T' || status == 'E' ? status : 'I';
}

void Connection::SendReadyForQuery() {
  const char status = TransactionStatus();
  // Outside a transaction block, every Sync (and every simple query) ends the implicit
  // transaction, and with it every portal.
  if (status == 'I') portals_.clear();
  MessageWriter w(&out_);
  w.Begin('Z');
  w.AddByte(status);
  w.End();
}

void Connection::SendSimple(char type) {
  MessageWriter w(&out_);
  w.Begin(type);
  w.End();
}

// ---------------------------------------------------------------------------------------------
// Startup and authentication

void Connection::Run() {
  Status s = Startup();
  if (s.ok()) {
    deadline_ = Clock::time_point::max();
    ServeMessages();
  } else {
    SendClosingError(s);
  }
  FlushNoWait();
  shutdown(fd_, SHUT_RDWR);
}

Status Connection::Startup() {
  std::string buf;
  for (int negotiations = 0;; ++negotiations) {
    RWMETA_RETURN_IF_ERROR(ReadExact(4, &buf));
    const int32_t len = DecodeInt32(buf);
    if (len < 8 || len > kMaxStartupPacketBytes) {
      return ProtocolViolation("invalid length of startup packet");
    }
    std::string packet;
    RWMETA_RETURN_IF_ERROR(ReadExact(static_cast<size_t>(len) - 4, &packet));
    const int32_t code = DecodeInt32(packet);
    if (code == kSslRequestCode || code == kGssEncRequestCode) {
      if (len != 8 || negotiations >= kMaxNegotiations) {
        return ProtocolViolation("invalid encryption request");
      }
      out_.push_back('N');  // no SSL, no GSSAPI encryption: continue in clear
      RWMETA_RETURN_IF_ERROR(Flush());
      continue;
    }
    if (code == kCancelRequestCode) {
      if (len != 16) return ProtocolViolation("invalid length of cancel request packet");
      server_->Cancel(DecodeInt32(std::string_view(packet).substr(4)),
                      DecodeInt32(std::string_view(packet).substr(8)));
      // PostgreSQL answers nothing and closes.
      quiet_close_ = true;
      return AbortedError("cancel request served");
    }
    const int major = static_cast<uint32_t>(code) >> 16;
    const int minor = code & 0xffff;
    if (major != 3) {
      return UnimplementedError("unsupported frontend protocol " + std::to_string(major) + "." +
                                std::to_string(minor) + ": server supports 3.0 to 3.0")
          .WithSqlState("0A000");
    }
    // Checked after the startup packet is read so that the client reads our answer.
    if (!slot_->admitted) {
      return ResourceExhaustedError("sorry, too many clients already").WithSqlState("53300");
    }
    MessageReader r(std::string_view(packet).substr(4));
    std::string database;
    std::vector<std::pair<std::string, std::string>> options;
    std::vector<std::string> unknown_protocol_options;
    for (;;) {
      RWMETA_ASSIGN_OR_RETURN(std::string key, r.GetCString());
      if (key.empty()) break;
      RWMETA_ASSIGN_OR_RETURN(std::string value, r.GetCString());
      if (key == "user") {
        user_ = value;
      } else if (key == "database") {
        database = value;
      } else if (key.starts_with("_pq_.")) {
        unknown_protocol_options.push_back(key);
      } else {
        options.emplace_back(std::move(key), std::move(value));
      }
    }
    RWMETA_RETURN_IF_ERROR(r.ExpectEnd());
    if (user_.empty()) {
      return InvalidArgumentError("no PostgreSQL user name specified in startup packet")
          .WithSqlState("28000");
    }
    if (database.empty()) database = user_;
    if (minor > 0 || !unknown_protocol_options.empty()) {
      // Tell the client what we speak instead of refusing (NegotiateProtocolVersion).
      MessageWriter w(&out_);
      w.Begin('v');
      w.AddInt32(kProtocolVersion3);
      w.AddInt32(static_cast<int32_t>(unknown_protocol_options.size()));
      for (const auto& o : unknown_protocol_options) w.AddCString(o);
      w.End();
    }
    RWMETA_RETURN_IF_ERROR(Authenticate(user_, database));

    RWMETA_ASSIGN_OR_RETURN(session_, server_->factory_->OpenSession(user_, database, options));
    for (const auto& [name, value] : session_->ParameterStatuses()) {
      MessageWriter w(&out_);
      w.Begin('S');
      w.AddCString(name);
      w.AddCString(value);
      w.End();
    }
    const int32_t process_id = server_->NextProcessId();
    int32_t secret_key = 0;
    RWMETA_RETURN_IF_ERROR(
        RandomBytes(reinterpret_cast<unsigned char*>(&secret_key), sizeof(secret_key)));
    server_->Register(slot_, this, process_id, secret_key);
    registered_ = true;
    MessageWriter w(&out_);
    w.Begin('K');
    w.AddInt32(process_id);
    w.AddInt32(secret_key);
    w.End();
    SendReadyForQuery();
    spdlog::debug("pgwire: connection {} ready: user {} database {}", process_id, user_, database);
    return Flush();
  }
}

Status Connection::Authenticate(const std::string& user, const std::string& database) {
  RWMETA_ASSIGN_OR_RETURN(AuthRequirement requirement,
                          server_->factory_->Authenticate(user, database));
  if (requirement.password_required) {
    unsigned char salt[4];
    RWMETA_RETURN_IF_ERROR(RandomBytes(salt, sizeof(salt)));
    MessageWriter w(&out_);
    w.Begin('R');
    w.AddInt32(kAuthMd5Password);
    w.AddBytes(std::string_view(reinterpret_cast<const char*>(salt), sizeof(salt)));
    w.End();
    RWMETA_RETURN_IF_ERROR(Flush());

    std::string header;
    RWMETA_RETURN_IF_ERROR(ReadExact(1, &header));
    if (header[0] != 'p') {
      return ProtocolViolation("expected password response, got message type " +
                               std::to_string(static_cast<uint8_t>(header[0])));
    }
    RWMETA_RETURN_IF_ERROR(ReadExact(4, &header));
    const int32_t len = DecodeInt32(header);
    if (len < 4 || len > kMaxStartupPacketBytes) {
      return ProtocolViolation("invalid password packet size");
    }
    std::string payload;
    RWMETA_RETURN_IF_ERROR(ReadExact(static_cast<size_t>(len) - 4, &payload));
    MessageReader r(payload);
    RWMETA_ASSIGN_OR_RETURN(std::string response, r.GetCString());
    RWMETA_RETURN_IF_ERROR(r.ExpectEnd());
    if (!requirement.md5_verifier.starts_with("md5") || requirement.md5_verifier.size() != 35) {
      spdlog::warn("pgwire: stored password of user {} is not an md5 verifier", user);
    }
    if (!CheckMd5Response(requirement.md5_verifier,
                          std::string_view(reinterpret_cast<const char*>(salt), sizeof(salt)),
                          response)) {
      return UnauthenticatedError("password authentication failed for user " + Quoted(user))
          .WithSqlState("28P01");
    }
  }
  MessageWriter w(&out_);
  w.Begin('R');
  w.AddInt32(kAuthOk);
  w.End();
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Message loop

void Connection::ServeMessages() {
  for (;;) {
    if (out_.size() >= kFlushThresholdBytes && !Flush().ok()) return;
    char type = 0;
    std::string payload;
    Status s = ReadMessage(&type, &payload);
    if (!s.ok()) {
      SendClosingError(s);
      return;
    }
    if (ignore_till_sync_ && type != 'S' && type != 'X') continue;

    bool extended = true;
    Status result;
    switch (type) {
      case 'Q':
        extended = false;
        result = HandleQuery(payload);
        break;
      case 'P':
        result = HandleParse(payload);
        break;
      case 'B':
        result = HandleBind(payload);
        break;
      case 'D':
        result = HandleDescribe(payload);
        break;
      case 'E':
        result = HandleExecute(payload);
        break;
      case 'C':
        result = HandleClose(payload);
        break;
      case 'H':
        if (!Flush().ok()) return;
        break;
      case 'S':
        ignore_till_sync_ = false;
        SendReadyForQuery();
        if (!Flush().ok()) return;
        break;
      case 'X':
        return;
      case 'F':
        result = UnimplementedError("function call protocol is not supported");
        break;
      default:
        // CopyData, CopyDone, CopyFail outside COPY: ignored, as PostgreSQL does.
        break;
    }
    if (!fatal_.ok()) {
      SendError(fatal_, "FATAL");
      return;
    }
    if (!result.ok()) {
      SendError(result, "ERROR");
      if (extended) {
        ignore_till_sync_ = true;
      } else {
        SendReadyForQuery();
      }
    }
  }
}

Status Connection::HandleQuery(const std::string& payload) {
  MessageReader r(payload);
  Result<std::string> sql = r.GetCString();
  Status decoded = sql.ok() ? r.ExpectEnd() : sql.status();
  if (!decoded.ok()) {
    fatal_ = decoded;
    return Status::Ok();
  }
  // A simple query drops the unnamed statement and portal (PostgreSQL does the same).
  statements_.erase("");
  portals_.erase("");

  std::vector<ResultSet> results;
  Status s = session_->ExecuteSimple(*sql, &results);
  for (const ResultSet& rs : results) {
    for (const auto& n : rs.notices) SendNotice(n);
    if (rs.returns_rows) {
      SendRowDescription(rs.fields, {});
      // Text format cannot fail to encode.
      SendDataRows(rs, 0, rs.rows.size(), {}).IgnoreError();
    }
    SendCommandComplete(rs.command_tag);
  }
  if (!s.ok()) return s;                 // the loop sends ErrorResponse and ReadyForQuery
  if (results.empty()) SendSimple('I');  // EmptyQueryResponse
  SendReadyForQuery();
  return Status::Ok();
}

Status Connection::HandleParse(const std::string& payload) {
  std::string name, sql;
  std::vector<uint32_t> oids;
  Status decoded = [&]() -> Status {
    MessageReader r(payload);
    RWMETA_ASSIGN_OR_RETURN(name, r.GetCString());
    RWMETA_ASSIGN_OR_RETURN(sql, r.GetCString());
    RWMETA_ASSIGN_OR_RETURN(int16_t n, r.GetInt16());
    if (n < 0) return ProtocolViolation("invalid parameter count in parse message");
    for (int16_t i = 0; i < n; ++i) {
      RWMETA_ASSIGN_OR_RETURN(int32_t oid, r.GetInt32());
      oids.push_back(static_cast<uint32_t>(oid));
    }
    return r.ExpectEnd();
  }();
  if (!decoded.ok()) {
    fatal_ = decoded;
    return Status::Ok();
  }
  if (!name.empty() && statements_.count(name) != 0) {
    return AlreadyExistsError("prepared statement " + Quoted(name) + " already exists")
        .WithSqlState("42P05");
  }
  RWMETA_ASSIGN_OR_RETURN(PreparedInfo info, session_->Prepare(sql, oids));
  auto statement = std::make_shared<PreparedStatement>();
  statement->sql = std::move(sql);
  statement->info = std::move(info);
  statements_[name] = std::move(statement);
  SendSimple('1');  // ParseComplete
  return Status::Ok();
}

Status Connection::HandleBind(const std::string& payload) {
  std::string portal_name, statement_name;
  std::vector<int16_t> param_format_codes, result_format_codes;
  std::vector<std::optional<std::string_view>> raw_params;
  Status decoded = [&]() -> Status {
    MessageReader r(payload);
    RWMETA_ASSIGN_OR_RETURN(portal_name, r.GetCString());
    RWMETA_ASSIGN_OR_RETURN(statement_name, r.GetCString());
    RWMETA_ASSIGN_OR_RETURN(int16_t n_formats, r.GetInt16());
    for (int16_t i = 0; i < n_formats; ++i) {
      RWMETA_ASSIGN_OR_RETURN(int16_t f, r.GetInt16());
      param_format_codes.push_back(f);
    }
    RWMETA_ASSIGN_OR_RETURN(int16_t n_params, r.GetInt16());
    for (int16_t i = 0; i < n_params; ++i) {
      RWMETA_ASSIGN_OR_RETURN(int32_t len, r.GetInt32());
      if (len == -1) {
        raw_params.emplace_back(std::nullopt);
        continue;
      }
      if (len < 0) return ProtocolViolation("invalid parameter length in bind message");
      RWMETA_ASSIGN_OR_RETURN(std::string_view bytes, r.GetBytes(static_cast<size_t>(len)));
      raw_params.emplace_back(bytes);
    }
    RWMETA_ASSIGN_OR_RETURN(int16_t n_results, r.GetInt16());
    for (int16_t i = 0; i < n_results; ++i) {
      RWMETA_ASSIGN_OR_RETURN(int16_t f, r.GetInt16());
      result_format_codes.push_back(f);
    }
    if (n_formats < 0 || n_params < 0 || n_results < 0) {
      return ProtocolViolation("invalid count in bind message");
    }
    return r.ExpectEnd();
  }();
  if (!decoded.ok()) {
    fatal_ = decoded;
    return Status::Ok();
  }

  auto it = statements_.find(statement_name);
  if (it == statements_.end()) {
    return NotFoundError("prepared statement " + Quoted(statement_name) + " does not exist")
        .WithSqlState("26000");
  }
  const std::shared_ptr<const PreparedStatement>& statement = it->second;
  const PreparedInfo& info = statement->info;
  if (!portal_name.empty() && portals_.count(portal_name) != 0) {
    return AlreadyExistsError("portal " + Quoted(portal_name) + " already exists")
        .WithSqlState("42P03");
  }
  if (raw_params.size() != info.param_type_oids.size()) {
    return ProtocolViolation("bind message supplies " + std::to_string(raw_params.size()) +
                             " parameters, but prepared statement " + Quoted(statement_name) +
                             " requires " + std::to_string(info.param_type_oids.size()));
  }
  RWMETA_ASSIGN_OR_RETURN(std::vector<int16_t> param_formats,
                          ExpandFormats(param_format_codes, raw_params.size(), "parameter"));
  RWMETA_ASSIGN_OR_RETURN(std::vector<int16_t> result_formats,
                          ExpandFormats(result_format_codes, info.fields.size(), "result"));
  for (size_t i = 0; i < result_formats.size(); ++i) {
    if (result_formats[i] == 1 && !SupportsBinary(info.fields[i].type_oid)) {
      return UnimplementedError("binary format is not supported for column " +
                                Quoted(info.fields[i].name) + " of type oid " +
                                std::to_string(info.fields[i].type_oid))
          .WithSqlState("0A000");
    }
  }

  Portal portal;
  portal.statement = statement;
  portal.result_formats = std::move(result_formats);
  for (size_t i = 0; i < raw_params.size(); ++i) {
    if (!raw_params[i].has_value()) {
      portal.params.emplace_back(std::nullopt);
    } else if (param_formats[i] == 0) {
      portal.params.emplace_back(std::string(*raw_params[i]));
    } else {
      Result<std::string> text = BinaryToText(info.param_type_oids[i], *raw_params[i]);
      if (!text.ok()) {
        return text.status().WithContext("bind parameter " + std::to_string(i + 1));
      }
      portal.params.emplace_back(std::move(*text));
    }
  }
  portals_[portal_name] = std::move(portal);
  SendSimple('2');  // BindComplete
  return Status::Ok();
}

namespace {
// Describe and Close name their target the same way: 'S' (statement) or 'P' (portal), then a name.
Status DecodeTarget(const std::string& payload, const char* message, uint8_t* kind,
                    std::string* name) {
  MessageReader r(payload);
  RWMETA_ASSIGN_OR_RETURN(*kind, r.GetByte());
  RWMETA_ASSIGN_OR_RETURN(*name, r.GetCString());
  if (*kind != 'S' && *kind != 'P') {
    return ProtocolViolation(std::string("invalid ") + message + " message subtype " +
                             std::to_string(*kind));
  }
  return r.ExpectEnd();
}
}  // namespace

Status Connection::HandleDescribe(const std::string& payload) {
  uint8_t kind = 0;
  std::string name;
  Status decoded = DecodeTarget(payload, "DESCRIBE", &kind, &name);
  if (!decoded.ok()) {
    fatal_ = decoded;
    return Status::Ok();
  }
  if (kind == 'S') {
    auto it = statements_.find(name);
    if (it == statements_.end()) {
      return NotFoundError("prepared statement " + Quoted(name) + " does not exist")
          .WithSqlState("26000");
    }
    const PreparedInfo& info = it->second->info;
    MessageWriter w(&out_);
    w.Begin('t');  // ParameterDescription
    w.AddInt16(static_cast<int16_t>(info.param_type_oids.size()));
    for (uint32_t oid : info.param_type_oids) w.AddInt32(static_cast<int32_t>(oid));
    w.End();
    if (info.returns_rows) {
      SendRowDescription(info.fields, {});
    } else {
      SendSimple('n');  // NoData
    }
    return Status::Ok();
  }
  auto it = portals_.find(name);
  if (it == portals_.end()) {
    return NotFoundError("portal " + Quoted(name) + " does not exist").WithSqlState("34000");
  }
  const Portal& portal = it->second;
  if (portal.statement->info.returns_rows) {
    SendRowDescription(portal.statement->info.fields, portal.result_formats);
  } else {
    SendSimple('n');
  }
  return Status::Ok();
}

Status Connection::HandleExecute(const std::string& payload) {
  std::string name;
  int32_t max_rows = 0;
  Status decoded = [&]() -> Status {
    MessageReader r(payload);
    RWMETA_ASSIGN_OR_RETURN(name, r.GetCString());
    RWMETA_ASSIGN_OR_RETURN(max_rows, r.GetInt32());
    return r.ExpectEnd();
  }();
  if (!decoded.ok()) {
    fatal_ = decoded;
    return Status::Ok();
  }
  auto it = portals_.find(name);
  if (it == portals_.end()) {
    return NotFoundError("portal " + Quoted(name) + " does not exist").WithSqlState("34000");
  }
  Portal& portal = it->second;
  if (!portal.executed) {
    const PreparedStatement& statement = *portal.statement;
    RWMETA_ASSIGN_OR_RETURN(
        portal.result,
        session_->ExecutePrepared(statement.sql, statement.info.param_type_oids, portal.params));
    portal.executed = true;
    for (const auto& n : portal.result.notices) SendNotice(n);
  } else if (!portal.result.returns_rows) {
    // Running a completed portal again does nothing but report it.
    SendCommandComplete(portal.result.command_tag);
    return Status::Ok();
  }
  const ResultSet& result = portal.result;
  if (!result.returns_rows) {
    SendCommandComplete(result.command_tag);
    return Status::Ok();
  }
  const size_t remaining = result.rows.size() - portal.next_row;
  const size_t n = max_rows <= 0 ? remaining : std::min(remaining, static_cast<size_t>(max_rows));
  RWMETA_RETURN_IF_ERROR(
      SendDataRows(result, portal.next_row, portal.next_row + n, portal.result_formats));
  portal.next_row += n;
  if (portal.next_row < result.rows.size()) {
    portal.suspended = true;
    SendSimple('s');  // PortalSuspended
    return Status::Ok();
  }
  std::string tag = result.command_tag;
  if (portal.suspended && tag.starts_with("SELECT ")) {
    // As PostgreSQL: the tag of a resumed portal counts the rows of this Execute only.
    tag = "SELECT " + std::to_string(n);
  }
  portal.suspended = true;  // a further Execute returns no rows
  SendCommandComplete(tag);
  return Status::Ok();
}

Status Connection::HandleClose(const std::string& payload) {
  uint8_t kind = 0;
  std::string name;
  Status decoded = DecodeTarget(payload, "CLOSE", &kind, &name);
  if (!decoded.ok()) {
    fatal_ = decoded;
    return Status::Ok();
  }
  // Closing something that does not exist is not an error.
  if (kind == 'S') {
    statements_.erase(name);
  } else {
    portals_.erase(name);
  }
  SendSimple('3');  // CloseComplete
  return Status::Ok();
}

}  // namespace rwmeta::pgwire
