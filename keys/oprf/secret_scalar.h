// SecretScalar: a secret scalar of the ristretto255 group (an integer mod the
// group order L), such as an OPRF private key, a key share or a client's blind.
//
// 32 bytes, little-endian, always reduced (< L). Kept in sodium_malloc memory
// (guard pages, mlock) that is wiped when freed. Move-only, no operator<<, no
// conversion to a string: a secret scalar never reaches a log or a message by
// accident. A moved-from SecretScalar is empty and may only be destroyed or
// assigned to. Thread-compatible: concurrent reads are fine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/statusor.h"

namespace casenode::oprf {

class SecretScalar {
 public:
  static constexpr size_t kSize = 32;

  // A uniformly random scalar in [1, L-1] (RFC 9497 RandomScalar).
  static SecretScalar Random();
  // The zero scalar, to be filled in through data() (which must leave it < L).
  static SecretScalar Zero();
  // Fails with InvalidArgument (OPRF_INVALID_ENCODING) unless `bytes` is the
  // canonical encoding of a scalar: 32 bytes, little-endian, less than L
  // (RFC 9497 DeserializeScalar). Zero is accepted; callers that need a
  // non-zero scalar check IsZero(). The message never contains the bytes.
  [[nodiscard]] static absl::StatusOr<SecretScalar> FromCanonicalBytes(std::span<const uint8_t> bytes);

  SecretScalar(SecretScalar&& other) noexcept;
  SecretScalar& operator=(SecretScalar&& other) noexcept;
  SecretScalar(const SecretScalar&) = delete;
  SecretScalar& operator=(const SecretScalar&) = delete;
  ~SecretScalar();

  // REQUIRES: not moved from.
  const uint8_t* data() const { return data_; }
  uint8_t* data() { return data_; }
  // Constant time.
  bool IsZero() const;
  // Constant-time equality.
  bool Equals(const SecretScalar& other) const;
  // WARNING: the secret itself (RFC 9497 SerializeScalar), for known-answer
  // tests and for handing a key share to its holder's key store.
  std::span<const uint8_t, kSize> CleartextBytes() const { return std::span<const uint8_t, kSize>(data_, kSize); }

 private:
  SecretScalar();
  uint8_t* data_ = nullptr;
};

}  // namespace casenode::oprf
