#include "common/coding.h"

namespace rwmeta {

namespace {

template <typename T>
void PutVarint(std::string* dst, T v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

// Commits to *input only on success, so a caller may report where the bad varint starts.
template <typename T>
bool GetVarint(std::string_view* input, T* value) {
  constexpr int kMaxShift = 8 * sizeof(T) - 1;  // 28 for uint32_t (5 bytes), 63 for uint64_t (10)
  T result = 0;
  size_t i = 0;
  for (int shift = 0; shift <= kMaxShift && i < input->size(); shift += 7) {
    const auto byte = static_cast<uint8_t>((*input)[i++]);
    result |= static_cast<T>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      input->remove_prefix(i);
      return true;
    }
  }
  return false;
}

}  // namespace

void PutVarint32(std::string* dst, uint32_t v) { PutVarint(dst, v); }
void PutVarint64(std::string* dst, uint64_t v) { PutVarint(dst, v); }
bool GetVarint32(std::string_view* input, uint32_t* value) { return GetVarint(input, value); }
bool GetVarint64(std::string_view* input, uint64_t* value) { return GetVarint(input, value); }

void PutLengthPrefixedSlice(std::string* dst, std::string_view value) {
  PutVarint64(dst, value.size());
  dst->append(value);
}

bool GetLengthPrefixedSlice(std::string_view* input, std::string_view* result) {
  std::string_view in = *input;
  uint64_t n = 0;
  if (!GetVarint64(&in, &n) || n > in.size()) return false;
  *result = in.substr(0, n);
  in.remove_prefix(n);
  *input = in;
  return true;
}

}  // namespace rwmeta
