// The seam between the Postgres wire protocol server (server.h, this folder) and the SQL front end
// (src/frontend). The server owns sockets, message framing, authentication exchanges, portals and
// ReadyForQuery; the front end owns SQL. The server never parses SQL; the front end never sees
// bytes.
//
// Errors: a non-OK Status from any method becomes an ErrorResponse. Its SQLSTATE is
// status.sqlstate() when set, else the default for the status code (see SqlStateFor in server.h).
// The session stays usable after an error.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace rwmeta::pgwire {

// PostgreSQL type OIDs (pg_type.oid) used in RowDescription and ParameterDescription.
// They reach the wire: never change them.
inline constexpr uint32_t kUnspecifiedOid = 0;
inline constexpr uint32_t kBoolOid = 16;
inline constexpr uint32_t kByteaOid = 17;
inline constexpr uint32_t kCharOid = 18;
inline constexpr uint32_t kNameOid = 19;
inline constexpr uint32_t kInt8Oid = 20;
inline constexpr uint32_t kInt2Oid = 21;
inline constexpr uint32_t kInt4Oid = 23;
inline constexpr uint32_t kTextOid = 25;
inline constexpr uint32_t kOidOid = 26;
inline constexpr uint32_t kFloat4Oid = 700;
inline constexpr uint32_t kFloat8Oid = 701;
inline constexpr uint32_t kVarcharOid = 1043;
inline constexpr uint32_t kDateOid = 1082;
inline constexpr uint32_t kTimestampOid = 1114;
inline constexpr uint32_t kTimestamptzOid = 1184;
inline constexpr uint32_t kNumericOid = 1700;
inline constexpr uint32_t kJsonbOid = 3802;
inline constexpr uint32_t kTextArrayOid = 1009;

struct Field {
  std::string name;
  uint32_t type_oid = kTextOid;
  // pg_type.typlen: 1, 2, 4, 8 for fixed-size types, -1 for variable length.
  int16_t type_size = -1;
};

// One text-format value; nullopt is SQL NULL.
using TextValue = std::optional<std::string>;

// The outcome of one statement.
struct ResultSet {
  // "SELECT 3", "INSERT 0 1", "CREATE TABLE", "SHOW", "ALTER SYSTEM", ...
  std::string command_tag;
  // True if the statement produces rows (RowDescription and DataRows are sent, even for 0 rows).
  bool returns_rows = false;
  std::vector<Field> fields;
  std::vector<std::vector<TextValue>> rows;
  // NoticeResponse messages (severity NOTICE) to send before the result.
  std::vector<std::string> notices;
};

// The front end's answer to Parse + Describe.
struct PreparedInfo {
  // One per $n placeholder, in order. kUnspecifiedOid is never returned: the front end picks a
  // type.
  std::vector<uint32_t> param_type_oids;
  bool returns_rows = false;
  std::vector<Field> fields;
};

// One client connection's SQL state (current user, database, session variables).
// Calls on one Session never overlap.
class Session {
 public:
  virtual ~Session() = default;

  // Simple query protocol: runs every statement of `sql` in order. Returns one ResultSet per
  // statement, stopping at the first failing one: `results` then holds the ones that succeeded and
  // the returned Status the error. An empty query string gives an empty vector and OK
  // (EmptyQueryResponse).
  virtual Status ExecuteSimple(std::string_view sql, std::vector<ResultSet>* results) = 0;

  // Extended protocol Parse: checks that `sql` is exactly one statement (or empty) and describes
  // it. `param_type_oids` are the client's declared types (0 = unspecified), possibly fewer than
  // the statement's placeholders.
  virtual Result<PreparedInfo> Prepare(std::string_view sql,
                                       const std::vector<uint32_t>& param_type_oids) = 0;

  // Extended protocol Execute of a statement prepared with Prepare, with text-format parameters.
  virtual Result<ResultSet> ExecutePrepared(std::string_view sql,
                                            const std::vector<uint32_t>& param_type_oids,
                                            const std::vector<TextValue>& params) = 0;

  // ParameterStatus values to report after authentication (server_version, client_encoding,
  // DateStyle, TimeZone, integer_datetimes, standard_conforming_strings, is_superuser,
  // session_authorization, application_name).
  virtual std::vector<std::pair<std::string, std::string>> ParameterStatuses() const = 0;

  // A client's CancelRequest for this session. The one exception to "calls never overlap": called
  // from another thread, possibly while ExecuteSimple or ExecutePrepared runs (or when nothing
  // runs: then it should have no effect on later statements). Must not block. A statement that
  // notices the request should fail with Cancelled and SQLSTATE 57014 ("canceling statement due
  // to user request"). The default ignores the request.
  virtual void RequestCancel() {}

  // The transaction status ReadyForQuery reports: 'I' idle (no transaction block), 'T' in a
  // transaction block, 'E' in a failed transaction block. Portals (extended protocol) live until
  // the end of the transaction: the server drops them at Sync, or after a simple query, whenever
  // this says 'I'. The default is 'I' always (every statement commits on its own).
  virtual char TransactionStatus() const { return 'I'; }
};

// What the server must check before opening a session.
struct AuthRequirement {
  // False: trust (AuthenticationOk straight away).
  bool password_required = false;
  // With a password: the stored "md5" + md5hex(password + user_name) verifier, as PostgreSQL
  // stores it. The server runs the MD5 challenge (AuthenticationMD5Password) or, if the client
  // answers a cleartext request, compares the hash of the cleartext password.
  std::string md5_verifier;
};

// Creates sessions; implemented by the front end. Thread-safe.
class SessionFactory {
 public:
  virtual ~SessionFactory() = default;
  // Unauthenticated (SQLSTATE 28000) if the user does not exist or may not log in.
  virtual Result<AuthRequirement> Authenticate(std::string_view user,
                                               std::string_view database) = 0;
  // After successful authentication. NotFound with SQLSTATE 3D000 if the database does not exist.
  // `options` are the startup packet's other parameters (application_name, options, ...).
  virtual Result<std::unique_ptr<Session>> OpenSession(
      std::string_view user, std::string_view database,
      const std::vector<std::pair<std::string, std::string>>& options) = 0;
};

}  // namespace rwmeta::pgwire
