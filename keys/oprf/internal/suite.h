// The RFC 9497 suite ristretto255-SHA512 on libsodium: the domain separation
// tags of each mode, HashToGroup, HashToScalar, element and scalar checks,
// group arithmetic that keeps the identity representable, and the Finalize
// hash. Internal to keys/oprf. Pure functions; thread-safe.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keys/oprf/oprf.h"

namespace casenode::oprf::internal {

// The suite's identifier in the contextString.
inline constexpr std::string_view kSuiteIdentifier = "ristretto255-SHA512";

// The domain separation tags of one mode (RFC 9497 sections 3.1, 2.2.1 and
// 3.2.1, and 4.1 for the suite), each built from
// contextString = "OPRFV1-" || I2OSP(mode, 1) || "-" || identifier.
struct Dsts {
  std::string context;          // contextString
  std::string hash_to_group;    // "HashToGroup-" || contextString
  std::string hash_to_scalar;   // "HashToScalar-" || contextString
  std::string derive_key_pair;  // "DeriveKeyPair" || contextString
  std::string seed;             // "Seed-" || contextString
};
// Built once per mode; the reference stays valid for the life of the process.
const Dsts& DstsFor(Mode mode);

inline std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// hash_to_ristretto255 (RFC 9380 / RFC 9496 section 4.3.4): 64 bytes of
// expand_message_xmd(msg, dst) mapped with crypto_core_ristretto255_from_hash.
// May return the identity (as 32 zero bytes); callers that must not accept
// it check IsIdentity().
Element HashToGroup(std::span<const uint8_t> msg, std::string_view dst);
// HashToScalar: 64 bytes of expand_message_xmd(msg, dst), read little-endian
// and reduced mod L, written to `out` (which may be secret memory).
void HashToScalar(std::span<const uint8_t> msg, std::string_view dst, std::span<uint8_t, 32> out);

inline bool IsIdentity(const Element& e) { return sodium_is_zero(e.data(), e.size()) == 1; }
// True if `s` is a 32-byte little-endian integer below L (RFC 9497
// DeserializeScalar's condition). Constant time.
bool IsCanonicalScalar(std::span<const uint8_t, 32> s);
// True if `e` is a canonical ristretto255 encoding (RFC 9496 4.3.1), top bit
// included. The identity (zero bytes) is canonical.
bool IsCanonicalEncoding(const Element& e);
// RFC 9497 DeserializeElement: OK if `e` is a canonical ristretto255 encoding
// of an element other than the identity; otherwise InvalidArgument with
// reason OPRF_INVALID_ENCODING and a message that starts with `what`.
[[nodiscard]] absl::Status CheckElement(const Element& e, std::string_view what);

// Group arithmetic on elements already checked (or computed here), where the
// identity is a legitimate value and is represented by 32 zero bytes.
// q = n * p.
void Mul(Element& q, const uint8_t* n, const Element& p);
// q = n * G.
void MulBase(Element& q, const uint8_t* n);
// r = p + q. r may alias p or q.
void Add(Element& r, const Element& p, const Element& q);

// The scalar encoding of a small positive integer (a holder index, a counter).
std::array<uint8_t, 32> ScalarFromInt(uint32_t v);

// RFC 9497 Finalize's hash: Hash(I2OSP(len(input), 2) || input ||
// I2OSP(len(unblinded), 2) || unblinded || "Finalize").
// REQUIRES: input.size() <= kMaxInputBytes.
Output FinalizeHash(std::span<const uint8_t> input, const Element& unblinded);

// Secret bytes on the stack, wiped when they go out of scope.
template <size_t N>
struct Wiped {
  std::array<uint8_t, N> b{};
  uint8_t* data() { return b.data(); }
  const uint8_t* data() const { return b.data(); }
  ~Wiped() { sodium_memzero(b.data(), N); }
};

}  // namespace casenode::oprf::internal
