// Framing of PostgreSQL protocol v3 messages: building backend messages into a byte buffer and
// reading the fields of a frontend message's payload. No sockets here (see connection.h).
//
// Wire layout (https://www.postgresql.org/docs/current/protocol-message-formats.html): every
// message after the startup packet is a type byte, a big-endian int32 length that counts itself but
// not the type byte, and the payload. Integers are big-endian; strings are NUL-terminated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rwmeta::pgwire {

// Startup-packet request codes (first int32 after the length). They reach the wire.
inline constexpr int32_t kProtocolVersion3 = 196608;  // 3.0
inline constexpr int32_t kSslRequestCode = 80877103;
inline constexpr int32_t kGssEncRequestCode = 80877104;
inline constexpr int32_t kCancelRequestCode = 80877102;

// The largest startup packet we accept (PostgreSQL's MAX_STARTUP_PACKET_LENGTH).
inline constexpr int32_t kMaxStartupPacketBytes = 10000;
// The largest regular message (its length field) we accept: 1 GiB for the messages that carry
// SQL or data (Query, Parse, Bind, FunctionCall, CopyData), 10000 bytes for the others, as
// PostgreSQL (PQ_LARGE_MESSAGE_LIMIT, PQ_SMALL_MESSAGE_LIMIT).
inline constexpr int64_t kMaxMessageBytes = int64_t{1} << 30;
inline constexpr int64_t kMaxSmallMessageBytes = 10000;

// Appends backend messages to a byte buffer. Not thread-safe.
//
//   MessageWriter w(&out);
//   w.Begin('Z'); w.AddByte('I'); w.End();
class MessageWriter {
 public:
  // `out` is not owned and must outlive the writer. Bytes are appended to it.
  explicit MessageWriter(std::string* out) : out_(out) {}

  // Starts a message of `type`. REQUIRES: no message open.
  void Begin(char type);
  void AddByte(char b) { out_->push_back(b); }
  void AddInt16(int16_t v);
  void AddInt32(int32_t v);
  // Appends `s` and a terminating NUL. REQUIRES: `s` holds no NUL (it would cut the string short).
  void AddCString(std::string_view s);
  void AddBytes(std::string_view bytes) { out_->append(bytes); }
  // Patches the length of the open message. REQUIRES: a message is open.
  void End();

 private:
  std::string* out_;
  size_t start_ = std::string::npos;  // offset of the open message's length field
};

// Reads the fields of one message payload (without its type and length). Every getter returns
// InvalidArgument "invalid message format" (carrying SQLSTATE 08P01) when the payload is too short
// or a string is unterminated, as PostgreSQL does. Not thread-safe; `payload` must outlive it.
class MessageReader {
 public:
  explicit MessageReader(std::string_view payload) : data_(payload) {}

  Result<uint8_t> GetByte();
  Result<int16_t> GetInt16();
  Result<int32_t> GetInt32();
  // A NUL-terminated string; the NUL is consumed and not returned.
  Result<std::string> GetCString();
  Result<std::string_view> GetBytes(size_t n);
  // OK if every byte was consumed, else the "invalid message format" error.
  Status ExpectEnd() const;
  size_t remaining() const { return data_.size() - pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// InvalidArgument with SQLSTATE 08P01 (protocol_violation) and `message`.
Status ProtocolViolation(std::string message);

// Big-endian encoding helpers shared with the value conversions.
void AppendInt16(std::string* out, int16_t v);
void AppendInt32(std::string* out, int32_t v);
void AppendInt64(std::string* out, int64_t v);
// REQUIRES: `bytes` holds at least 2 / 4 / 8 bytes.
int16_t DecodeInt16(std::string_view bytes);
int32_t DecodeInt32(std::string_view bytes);
int64_t DecodeInt64(std::string_view bytes);

}  // namespace rwmeta::pgwire
