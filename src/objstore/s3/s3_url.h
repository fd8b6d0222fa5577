// From an object store URL to an S3Config (s3_object_store.h):
//
//   s3://<bucket>[/<prefix>][?region=..&conditional_put=true|false]
//       Credentials, region and endpoint from the environment as the AWS tools read them:
//       AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (optional), AWS_REGION (else
//       AWS_DEFAULT_REGION, else us-east-1), AWS_ENDPOINT_URL_S3 (else AWS_ENDPOINT_URL; a custom
//       endpoint means path-style requests), AWS_CA_BUNDLE (certificate authorities for https, else
//       the system's). Without an access key requests go unsigned
//       (public buckets). conditional_put defaults to true on AWS (no endpoint) and false on a
//       custom endpoint.
//   minio://<key>:<secret>@<host>:<port>/<bucket>[/<prefix>][?region=..&conditional_put=..]
//       RisingWave's spelling: plain http to host:port, path-style, credentials from the URL
//       (percent-encode '/', '@', ':' in the secret), region from AWS_REGION or us-east-1;
//       conditional_put defaults to false.
//
// The display URL never holds credentials ("s3://bucket/prefix", "minio://host:port/bucket").
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "objstore/s3/s3_object_store.h"

namespace rwmeta::objstore::s3 {

// Reads one environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (getenv).
EnvLookup ProcessEnv();

// InvalidArgument naming the problem (through RedactUrl) for URLs of other schemes, without a
// bucket, with credentials in an s3:// URL, without credentials or port in a minio:// URL, or with
// unknown query parameters. Does no I/O. Thread-safe if `env` is.
Result<S3Config> S3ConfigFromUrl(std::string_view url, const EnvLookup& env);

}  // namespace rwmeta::objstore::s3
