#include "hummock/sst/sst_format.h"

#include <xxhash.h>
#include <zstd.h>

namespace rwmeta::hummock::sst_format {

void PutFixed16(uint16_t v, std::string* out) {
  for (int i = 0; i < 2; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutFixed32(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutFixed64(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint16_t GetFixed16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) | (static_cast<uint8_t>(p[1]) << 8));
}
uint32_t GetFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t GetFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

void PutVarint32(uint32_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint32(std::string_view data, size_t* pos, uint32_t* v) {
  uint32_t result = 0;
  for (int shift = 0; shift <= 28 && *pos < data.size(); shift += 7) {
    uint32_t byte = static_cast<uint8_t>(data[(*pos)++]);
    result |= (byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

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
  PutFixed64(Hash64(stored), &stored);
  return stored;
}

Result<std::string> UnframeBlock(std::string_view stored, std::string_view what) {
  if (stored.size() < kBlockTrailerBytes) {
    return DataLossError(std::string(what) + " is " + std::to_string(stored.size()) +
                         " bytes, shorter than its trailer");
  }
  std::string_view body = stored.substr(0, stored.size() - 8);
  if (Hash64(body) != GetFixed64(stored.data() + body.size())) {
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
