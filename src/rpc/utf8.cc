#include "rpc/utf8.h"

#include <google/protobuf/descriptor.h>

#include <string>

namespace rwmeta::rpc {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Returns the path of the first string field under `message` that is not UTF-8, or "".
std::string FindInvalidField(const Message& message, const std::string& prefix) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);  // only the fields that are set
  for (const FieldDescriptor* field : fields) {
    std::string path = prefix + field->name();
    bool is_text = field->type() == FieldDescriptor::TYPE_STRING;
    bool is_message = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    if (!is_text && !is_message) continue;
    if (field->is_repeated()) {
      int n = reflection->FieldSize(message, field);
      for (int i = 0; i < n; ++i) {
        std::string item = path + "[" + std::to_string(i) + "]";
        if (is_text) {
          std::string scratch;
          if (!IsValidUtf8(reflection->GetRepeatedStringReference(message, field, i, &scratch))) {
            return item;
          }
        } else {
          std::string bad =
              FindInvalidField(reflection->GetRepeatedMessage(message, field, i), item + ".");
          if (!bad.empty()) return bad;
        }
      }
    } else if (is_text) {
      std::string scratch;
      if (!IsValidUtf8(reflection->GetStringReference(message, field, &scratch))) return path;
    } else {
      std::string bad = FindInvalidField(reflection->GetMessage(message, field), path + ".");
      if (!bad.empty()) return bad;
    }
  }
  return "";
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char lead = byte(i);
    std::size_t len;
    uint32_t cp;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      len = 2;
      cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      len = 3;
      cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      len = 4;
      cp = lead & 0x07;
    } else {
      return false;
    }
    if (i + len > text.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((byte(i + k) & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    static constexpr uint32_t kMinForLength[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len]) return false;       // overlong
    if (cp > 0x10FFFF) return false;                 // beyond Unicode
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // UTF-16 surrogate
    i += len;
  }
  return true;
}

Status CheckUtf8Fields(const Message& message) {
  std::string bad = FindInvalidField(message, "");
  if (bad.empty()) return Status::Ok();
  return InvalidArgumentError("field " + bad + " is not valid UTF-8");
}

}  // namespace rwmeta::rpc
