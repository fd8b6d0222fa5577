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
//   "s3://bucket[/prefix]"  S3ObjectStore; credentials, region and endpoint from the AWS_*
//                       environment variables (see s3/s3_url.h and docs/s3.md)
//   "minio://key:secret@host:port/bucket[/prefix]"  S3ObjectStore over plain http, path-style
// InvalidArgument for malformed URLs, other schemes (the message lists the supported ones) and
// fs URLs without an absolute path; codes of FsObjectStore::Open for fs directories that cannot be
// created; InvalidArgument for malformed s3/minio URLs (bad bucket name, missing port, unknown
// query parameters). Opening an S3 store does no I/O: a missing bucket or wrong credentials show
// on the first request. Messages show the URL only through RedactUrl. Never crashes on any input.
// Thread-safe.
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(std::string_view url);

}  // namespace rwmeta::objstore
