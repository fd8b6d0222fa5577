#include "rpc/address.h"

#include <cctype>

#include "common/url.h"

namespace rwmeta::rpc {
namespace {

bool IsHostNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

bool IsIpv6LiteralChar(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.' || c == '%';
}

Status BadAddress(std::string_view text, std::string_view why) {
  // The text may hold credentials ("http://u:p@h:1"): quote it redacted.
  return InvalidArgumentError("bad address \"" + RedactUrl(text) + "\": " + std::string(why) +
                              " (expected host:port, e.g. 127.0.0.1:5690)");
}

// Parses `text` as host:port; errors quote `original`, the whole string the user gave.
Result<HostPort> ParseHostPort(std::string_view text, std::string_view original) {
  // The port follows the last ':'; an IPv6 literal's own colons are inside its brackets.
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return BadAddress(original, "no port");
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);

  if (host.empty()) return BadAddress(original, "no host");
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return BadAddress(original, "bad IPv6 literal");
    for (char c : host.substr(1, host.size() - 2)) {
      if (!IsIpv6LiteralChar(c)) return BadAddress(original, "bad IPv6 literal");
    }
  } else {
    for (char c : host) {
      if (!IsHostNameChar(c)) return BadAddress(original, "bad character in host");
    }
  }

  if (port_text.empty()) return BadAddress(original, "no port");
  if (port_text.size() > 5) return BadAddress(original, "port out of range");
  uint32_t port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return BadAddress(original, "port is not a number");
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (port > 65535) return BadAddress(original, "port out of range");
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

}  // namespace

std::string HostPort::ToString() const { return host + ":" + std::to_string(port); }

Result<HostPort> ParseListenAddress(std::string_view text) { return ParseHostPort(text, text); }

Result<HostPort> ParseMetaAddress(std::string_view text) {
  std::string_view rest = text;
  std::size_t scheme_end = rest.find("://");
  if (scheme_end != std::string_view::npos) {
    std::string scheme(rest.substr(0, scheme_end));
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme == "https") return BadAddress(text, "TLS (https) is not supported; use http://");
    if (scheme != "http") return BadAddress(text, "unsupported scheme \"" + scheme + "\"");
    rest = rest.substr(scheme_end + 3);
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  }
  if (rest.find('/') != std::string_view::npos) return BadAddress(text, "unexpected path");
  RWMETA_ASSIGN_OR_RETURN(HostPort parsed, ParseHostPort(rest, text));
  if (parsed.port == 0) return BadAddress(text, "port 0");
  return parsed;
}

}  // namespace rwmeta::rpc
