#include "objstore/s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "common/time_format.h"

namespace rwmeta::objstore::s3 {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims outer whitespace and collapses inner runs of spaces to one, as SigV4 canonical headers
// require.
std::string CanonicalHeaderValue(std::string_view v) {
  size_t b = 0;
  size_t e = v.size();
  while (b < e && (v[b] == ' ' || v[b] == '\t')) ++b;
  while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t')) --e;
  std::string out;
  bool in_space = false;
  for (size_t i = b; i < e; ++i) {
    if (v[i] == ' ' || v[i] == '\t') {
      if (!in_space) out.push_back(' ');
      in_space = true;
    } else {
      out.push_back(v[i]);
      in_space = false;
    }
  }
  return out;
}

// Lower-cased names to their (comma-joined, for repeated names) canonical values, sorted by name.
std::map<std::string, std::string> CanonicalHeaders(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : headers) {
    std::string key = Lower(name);
    std::string v = CanonicalHeaderValue(value);
    auto it = out.find(key);
    if (it == out.end()) {
      out.emplace(std::move(key), std::move(v));
    } else {
      it->second += "," + v;
    }
  }
  return out;
}

std::string SignedHeaderNames(const std::map<std::string, std::string>& canonical) {
  std::string out;
  for (const auto& [name, value] : canonical) {
    if (!out.empty()) out.push_back(';');
    out += name;
  }
  return out;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string AmzDate(int64_t unix_seconds) {
  return FormatUnixMsUtc(unix_seconds * 1000, "%Y%m%dT%H%M%SZ");
}

std::string AmzDateStamp(int64_t unix_seconds) {
  return FormatUnixMsUtc(unix_seconds * 1000, "%Y%m%d");
}

std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [k, v] : query) encoded.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

std::string CanonicalRequest(const SigningRequest& request) {
  auto headers = CanonicalHeaders(request.headers);
  std::string out = request.method;
  out.push_back('\n');
  out += request.encoded_path.empty() ? "/" : request.encoded_path;
  out.push_back('\n');
  out += CanonicalQueryString(request.query);
  out.push_back('\n');
  for (const auto& [name, value] : headers) {
    out += name;
    out.push_back(':');
    out += value;
    out.push_back('\n');
  }
  out.push_back('\n');
  out += SignedHeaderNames(headers);
  out.push_back('\n');
  out += request.payload_hash;
  return out;
}

std::string CredentialScope(std::string_view date_stamp, std::string_view region,
                            std::string_view service) {
  std::string out(date_stamp);
  out.push_back('/');
  out += region;
  out.push_back('/');
  out += service;
  out += "/aws4_request";
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out = "AWS4-HMAC-SHA256\n";
  out += amz_date;
  out.push_back('\n');
  out += scope;
  out.push_back('\n');
  out += Sha256Hex(canonical_request);
  return out;
}

std::string Signature(const SigningRequest& request, const SigningCredentials& credentials,
                      std::string_view region, std::string_view service, int64_t unix_seconds) {
  std::string date_stamp = AmzDateStamp(unix_seconds);
  std::string scope = CredentialScope(date_stamp, region, service);
  std::string to_sign = StringToSign(AmzDate(unix_seconds), scope, CanonicalRequest(request));
  std::string k_date = HmacSha256("AWS4" + credentials.secret_access_key, date_stamp);
  std::string k_region = HmacSha256(k_date, region);
  std::string k_service = HmacSha256(k_region, service);
  std::string k_signing = HmacSha256(k_service, "aws4_request");
  return HexEncode(HmacSha256(k_signing, to_sign));
}

std::string AuthorizationHeader(const SigningRequest& request,
                                const SigningCredentials& credentials, std::string_view region,
                                std::string_view service, int64_t unix_seconds) {
  std::string scope = CredentialScope(AmzDateStamp(unix_seconds), region, service);
  return "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
         ", SignedHeaders=" + SignedHeaderNames(CanonicalHeaders(request.headers)) +
         ", Signature=" + Signature(request, credentials, region, service, unix_seconds);
}

}  // namespace rwmeta::objstore::s3
