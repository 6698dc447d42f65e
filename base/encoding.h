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
[[nodiscard]] absl::StatusOr<Bytes> Base64Decode(std::string_view text, std::string_view what);
// Base64url without padding (RFC 4648 §5), as JOSE and PKCE use it; one
// spelling per value, like Base64Decode.
std::string Base64UrlEncode(std::span<const uint8_t> bytes);
[[nodiscard]] absl::StatusOr<Bytes> Base64UrlDecode(std::string_view text, std::string_view what);

std::string HexEncode(std::span<const uint8_t> bytes);
// True if `text` is exactly `digits` lowercase hex digits (ids, fingerprints).
bool IsLowerHex(std::string_view text, size_t digits);
[[nodiscard]] absl::StatusOr<Bytes> HexDecode(std::string_view text, std::string_view what);

// Big-endian integers, the byte order of every fixed encoding in casenode.
void AppendU32(std::string& out, uint32_t v);
void AppendU64(std::string& out, uint64_t v);
// REQUIRES: at least 4 (8) bytes.
uint32_t ReadU32(std::span<const uint8_t> in);
uint64_t ReadU64(std::span<const uint8_t> in);

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace casenode
