// Protobuf `string` fields must hold valid UTF-8: a message with invalid bytes in one fails to
// serialize or parse, which reaches the other side as a confusing transport error ("No message
// returned", an empty INTERNAL). Both sides check first and report the field instead.
#pragma once

#include <google/protobuf/message.h>

#include <string_view>

#include "common/status.h"
#include "common/utf8.h"

namespace rwmeta::rpc {

// OK if every `string` field of `message`, nested messages and map entries included, is valid
// UTF-8; otherwise InvalidArgument "field <path> is not valid UTF-8" for the first that is not
// (path like "param.value" or "listen_addresses[1].address"). `bytes` fields are not checked.
Status CheckUtf8Fields(const google::protobuf::Message& message);

}  // namespace rwmeta::rpc
