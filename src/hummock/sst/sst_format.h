// Internals shared by SstWriter and SstReader: the constants and the block framing of SST format
// version 1 (docs/format/sst.md describes the layout). Not part of the public API.
// Integers are coded with common/coding.h: fixed-width little-endian, varint32 lengths.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rwmeta::hummock::sst_format {

inline constexpr uint16_t kMajorVersion = 1;
inline constexpr uint16_t kMinorVersion = 0;
// "RWHUMSST" read as a little-endian u64.
inline constexpr uint64_t kMagic = 0x5453534D55485752ULL;
inline constexpr size_t kFooterBytes = 72;
// Every block ends with: compression u8, xxh64 u64 (LE) of the stored payload and that byte.
inline constexpr size_t kBlockTrailerBytes = 9;
inline constexpr uint8_t kCompressionNone = 0;
inline constexpr uint8_t kCompressionZstd = 1;
// A zstd block never inflates beyond this (guards the reader against absurd frame headers).
inline constexpr uint64_t kMaxUncompressedBlockBytes = 256ULL << 20;

// Meta block field tags. Tags with kRequiredTagBit set must be understood by a reader
// (Unimplemented otherwise); others are optional and skipped when unknown.
inline constexpr uint16_t kRequiredTagBit = 0x8000;
inline constexpr uint16_t kTagObjectId = 1;
inline constexpr uint16_t kTagTableIds = 2;
inline constexpr uint16_t kTagMinEpoch = 3;
inline constexpr uint16_t kTagMaxEpoch = 4;
inline constexpr uint16_t kTagTotalKeys = 5;
inline constexpr uint16_t kTagTombstoneKeys = 6;
inline constexpr uint16_t kTagSmallestKey = 7;
inline constexpr uint16_t kTagLargestKey = 8;
inline constexpr uint16_t kTagBlockCount = 9;

uint64_t Hash64(std::string_view data, uint64_t seed = 0);

// Frames `payload` as a stored block: compressed with zstd when `compress` and it saves space.
std::string FrameBlock(std::string_view payload, bool compress, int zstd_level);

// Checks the trailer of a stored block and returns its uncompressed payload. DataLoss messages
// are "<what>: checksum mismatch" etc.; the caller prefixes the object name.
Result<std::string> UnframeBlock(std::string_view stored, std::string_view what);

}  // namespace rwmeta::hummock::sst_format
