// S3Server: an s3rver (npm, installed by scripts/setup.sh into tools/) on a free 127.0.0.1 port
// with its data in a TempDir and the requested buckets created, for tests and benchmarks that
// need a real S3-compatible server.
//
// What s3rver checks and what it does not (so tests know what they prove):
// - The access key id must be one it knows: S3Server::kAccessKey ("S3RVER"); others get 403
//   InvalidAccessKeyId. It parses SigV4 Authorization headers but does not verify the signature
//   (our SigV4 is checked against AWS's published vectors in objstore/s3/sigv4_test.cc instead).
// - It ignores If-None-Match / If-Match on PUT (no conditional writes) and If-Match on GET.
// - It rewrites objects in place, so a reader racing a writer can see a torn object; the S3
//   client detects that through the MD5 ETag and retries.
// - AbortMultipartUpload is not implemented (405): an aborted upload's parts stay in its data
//   directory, never visible as an object.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "testing/subprocess.h"

namespace rwmeta::testing {

class S3Server {
 public:
  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";

  struct Options {
    std::vector<std::string> buckets = {"rwmeta-test"};
    // Log every request to the server log (slow for large transfers).
    bool verbose = false;
    // Serve https with a fresh self-signed certificate for 127.0.0.1 (made with /usr/bin/openssl);
    // ca_file() is the certificate to trust.
    bool tls = false;
  };

  // The s3rver script (tools/node_modules/.bin/s3rver under the source tree), or "" if it or
  // node is not installed.
  static std::string ScriptPath();
  static std::string NodePath();

  // Starts the server and waits until it accepts connections. FailedPrecondition if s3rver or
  // node is missing (callers skip with RWMETA_SKIP_OR_FAIL); Unavailable / DeadlineExceeded with
  // the server's log if it does not come up.
  static Result<std::unique_ptr<S3Server>> Start(Options options);
  static Result<std::unique_ptr<S3Server>> Start() { return Start(Options{}); }

  ~S3Server();
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port>" ("https://..." with tls).
  std::string endpoint() const;
  // The self-signed certificate of a tls server (PEM), "" otherwise.
  const std::string& ca_file() const { return ca_file_; }
  // Where s3rver keeps the buckets' files.
  const std::string& data_dir() const { return data_dir_; }
  std::string Log() const { return process_ ? process_->Log() : std::string(); }
  // Environment for /usr/bin/aws and other AWS tools pointed at this server.
  std::map<std::string, std::string> AwsEnv() const;

 private:
  S3Server() = default;
  std::unique_ptr<TempDir> dir_;
  std::string data_dir_;
  int port_ = 0;
  std::string ca_file_;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace rwmeta::testing
