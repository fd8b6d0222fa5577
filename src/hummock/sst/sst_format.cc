#include "hummock/sst/sst_format.h"

#include <xxhash.h>
#include <zstd.h>

#include "common/coding.h"

namespace rwmeta::hummock::sst_format {

uint64_t Hash64(std::string_view data, uint64_t seed) {
  return XXH64(data.data(), data.size(), seed);
}

std::string FrameBlock(std::string_view payload, bool compress, int zstd_level) {
  std::string stored;
  uint8_t compression = kCompressionNone;
  if (compress && !payload.empty()) {
    std::string compressed(ZSTD_compressBound(payload.size()), '\0');
    size_t n = ZSTD_compress(compressed.data(), compressed.size(), payload.data(), payload.size(),
                             zstd_level);
    if (!ZSTD_isError(n) && n < payload.size()) {
      compressed.resize(n);
      stored = std::move(compressed);
      compression = kCompressionZstd;
    }
  }
  if (compression == kCompressionNone) stored.assign(payload);
  stored.push_back(static_cast<char>(compression));
  PutFixed64(&stored, Hash64(stored));
  return stored;
}

Result<std::string> UnframeBlock(std::string_view stored, std::string_view what) {
  if (stored.size() < kBlockTrailerBytes) {
    return DataLossError(std::string(what) + " is " + std::to_string(stored.size()) +
                         " bytes, shorter than its trailer");
  }
  std::string_view body = stored.substr(0, stored.size() - 8);
  if (Hash64(body) != DecodeFixed64(stored.data() + body.size())) {
    return DataLossError(std::string(what) + " checksum mismatch");
  }
  uint8_t compression = static_cast<uint8_t>(body.back());
  std::string_view payload = body.substr(0, body.size() - 1);
  if (compression == kCompressionNone) return std::string(payload);
  if (compression != kCompressionZstd) {
    return DataLossError(std::string(what) + " has unknown compression " +
                         std::to_string(compression));
  }
  unsigned long long size = ZSTD_getFrameContentSize(payload.data(), payload.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
      size > kMaxUncompressedBlockBytes) {
    return DataLossError(std::string(what) + " has a bad zstd frame header");
  }
  std::string out(size, '\0');
  size_t n = ZSTD_decompress(out.data(), out.size(), payload.data(), payload.size());
  if (ZSTD_isError(n) || n != size) {
    return DataLossError(std::string(what) + " does not decompress");
  }
  return out;
}

}  // namespace rwmeta::hummock::sst_format
