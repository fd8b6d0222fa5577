#include "pgwire/message.h"

#include <cassert>

#include "common/coding.h"

namespace rwmeta::pgwire {

void AppendInt16(std::string* out, int16_t v) { PutBigEndian16(out, static_cast<uint16_t>(v)); }
void AppendInt32(std::string* out, int32_t v) { PutBigEndian32(out, static_cast<uint32_t>(v)); }
void AppendInt64(std::string* out, int64_t v) { PutBigEndian64(out, static_cast<uint64_t>(v)); }

int16_t DecodeInt16(std::string_view bytes) {
  return static_cast<int16_t>(DecodeBigEndian16(bytes.data()));
}
int32_t DecodeInt32(std::string_view bytes) {
  return static_cast<int32_t>(DecodeBigEndian32(bytes.data()));
}
int64_t DecodeInt64(std::string_view bytes) {
  return static_cast<int64_t>(DecodeBigEndian64(bytes.data()));
}

Status ProtocolViolation(std::string message) {
  return InvalidArgumentError(std::move(message)).WithSqlState("08P01");
}

void MessageWriter::Begin(char type) {
  assert(start_ == std::string::npos && "MessageWriter::Begin with a message open");
  out_->push_back(type);
  start_ = out_->size();
  AppendInt32(out_, 0);  // patched by End()
}

void MessageWriter::AddInt16(int16_t v) { AppendInt16(out_, v); }
void MessageWriter::AddInt32(int32_t v) { AppendInt32(out_, v); }

void MessageWriter::AddCString(std::string_view s) {
  assert(s.find('\0') == std::string_view::npos);
  out_->append(s);
  out_->push_back('\0');
}

void MessageWriter::End() {
  assert(start_ != std::string::npos && "MessageWriter::End without Begin");
  EncodeBigEndian32(out_->data() + start_, static_cast<uint32_t>(out_->size() - start_));
  start_ = std::string::npos;
}

namespace {
Status InvalidFormat() { return ProtocolViolation("invalid message format"); }
}  // namespace

Result<uint8_t> MessageReader::GetByte() {
  if (remaining() < 1) return InvalidFormat();
  return static_cast<uint8_t>(data_[pos_++]);
}

Result<int16_t> MessageReader::GetInt16() {
  if (remaining() < 2) return InvalidFormat();
  const int16_t v = DecodeInt16(data_.substr(pos_, 2));
  pos_ += 2;
  return v;
}

Result<int32_t> MessageReader::GetInt32() {
  if (remaining() < 4) return InvalidFormat();
  const int32_t v = DecodeInt32(data_.substr(pos_, 4));
  pos_ += 4;
  return v;
}

Result<std::string> MessageReader::GetCString() {
  const size_t nul = data_.find('\0', pos_);
  if (nul == std::string_view::npos) return InvalidFormat();
  std::string s(data_.substr(pos_, nul - pos_));
  pos_ = nul + 1;
  return s;
}

Result<std::string_view> MessageReader::GetBytes(size_t n) {
  if (remaining() < n) return InvalidFormat();
  std::string_view v = data_.substr(pos_, n);
  pos_ += n;
  return v;
}

Status MessageReader::ExpectEnd() const {
  if (remaining() != 0) return InvalidFormat();
  return Status::Ok();
}

}  // namespace rwmeta::pgwire
