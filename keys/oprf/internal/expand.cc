#include "keys/oprf/internal/expand.h"

#include <sodium.h>

#include <algorithm>
#include <array>

namespace casenode::oprf::internal {
namespace {

constexpr size_t kHashBytes = crypto_hash_sha512_BYTES;  // b_in_bytes
constexpr size_t kBlockBytes = 128;                      // s_in_bytes, SHA-512's input block

// Hash state and chaining values, wiped however the function returns.
struct Scratch {
  crypto_hash_sha512_state state;
  std::array<uint8_t, kHashBytes> b0;
  std::array<uint8_t, kHashBytes> bi;
  std::array<uint8_t, kHashBytes> mix;
  ~Scratch() { sodium_memzero(this, sizeof(*this)); }
};

}  // namespace

absl::Status ExpandMessageXmdSha512(std::span<const uint8_t> msg, std::span<const uint8_t> dst,
                                    std::span<uint8_t> out) {
  if (out.empty() || out.size() > kMaxExpandBytes) {
    return absl::InvalidArgumentError("expand_message_xmd: output length must be 1 to 16320 bytes");
  }
  if (dst.empty() || dst.size() > kMaxDstBytes) {
    return absl::InvalidArgumentError("expand_message_xmd: DST must be 1 to 255 bytes");
  }
  const size_t ell = (out.size() + kHashBytes - 1) / kHashBytes;  // <= 255 by the bound above
  const uint8_t dst_len = static_cast<uint8_t>(dst.size());
  static constexpr std::array<uint8_t, kBlockBytes> kZPad{};

  Scratch s;
  // b_0 = H(Z_pad || msg || I2OSP(len_in_bytes, 2) || I2OSP(0, 1) || DST_prime),
  // DST_prime = DST || I2OSP(len(DST), 1).
  const uint8_t lib_str[3] = {static_cast<uint8_t>(out.size() >> 8), static_cast<uint8_t>(out.size() & 0xff), 0};
  crypto_hash_sha512_init(&s.state);
  crypto_hash_sha512_update(&s.state, kZPad.data(), kZPad.size());
  crypto_hash_sha512_update(&s.state, msg.data(), msg.size());
  crypto_hash_sha512_update(&s.state, lib_str, sizeof(lib_str));
  crypto_hash_sha512_update(&s.state, dst.data(), dst.size());
  crypto_hash_sha512_update(&s.state, &dst_len, 1);
  crypto_hash_sha512_final(&s.state, s.b0.data());

  // b_1 = H(b_0 || I2OSP(1, 1) || DST_prime);
  // b_i = H(strxor(b_0, b_(i-1)) || I2OSP(i, 1) || DST_prime).
  size_t written = 0;
  for (size_t i = 1; i <= ell; ++i) {
    if (i == 1) {
      s.mix = s.b0;
    } else {
      for (size_t j = 0; j < kHashBytes; ++j) s.mix[j] = s.b0[j] ^ s.bi[j];
    }
    const uint8_t counter = static_cast<uint8_t>(i);
    crypto_hash_sha512_init(&s.state);
    crypto_hash_sha512_update(&s.state, s.mix.data(), s.mix.size());
    crypto_hash_sha512_update(&s.state, &counter, 1);
    crypto_hash_sha512_update(&s.state, dst.data(), dst.size());
    crypto_hash_sha512_update(&s.state, &dst_len, 1);
    crypto_hash_sha512_final(&s.state, s.bi.data());
    const size_t take = std::min(kHashBytes, out.size() - written);
    std::copy_n(s.bi.begin(), take, out.begin() + static_cast<std::ptrdiff_t>(written));
    written += take;
  }
  return absl::OkStatus();
}

}  // namespace casenode::oprf::internal
