// Fixed-width and variable-length integer coding, the one home for the byte layouts rwmeta writes
// to disk, to etcd and to the wire (after leveldb's util/coding.h).
//
// Fixed-width, little-endian ("Fixed"): the framing of SST objects, version checkpoints and meta
//   snapshots (docs/format/). v = 0x0102 is written 02 01.
// Fixed-width, big-endian ("BigEndian"): keys that must sort byte-wise in numeric order (hummock
//   full keys, etcd row keys) and the PostgreSQL wire and binary parameter formats.
//   v = 0x0102 is written 01 02.
// Varint: unsigned base-128, least significant group first, the high bit of each byte set when
//   more bytes follow (protobuf's varint): 300 is written AC 02. A varint32 takes at most 5 bytes,
//   a varint64 at most 10; a value below 2^32 has the same bytes in both.
// Length-prefixed: the length as a varint64, then the bytes.
//
// Every layout here reaches stored data: changing one changes formats that have golden bytes in
// testdata/. Add a new function rather than change an existing one.
//
// Put* append to *dst. Decode* read from `ptr` and REQUIRE that enough bytes are there (the caller
// checked the length). Get* consume from the front of *input and return false, leaving *input as
// it was, when it is too short or malformed; they never read past its end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rwmeta {

namespace coding_internal {

// Little-endian: byte i of the encoding holds bits [8i, 8i+8) of v. Big-endian: the mirror image.
template <bool kLittleEndian, typename T>
void Encode(char* dst, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    dst[kLittleEndian ? i : sizeof(T) - 1 - i] = static_cast<char>(v >> (8 * i));
  }
}

template <bool kLittleEndian, typename T>
T Decode(const char* ptr) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    const auto byte = static_cast<uint8_t>(ptr[kLittleEndian ? i : sizeof(T) - 1 - i]);
    v = static_cast<T>(v | static_cast<T>(byte) << (8 * i));
  }
  return v;
}

template <bool kLittleEndian, typename T>
void Put(std::string* dst, T v) {
  char buf[sizeof(T)];
  Encode<kLittleEndian>(buf, v);
  dst->append(buf, sizeof(T));
}

}  // namespace coding_internal

// Little-endian.
inline void EncodeFixed16(char* dst, uint16_t v) { coding_internal::Encode<true>(dst, v); }
inline void EncodeFixed32(char* dst, uint32_t v) { coding_internal::Encode<true>(dst, v); }
inline void EncodeFixed64(char* dst, uint64_t v) { coding_internal::Encode<true>(dst, v); }
inline void PutFixed16(std::string* dst, uint16_t v) { coding_internal::Put<true>(dst, v); }
inline void PutFixed32(std::string* dst, uint32_t v) { coding_internal::Put<true>(dst, v); }
inline void PutFixed64(std::string* dst, uint64_t v) { coding_internal::Put<true>(dst, v); }
inline uint16_t DecodeFixed16(const char* ptr) {
  return coding_internal::Decode<true, uint16_t>(ptr);
}
inline uint32_t DecodeFixed32(const char* ptr) {
  return coding_internal::Decode<true, uint32_t>(ptr);
}
inline uint64_t DecodeFixed64(const char* ptr) {
  return coding_internal::Decode<true, uint64_t>(ptr);
}

// Big-endian.
inline void EncodeBigEndian16(char* dst, uint16_t v) { coding_internal::Encode<false>(dst, v); }
inline void EncodeBigEndian32(char* dst, uint32_t v) { coding_internal::Encode<false>(dst, v); }
inline void EncodeBigEndian64(char* dst, uint64_t v) { coding_internal::Encode<false>(dst, v); }
inline void PutBigEndian16(std::string* dst, uint16_t v) { coding_internal::Put<false>(dst, v); }
inline void PutBigEndian32(std::string* dst, uint32_t v) { coding_internal::Put<false>(dst, v); }
inline void PutBigEndian64(std::string* dst, uint64_t v) { coding_internal::Put<false>(dst, v); }
inline uint16_t DecodeBigEndian16(const char* ptr) {
  return coding_internal::Decode<false, uint16_t>(ptr);
}
inline uint32_t DecodeBigEndian32(const char* ptr) {
  return coding_internal::Decode<false, uint32_t>(ptr);
}
inline uint64_t DecodeBigEndian64(const char* ptr) {
  return coding_internal::Decode<false, uint64_t>(ptr);
}

// Varints.
void PutVarint32(std::string* dst, uint32_t v);
void PutVarint64(std::string* dst, uint64_t v);
// False if *input ends inside the varint or the varint runs past 5 (varint32) or 10 (varint64)
// bytes. Bits beyond the type's width in the last byte are dropped, as leveldb does.
bool GetVarint32(std::string_view* input, uint32_t* value);
bool GetVarint64(std::string_view* input, uint64_t* value);

// Length-prefixed bytes (varint64 length). GetLengthPrefixedSlice's *result views *input's bytes;
// false if the length is malformed or larger than what follows it.
void PutLengthPrefixedSlice(std::string* dst, std::string_view value);
bool GetLengthPrefixedSlice(std::string_view* input, std::string_view* result);

}  // namespace rwmeta
