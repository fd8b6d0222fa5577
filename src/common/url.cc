#include "common/url.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace rwmeta {

namespace {

constexpr std::string_view kRedacted = "***";

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ToLowerAscii(c);
  return out;
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool IsValidScheme(std::string_view s) {
  if (s.empty() || !IsAlpha(s.front())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return IsAlpha(c) || IsDigit(c) || c == '+' || c == '-' || c == '.';
  });
}

// Decodes %XX escapes. Returns nullopt on a truncated or non-hex escape.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = HexValue(s[i + 1]);
    int lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool IsSecretParamName(std::string_view name) {
  std::string lower = LowerAscii(name);
  return lower.find("password") != std::string::npos || lower.find("secret") != std::string::npos ||
         lower.find("token") != std::string::npos;
}

// Redacts secret-looking query values in `query` (the text after '?', without fragment).
std::string RedactQuery(std::string_view query) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t end = query.find('&', start);
    std::string_view part =
        query.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    size_t eq = part.find('=');
    std::string_view name = part.substr(0, eq);
    std::optional<std::string> decoded = PercentDecode(name);
    if (eq != std::string_view::npos && IsSecretParamName(decoded ? *decoded : std::string(name))) {
      out.append(part.substr(0, eq + 1));
      out.append(kRedacted);
    } else {
      out.append(part);
    }
    if (end == std::string_view::npos) break;
    out.push_back('&');
    start = end + 1;
  }
  return out;
}

}  // namespace

std::optional<std::string> Url::QueryParam(std::string_view key) const {
  for (const auto& [k, v] : query) {
    if (k == key) return v;
  }
  return std::nullopt;
}

Result<Url> ParseUrl(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(fmt::format("invalid url '{}': {}", RedactUrl(text), why));
  };
  if (text.empty()) return InvalidArgumentError("invalid url: empty");
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return bad("contains a space or control character");
  }
  if (text.find('#') != std::string_view::npos) {
    return bad("fragments ('#') are not supported; percent-encode '#' as %23");
  }

  Url url;
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    // A bare scheme: "memory", "memory-isolated".
    if (!IsValidScheme(text))
      return bad("missing scheme (expected 'scheme://...' or a bare scheme)");
    url.scheme = LowerAscii(text);
    return url;
  }
  std::string_view scheme = text.substr(0, colon);
  if (scheme.empty()) return bad("missing scheme");
  if (!IsValidScheme(scheme)) return bad("invalid scheme");
  url.scheme = LowerAscii(scheme);

  std::string_view rest = text.substr(colon + 1);
  // Split off the query first: '?' never belongs to the authority or path.
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }

  std::string_view path_text = rest;
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    path_text = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);

    if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
      std::string_view userinfo = authority.substr(0, at);
      authority = authority.substr(at + 1);
      std::string_view user_text = userinfo;
      std::optional<std::string_view> password_text;
      if (size_t c = userinfo.find(':'); c != std::string_view::npos) {
        user_text = userinfo.substr(0, c);
        password_text = userinfo.substr(c + 1);
      }
      std::optional<std::string> user = PercentDecode(user_text);
      if (!user) return bad("bad percent-escape in user name");
      url.user = std::move(*user);
      if (password_text) {
        std::optional<std::string> password = PercentDecode(*password_text);
        if (!password) return bad("bad percent-escape in password");
        url.password = std::move(*password);
      }
    }

    std::string_view host = authority;
    std::string_view port_text;
    bool has_port = false;
    if (!authority.empty() && authority.front() == '[') {
      size_t close = authority.find(']');
      if (close == std::string_view::npos) return bad("unterminated '[' in IPv6 host");
      host = authority.substr(0, close + 1);
      std::string_view after = authority.substr(close + 1);
      if (!after.empty()) {
        if (after.front() != ':') return bad("unexpected text after IPv6 host");
        has_port = true;
        port_text = after.substr(1);
      }
    } else if (size_t c = authority.rfind(':'); c != std::string_view::npos) {
      host = authority.substr(0, c);
      has_port = true;
      port_text = authority.substr(c + 1);
    }
    bool bracketed = !host.empty() && host.front() == '[';
    std::string_view host_inner = bracketed ? host.substr(1, host.size() - 2) : host;
    if (host_inner.find_first_of("@[]") != std::string_view::npos) return bad("invalid host");
    if (has_port) {
      // The port text is not quoted: with a raw '/' in a password it may be part of the secret.
      if (port_text.empty()) return bad("empty port after ':'");
      if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), IsDigit)) {
        return bad(
            "invalid port (a number 0-65535 expected; percent-encode '/', ':' or '@' in "
            "credentials)");
      }
      uint32_t port = 0;
      for (char c : port_text) port = port * 10 + static_cast<uint32_t>(c - '0');
      if (port > 65535) return bad("port out of range 0-65535");
      url.port = static_cast<uint16_t>(port);
    }
    url.host = std::string(host);
  }

  std::optional<std::string> path = PercentDecode(path_text);
  if (!path) return bad("bad percent-escape in path");
  url.path = std::move(*path);

  if (!query.empty()) {
    size_t start = 0;
    while (start <= query.size()) {
      size_t end = query.find('&', start);
      if (end == std::string_view::npos) end = query.size();
      std::string_view part = query.substr(start, end - start);
      start = end + 1;
      if (part.empty()) continue;
      size_t eq = part.find('=');
      std::optional<std::string> key = PercentDecode(part.substr(0, eq));
      std::optional<std::string> value =
          PercentDecode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
      if (!key || !value) return bad("bad percent-escape in query");
      url.query.emplace_back(std::move(*key), std::move(*value));
    }
  }
  return url;
}

std::string RedactUrl(std::string_view url) {
  std::string out;
  // The fragment is left alone; credentials and query come before it.
  size_t hash = url.find('#');
  std::string_view head = url.substr(0, hash);
  std::string_view fragment =
      hash == std::string_view::npos ? std::string_view() : url.substr(hash);
  std::string_view query;
  bool has_query = false;
  if (size_t q = head.find('?'); q != std::string_view::npos) {
    query = head.substr(q + 1);
    head = head.substr(0, q);
    has_query = true;
  }

  size_t sep = head.find("://");
  size_t auth_start = sep == std::string_view::npos ? 0 : sep + 3;
  // Userinfo ends at the last '@' before the path. A raw '/' inside a password would end the
  // authority early, so when the authority proper holds no '@' but a later '@' exists, treat
  // everything up to that '@' as userinfo: hiding part of an odd path beats leaking a secret.
  size_t at = std::string_view::npos;
  if (auth_start < head.size() && head[auth_start] != '/') {
    size_t slash = head.find('/', auth_start);
    std::string_view authority = head.substr(
        auth_start, slash == std::string_view::npos ? std::string_view::npos : slash - auth_start);
    size_t rel = authority.rfind('@');
    if (rel != std::string_view::npos) {
      at = auth_start + rel;
    } else {
      size_t last = head.rfind('@');
      if (last != std::string_view::npos && last > auth_start) at = last;
    }
  }
  if (at != std::string_view::npos) {
    size_t colon = head.find(':', auth_start);
    if (colon != std::string_view::npos && colon < at) {
      out.append(head.substr(0, colon + 1));
      out.append(kRedacted);
      out.append(head.substr(at));
    } else {
      out.append(head);
    }
  } else {
    out.append(head);
  }
  if (has_query) {
    out.push_back('?');
    out.append(RedactQuery(query));
  }
  out.append(fragment);
  return out;
}

Result<std::string> StripHummockPrefix(std::string_view state_store) {
  if (state_store.size() < kHummockPrefix.size() ||
      LowerAscii(state_store.substr(0, kHummockPrefix.size())) != kHummockPrefix) {
    return InvalidArgumentError(
        fmt::format("state store '{}' must start with 'hummock+' (e.g. 'hummock+fs:///data')",
                    RedactUrl(state_store)));
  }
  std::string_view rest = state_store.substr(kHummockPrefix.size());
  if (rest.empty()) {
    return InvalidArgumentError(
        "state store 'hummock+': object store url missing after 'hummock+'");
  }
  return std::string(rest);
}

}  // namespace rwmeta
