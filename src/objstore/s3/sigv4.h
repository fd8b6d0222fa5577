// AWS Signature Version 4 for S3 requests: the canonical request, the string to sign, the signing
// key and the Authorization header, as specified in AWS's "Signature Version 4 signing process".
// Pure functions over strings (OpenSSL for SHA-256 and HMAC): no I/O, no clock (the caller passes
// the time), so that the unit tests check them against AWS's published example signatures.
//
// Only header signing is implemented (no presigned URLs, no chunked streaming signatures); the
// payload is signed either by its SHA-256 or as "UNSIGNED-PAYLOAD" (allowed by S3 over any
// transport; TLS protects it in flight on https endpoints).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rwmeta::objstore::s3 {

// "UNSIGNED-PAYLOAD": the x-amz-content-sha256 value that leaves the body out of the signature.
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);

// Lower-case hex of `bytes`.
std::string HexEncode(std::string_view bytes);

// Base64 (standard alphabet, padded) of `bytes`.
std::string Base64Encode(std::string_view bytes);

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - . _ ~) stay,
// everything else becomes %XX (upper-case hex); '/' stays when `keep_slash` (object key paths) and
// is encoded otherwise (query values).
std::string UriEncode(std::string_view s, bool keep_slash);

// "20130524T000000Z" and "20130524" for `unix_seconds` (UTC).
std::string AmzDate(int64_t unix_seconds);
std::string AmzDateStamp(int64_t unix_seconds);

struct SigningCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  // Empty when not using temporary credentials; otherwise sent (and signed) as
  // x-amz-security-token.
  std::string session_token;
};

// One request to sign. Header names may be in any case; values are trimmed and inner runs of
// spaces collapsed for signing, as the specification says.
struct SigningRequest {
  std::string method;  // "GET", "PUT", ...
  // The path exactly as it will be sent, already percent-encoded ("/bucket/a%20b").
  std::string encoded_path;
  // Decoded query parameters; a parameter without value ("?uploads") has an empty value.
  std::vector<std::pair<std::string, std::string>> query;
  // Every header to sign. Must include "host" and "x-amz-date"; x-amz-content-sha256 is S3's.
  std::vector<std::pair<std::string, std::string>> headers;
  // Hex SHA-256 of the body, or kUnsignedPayload.
  std::string payload_hash;
};

// The canonical query string: parameters encoded with UriEncode(keep_slash=false), sorted by
// encoded name then value, joined with '&'.
std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query);

// The canonical request (method, path, query, headers, signed header list, payload hash joined by
// newlines) for `request`.
std::string CanonicalRequest(const SigningRequest& request);

// "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of canonical request>".
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);

// "<date stamp>/<region>/<service>/aws4_request".
std::string CredentialScope(std::string_view date_stamp, std::string_view region,
                            std::string_view service);

// The hex signature of `request` made at `unix_seconds` for `region` and `service` ("s3").
std::string Signature(const SigningRequest& request, const SigningCredentials& credentials,
                      std::string_view region, std::string_view service, int64_t unix_seconds);

// The Authorization header value: "AWS4-HMAC-SHA256 Credential=<key id>/<scope>,
// SignedHeaders=<names>, Signature=<hex>". It holds the access key id (not secret, as in AWS's
// own logs) but never the secret key.
std::string AuthorizationHeader(const SigningRequest& request,
                                const SigningCredentials& credentials, std::string_view region,
                                std::string_view service, int64_t unix_seconds);

}  // namespace rwmeta::objstore::s3
