// OpenObjectStore: the one place that maps an object store URL to a backend.
#pragma once

#include <memory>
#include <string_view>

#include "common/status.h"
#include "objstore/object_store.h"

namespace rwmeta::objstore {

// Opens the object store named by `url` (without RisingWave's "hummock+" prefix; see
// StripHummockPrefix in common/url.h):
//   "memory"            one process-wide in-memory store per exact URL string: every open of the
//                       same URL sees the same objects (RisingWave's `memory`); also
//                       "memory-shared"
//   "memory-isolated"   a fresh, empty in-memory store on each call (for tests); also
//                       "memory-isolated-for-test"
//   "fs:///abs/dir"     FsObjectStore rooted at /abs/dir, created if missing
//   "s3://...", "minio://..."  Unimplemented: S3 support is not built yet
// InvalidArgument for malformed URLs, other schemes (the message lists the supported ones) and
// fs URLs without an absolute path; codes of FsObjectStore::Open for fs directories that cannot be
// created. Messages show the URL only through RedactUrl. Never crashes on any input. Thread-safe.
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(std::string_view url);

}  // namespace rwmeta::objstore
