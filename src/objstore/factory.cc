#include "objstore/factory.h"

#include <fmt/format.h>

#include "common/url.h"
#include "objstore/fs/fs_object_store.h"
#include "objstore/memory/memory_object_store.h"

namespace rwmeta::objstore {

namespace {
constexpr std::string_view kSupportedSchemes =
    "memory, memory-isolated, fs:///abs/dir (s3:// and minio:// are planned)";
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
    return UnimplementedError(
        fmt::format("object store url '{}': S3 support is not built yet (supported now: memory, "
                    "memory-isolated, fs:///abs/dir)",
                    RedactUrl(url)));
  }
  std::string hint;
  if (scheme.rfind("hummock+", 0) == 0) hint = "; strip the 'hummock+' prefix of state store urls";
  return InvalidArgumentError(
      fmt::format("object store url '{}': unsupported scheme '{}' (supported: {}){}",
                  RedactUrl(url), scheme, kSupportedSchemes, hint));
}

}  // namespace rwmeta::objstore
