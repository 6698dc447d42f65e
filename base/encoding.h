// Text encodings of bytes, by libsodium (constant time for secrets).
//
// Thread-safe, pure functions. Base64 is the standard alphabet with padding
// (RFC 4648 section 4); hex is lowercase.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace casenode {

using Bytes = std::vector<uint8_t>;

std::string Base64Encode(std::span<const uint8_t> bytes);
// Fails with InvalidArgument naming `what` if `text` is not valid base64.
absl::StatusOr<Bytes> Base64Decode(std::string_view text, std::string_view what);

std::string HexEncode(std::span<const uint8_t> bytes);
absl::StatusOr<Bytes> HexDecode(std::string_view text, std::string_view what);

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace casenode
