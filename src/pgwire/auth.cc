#include "pgwire/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>

namespace rwmeta::pgwire {

std::string Md5Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  // EVP_Digest fails only on allocation failure; an all-zero digest then fails every comparison.
  if (EVP_Digest(data.data(), data.size(), digest, &digest_len, EVP_md5(), nullptr) != 1) {
    digest_len = 16;
    std::fill(digest, digest + digest_len, 0);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size_t{2} * digest_len);
  for (unsigned int i = 0; i < digest_len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

std::string Md5Verifier(std::string_view user, std::string_view password) {
  std::string input(password);
  input.append(user);
  return "md5" + Md5Hex(input);
}

namespace {
bool IsMd5Hash(std::string_view s) {
  if (s.size() != 35 || s.substr(0, 3) != "md5") return false;
  for (char c : s.substr(3)) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}
}  // namespace

Result<std::string> Md5ChallengeResponse(std::string_view verifier, std::string_view salt) {
  if (!IsMd5Hash(verifier)) return InvalidArgumentError("stored password is not an md5 verifier");
  std::string input(verifier.substr(3));
  input.append(salt);
  return "md5" + Md5Hex(input);
}

bool CheckMd5Response(std::string_view verifier, std::string_view salt, std::string_view response) {
  Result<std::string> expected = Md5ChallengeResponse(verifier, salt);
  if (!expected.ok() || response.size() != expected->size()) return false;
  return CRYPTO_memcmp(expected->data(), response.data(), response.size()) == 0;
}

Status RandomBytes(unsigned char* out, int n) {
  if (RAND_bytes(out, n) != 1) return InternalError("random generator failed");
  return Status::Ok();
}

}  // namespace rwmeta::pgwire
