#include "objstore/factory.h"

#include <fmt/format.h>

#include "common/url.h"
#include "objstore/fs/fs_object_store.h"
#include "objstore/memory/memory_object_store.h"
#include "objstore/s3/s3_object_store.h"
#include "objstore/s3/s3_url.h"

namespace rwmeta::objstore {

namespace {
constexpr std::string_view kSupportedSchemes =
    "memory, memory-isolated, fs:///abs/dir, s3://bucket[/prefix], "
    "minio://key:secret@host:port/bucket[/prefix]";
}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(std::string_view url) {
  RWMETA_ASSIGN_OR_RETURN(Url parsed, ParseUrl(url));
  const std::string& scheme = parsed.scheme;
  // "memory-shared" and "memory-isolated-for-test" are RisingWave's spellings of the same two.
  if (scheme == "memory" || scheme == "memory-shared") {
    return std::unique_ptr<ObjectStore>(MemoryObjectStore::OpenShared(url));
  }
  if (scheme == "memory-isolated" || scheme == "memory-isolated-for-test") {
    return std::unique_ptr<ObjectStore>(new MemoryObjectStore(scheme));
  }
  if (scheme == "fs") {
    if (!parsed.host.empty() || parsed.port || !parsed.user.empty() || parsed.path.empty() ||
        parsed.path.front() != '/') {
      return InvalidArgumentError(fmt::format(
          "object store url '{}': fs needs an absolute directory, written 'fs:///abs/dir'",
          RedactUrl(url)));
    }
    if (!parsed.query.empty()) {
      return InvalidArgumentError(
          fmt::format("object store url '{}': fs takes no query parameters", RedactUrl(url)));
    }
    RWMETA_ASSIGN_OR_RETURN(auto store, FsObjectStore::Open(parsed.path));
    return std::unique_ptr<ObjectStore>(std::move(store));
  }
  if (scheme == "s3" || scheme == "minio") {
    RWMETA_ASSIGN_OR_RETURN(s3::S3Config config, s3::S3ConfigFromUrl(url, s3::ProcessEnv()));
    Result<std::unique_ptr<s3::S3ObjectStore>> store = s3::S3ObjectStore::Open(std::move(config));
    if (!store.ok()) return store.status().WithContext("object store url '" + RedactUrl(url) + "'");
    return std::unique_ptr<ObjectStore>(std::move(store).value());
  }
  std::string hint;
  if (scheme.rfind("hummock+", 0) == 0) hint = "; strip the 'hummock+' prefix of state store urls";
  return InvalidArgumentError(
      fmt::format("object store url '{}': unsupported scheme '{}' (supported: {}){}",
                  RedactUrl(url), scheme, kSupportedSchemes, hint));
}

}  // namespace rwmeta::objstore
