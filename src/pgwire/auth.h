// PostgreSQL MD5 password authentication (AuthenticationMD5Password), as PostgreSQL does it:
// the stored verifier is "md5" + md5hex(password + user); the client answers the challenge with
// "md5" + md5hex(md5hex(password + user) + salt), i.e. md5 over the verifier's hex part and the
// salt.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rwmeta::pgwire {

// Lower-case hex MD5 of `data` (32 characters). OpenSSL's EVP MD5.
std::string Md5Hex(std::string_view data);

// The verifier PostgreSQL stores for `user`'s `password`: "md5" + md5hex(password + user).
std::string Md5Verifier(std::string_view user, std::string_view password);

// The answer a client sends to a challenge with `salt` for a stored `verifier`.
// Returns InvalidArgument if `verifier` is not "md5" followed by 32 hex digits.
Result<std::string> Md5ChallengeResponse(std::string_view verifier, std::string_view salt);

// True if `response` is the right answer for `verifier` and `salt`. Compares in constant time.
// False (never an error) for a malformed verifier or response.
bool CheckMd5Response(std::string_view verifier, std::string_view salt, std::string_view response);

// Fills `out` with cryptographically random bytes (OpenSSL RAND_bytes).
// Returns Internal if the random generator fails.
Status RandomBytes(unsigned char* out, int n);

}  // namespace rwmeta::pgwire
