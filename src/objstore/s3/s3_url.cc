#include "objstore/s3/s3_url.h"

#include <fmt/format.h>

#include <cstdlib>

#include "common/url.h"

namespace rwmeta::objstore::s3 {

namespace {

std::optional<std::string> NonEmpty(const EnvLookup& env, std::string_view name) {
  std::optional<std::string> v = env(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<S3Config> S3ConfigFromUrl(std::string_view url, const EnvLookup& env) {
  RWMETA_ASSIGN_OR_RETURN(Url parsed, ParseUrl(url));
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError(fmt::format("object store url '{}': {}", RedactUrl(url), why));
  };
  S3Config config;
  std::string bucket_and_prefix;
  if (parsed.scheme == "s3") {
    if (!parsed.user.empty() || !parsed.password.empty()) {
      return bad("s3:// urls take no credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    }
    if (parsed.port) return bad("s3:// takes a bucket, not host:port; set AWS_ENDPOINT_URL");
    if (parsed.host.empty()) return bad("no bucket, expected 's3://<bucket>[/<prefix>]'");
    config.bucket = parsed.host;
    config.prefix = parsed.path;
    config.credentials.access_key_id = NonEmpty(env, "AWS_ACCESS_KEY_ID").value_or("");
    config.credentials.secret_access_key = NonEmpty(env, "AWS_SECRET_ACCESS_KEY").value_or("");
    config.credentials.session_token = NonEmpty(env, "AWS_SESSION_TOKEN").value_or("");
    config.region = NonEmpty(env, "AWS_REGION")
                        .value_or(NonEmpty(env, "AWS_DEFAULT_REGION").value_or("us-east-1"));
    config.endpoint = NonEmpty(env, "AWS_ENDPOINT_URL_S3")
                          .value_or(NonEmpty(env, "AWS_ENDPOINT_URL").value_or(""));
    config.http.ca_file = NonEmpty(env, "AWS_CA_BUNDLE").value_or("");
    // AWS S3 honours If-None-Match and If-Match on PutObject; unknown servers may ignore them.
    config.conditional_put = config.endpoint.empty();
    config.display_url = "s3://" + config.bucket;
  } else if (parsed.scheme == "minio") {
    if (parsed.user.empty() || parsed.password.empty()) {
      return bad("expected 'minio://<key>:<secret>@<host>:<port>/<bucket>'");
    }
    if (parsed.host.empty() || !parsed.port) return bad("minio:// needs host:port");
    size_t slash = parsed.path.find('/', 1);
    if (parsed.path.size() <= 1) return bad("no bucket, expected '.../<bucket>[/<prefix>]'");
    config.bucket =
        parsed.path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
    config.prefix = slash == std::string::npos ? "" : parsed.path.substr(slash);
    config.credentials.access_key_id = parsed.user;
    config.credentials.secret_access_key = parsed.password;
    config.region = NonEmpty(env, "AWS_REGION").value_or("us-east-1");
    config.endpoint = fmt::format("http://{}:{}", parsed.host, *parsed.port);
    config.conditional_put = false;
    config.display_url = fmt::format("minio://{}:{}/{}", parsed.host, *parsed.port, config.bucket);
  } else {
    return bad("not an s3:// or minio:// url");
  }
  while (!config.prefix.empty() && config.prefix.front() == '/') config.prefix.erase(0, 1);
  while (!config.prefix.empty() && config.prefix.back() == '/') config.prefix.pop_back();
  if (!config.prefix.empty()) config.display_url += "/" + config.prefix;

  for (const auto& [k, v] : parsed.query) {
    if (k == "region") {
      if (v.empty()) return bad("empty region");
      config.region = v;
    } else if (k == "conditional_put") {
      if (v == "true") {
        config.conditional_put = true;
      } else if (v == "false") {
        config.conditional_put = false;
      } else {
        return bad("conditional_put must be true or false");
      }
    } else {
      return bad(fmt::format("unknown query parameter '{}' (known: region, conditional_put)", k));
    }
  }
  return config;
}

}  // namespace rwmeta::objstore::s3
