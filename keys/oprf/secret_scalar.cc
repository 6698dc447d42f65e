#include "keys/oprf/secret_scalar.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <utility>

#include "base/reason.h"
#include "keys/oprf/internal/suite.h"

namespace casenode::oprf {

SecretScalar::SecretScalar() {
  data_ = static_cast<uint8_t*>(sodium_malloc(kSize));
  if (data_ == nullptr) std::abort();  // out of memory for secrets: impossible to continue safely
  sodium_memzero(data_, kSize);
}

SecretScalar SecretScalar::Random() {
  SecretScalar s;
  crypto_core_ristretto255_scalar_random(s.data_);  // in [1, L-1]
  return s;
}

SecretScalar SecretScalar::Zero() { return SecretScalar(); }

absl::StatusOr<SecretScalar> SecretScalar::FromCanonicalBytes(std::span<const uint8_t> bytes) {
  if (bytes.size() != kSize || !internal::IsCanonicalScalar(bytes.first<kSize>())) {
    return Error(Reason::kOprfInvalidEncoding, "scalar must be 32 bytes, little-endian, below the group order");
  }
  SecretScalar s;
  std::memcpy(s.data_, bytes.data(), kSize);
  return s;
}

SecretScalar::SecretScalar(SecretScalar&& other) noexcept : data_(std::exchange(other.data_, nullptr)) {}

SecretScalar& SecretScalar::operator=(SecretScalar&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = std::exchange(other.data_, nullptr);
  }
  return *this;
}

SecretScalar::~SecretScalar() {
  if (data_ != nullptr) sodium_free(data_);  // sodium_free wipes before freeing
}

bool SecretScalar::IsZero() const { return sodium_is_zero(data_, kSize) == 1; }

bool SecretScalar::Equals(const SecretScalar& other) const { return sodium_memcmp(data_, other.data_, kSize) == 0; }

}  // namespace casenode::oprf
