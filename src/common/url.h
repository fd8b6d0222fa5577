// URLs as rwmeta takes them from users: object stores ("memory", "fs:///var/lib/x",
// "s3://bucket/prefix", "minio://key:secret@host:9000/bucket"), state stores ("hummock+fs:///x"),
// meta stores and listen addresses.
//
// The grammar is the RFC 3986 subset these need:
//   scheme ":" [ "//" [ userinfo "@" ] host [ ":" port ] ] [ path ] [ "?" query ]
// or a bare scheme ("memory", "memory-isolated"). Fragments ("#...") are refused. Credentials,
// path and query are percent-decoded; a '/', '@', ':' or '?' inside a password must be written
// percent-encoded (%2F, %40, %3A, %3F).
//
// Never log or return a URL that may hold credentials without passing it through RedactUrl.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace rwmeta {

struct Url {
  // Lower-cased: "fs", "s3", "hummock+fs", "memory".
  std::string scheme;
  // Percent-decoded; empty when absent.
  std::string user;
  std::string password;
  // As written (not decoded, case kept). IPv6 literals keep their brackets: "[::1]". Empty for
  // "fs:///abs/dir" and bare schemes.
  std::string host;
  std::optional<uint16_t> port;
  // Percent-decoded, starting with '/' when present: "/abs/dir" for "fs:///abs/dir", "/prefix"
  // for "s3://bucket/prefix", "" for "s3://bucket" and bare schemes.
  std::string path;
  // Percent-decoded key/value pairs in the order written; "?a&b=1" gives {"a",""}, {"b","1"}.
  // '+' is kept as '+' (not a space).
  std::vector<std::pair<std::string, std::string>> query;

  // The value of the first query parameter named `key`, or nullopt.
  std::optional<std::string> QueryParam(std::string_view key) const;
};

// Parses `text`. InvalidArgument naming the problem (empty, missing or bad scheme, bad
// percent-escape, bad port, control characters, fragment) for malformed input; the message quotes
// the input only through RedactUrl. Never crashes, whatever the bytes. Thread-safe.
Result<Url> ParseUrl(std::string_view text);

// Returns `url` with any password replaced by "***" ("postgres://u:***@h/db",
// "minio://key:***@host:9000/bucket"), and the values of query parameters whose name contains
// "password", "secret" or "token" (case-insensitive) replaced by "***". URLs without credentials
// come back unchanged. Works on any string, parseable or not; when the text is ambiguous (a raw
// '/' in what looks like a password) it hides more rather than less. Thread-safe.
std::string RedactUrl(std::string_view url);

// What makes an object-store URL a state store URL: "hummock+" + "fs:///x".
inline constexpr std::string_view kHummockPrefix = "hummock+";

// "hummock+fs:///x" -> "fs:///x", "hummock+memory" -> "memory". InvalidArgument if `state_store`
// does not start with "hummock+" (any case) or nothing follows it.
Result<std::string> StripHummockPrefix(std::string_view state_store);

}  // namespace rwmeta
