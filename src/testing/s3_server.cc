#include "testing/s3_server.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

namespace rwmeta::testing {

std::string S3Server::ScriptPath() {
  std::string path = std::string(RWMETA_SOURCE_DIR) + "/tools/node_modules/s3rver/bin/s3rver.js";
  return ::access(path.c_str(), R_OK) == 0 ? path : std::string();
}

std::string S3Server::NodePath() {
  for (const char* p : {"/usr/bin/node", "/usr/local/bin/node", "/usr/bin/nodejs"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

Result<std::unique_ptr<S3Server>> S3Server::Start(Options options) {
  std::string script = ScriptPath();
  std::string node = NodePath();
  if (script.empty() || node.empty()) {
    return FailedPreconditionError(
        "s3rver not installed (run scripts/setup.sh: it puts s3rver into tools/node_modules)");
  }
  std::unique_ptr<S3Server> server(new S3Server());
  server->dir_ = std::make_unique<TempDir>();
  if (server->dir_->path().empty()) return InternalError("s3 server: cannot make a temp dir");
  server->data_dir_ = server->dir_->path() + "/data";
  std::filesystem::create_directories(server->data_dir_);
  std::string key_file;
  if (options.tls) {
    key_file = server->dir_->path() + "/key.pem";
    server->ca_file_ = server->dir_->path() + "/cert.pem";
    RWMETA_ASSIGN_OR_RETURN(
        CommandResult made,
        RunCommand({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                    "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key_file, "-out", server->ca_file_}));
    if (made.exit_code != 0) {
      return InternalError("s3 server: openssl could not make a certificate: " + made.err);
    }
  }
  // A port taken between PickFreePort and the bind shows as an exit: try a few.
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    server->port_ = PickFreePort();
    BackgroundProcess::Options po;
    // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only has in
    // its legacy provider: without it every second page of a listing is a 500.
    po.argv = {node,
               "--openssl-legacy-provider",
               script,
               "-d",
               server->data_dir_,
               "-a",
               "127.0.0.1",
               "-p",
               std::to_string(server->port_),
               "--no-vhost-buckets"};
    if (!options.verbose) po.argv.push_back("--silent");
    if (options.tls) {
      po.argv.insert(po.argv.end(), {"--key", key_file, "--cert", server->ca_file_});
    }
    for (const auto& b : options.buckets) {
      po.argv.push_back("--configure-bucket");
      po.argv.push_back(b);
    }
    po.log_path = server->dir_->path() + "/s3rver.log";
    Result<std::unique_ptr<BackgroundProcess>> p = BackgroundProcess::Start(po);
    if (!p.ok()) return p.status();
    server->process_ = std::move(p).value();
    last = server->process_->WaitForPort(server->port_, std::chrono::seconds(30));
    if (last.ok()) return server;
    server->process_.reset();
  }
  return last;
}

S3Server::~S3Server() {
  if (process_) process_->Stop(15, std::chrono::seconds(5)).IgnoreError();  // Test teardown.
}

std::string S3Server::endpoint() const {
  return fmt::format("{}://127.0.0.1:{}", ca_file_.empty() ? "http" : "https", port_);
}

std::map<std::string, std::string> S3Server::AwsEnv() const {
  return {{"AWS_ACCESS_KEY_ID", kAccessKey},
          {"AWS_SECRET_ACCESS_KEY", kSecretKey},
          {"AWS_DEFAULT_REGION", "us-east-1"},
          {"AWS_REGION", "us-east-1"},
          {"AWS_EC2_METADATA_DISABLED", "true"},
          {"AWS_PAGER", ""},
          // Keep the CLI from reading a user's config or credentials files.
          {"AWS_CONFIG_FILE", "/dev/null"},
          {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}};
}

}  // namespace rwmeta::testing
