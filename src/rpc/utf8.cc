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

Status CheckUtf8Fields(const Message& message) {
  std::string bad = FindInvalidField(message, "");
  if (bad.empty()) return Status::Ok();
  return InvalidArgumentError("field " + bad + " is not valid UTF-8");
}

}  // namespace rwmeta::rpc
