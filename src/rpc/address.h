// Parsing of the "host:port" addresses the gRPC server listens on and the client dials.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rwmeta::rpc {

struct HostPort {
  // A host name, an IPv4 literal, or an IPv6 literal in brackets ("[::1]").
  std::string host;
  uint16_t port = 0;

  // "host:port", as gRPC expects it.
  std::string ToString() const;
};

// Parses "host:port" as given to RpcServer::Start ("127.0.0.1:5690", "0.0.0.0:0", "[::]:5690",
// "localhost:5690"). Port 0 means "pick a free port". InvalidArgument naming `text` if the host is
// empty or has characters no host name or address literal has, or the port is missing, not
// decimal, or above 65535.
Result<HostPort> ParseListenAddress(std::string_view text);

// Parses the meta node address a client is given (--meta-addr, RW_META_ADDR):
// "http://127.0.0.1:5690", "127.0.0.1:5690", "http://meta:5690/". InvalidArgument naming `text`
// for "https://" (TLS is not supported), any other scheme, a path, port 0, or whatever
// ParseListenAddress refuses.
Result<HostPort> ParseMetaAddress(std::string_view text);

}  // namespace rwmeta::rpc
