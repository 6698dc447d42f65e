// expand_message_xmd (RFC 9380 section 5.3.1) over SHA-512, the expander of
// hash_to_ristretto255 and of HashToScalar in the RFC 9497 suite
// ristretto255-SHA512. libsodium 1.0.18 (Debian bookworm) has none, so it is
// written here. Pure and thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"

namespace casenode::oprf::internal {

// The largest output: 255 blocks of 64 bytes (RFC 9380: ell <= 255).
inline constexpr size_t kMaxExpandBytes = 255 * 64;
// The longest DST taken as is. RFC 9380 hashes longer ones first
// ("H2C-OVERSIZE-DST-"); every DST of this suite is far shorter, so longer
// ones are refused instead.
inline constexpr size_t kMaxDstBytes = 255;

// Fills `out` with expand_message_xmd(msg, dst, out.size()) under SHA-512.
// InvalidArgument if out is empty or longer than kMaxExpandBytes, or dst is
// empty or longer than kMaxDstBytes. Intermediate hash state is wiped, since
// msg may be secret (a seed, a BSN).
[[nodiscard]] absl::Status ExpandMessageXmdSha512(std::span<const uint8_t> msg, std::span<const uint8_t> dst,
                                                  std::span<uint8_t> out);

}  // namespace casenode::oprf::internal
