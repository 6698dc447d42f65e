// OPRF and VOPRF (RFC 9497) in the suite ristretto255-SHA512, on libsodium.
//
// The network pseudonym of a child is an OPRF output: a requester blinds the
// BSN, key holders evaluate the blinded element under their key (shares), and
// the requester unblinds and hashes the result (DESIGN.md, "Pseudonyms";
// threshold.h shares the key). This header is the two-party protocol:
//
//   client:  Blind(mode, input)                 -> Blinded (keep it; send element())
//   server:  BlindEvaluate(key, element)        -> evaluated element     (OPRF)
//            BlindEvaluateWithProof(key, elems) -> elements + DLEQ proof (VOPRF)
//   client:  Finalize / VerifiableFinalize      -> 64-byte output
//
// Elements are RFC 9497 SerializeElement bytes (32, canonical ristretto255);
// scalars are 32 bytes little-endian below the group order; a proof is c || s.
// Every element that comes from the other party is checked (canonical, not
// the identity) before use. Errors carry a reason (base/reason.h) and never
// contain an input, a key, a blind or an output.
//
// Pure: no I/O, no clock. All functions are thread-safe; the types are
// thread-compatible. Secret scalars live in SecretScalar and are wiped.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "keys/oprf/secret_scalar.h"

namespace casenode::oprf {

inline constexpr size_t kElementBytes = 32;  // Ne
inline constexpr size_t kScalarBytes = 32;   // Ns
inline constexpr size_t kOutputBytes = 64;   // Nh
inline constexpr size_t kProofBytes = 2 * kScalarBytes;
// The longest client input: its length is encoded in 2 bytes (RFC 9497).
inline constexpr size_t kMaxInputBytes = 65535;
// The largest batch: composite indices are encoded in 2 bytes.
inline constexpr size_t kMaxBatch = 65535;

using Element = std::array<uint8_t, kElementBytes>;
using Proof = std::array<uint8_t, kProofBytes>;
using Output = std::array<uint8_t, kOutputBytes>;

// The protocol variant; its value is the mode byte of the contextString.
enum class Mode : uint8_t {
  kOprf = 0x00,
  kVoprf = 0x01,
};

// contextString = "OPRFV1-" || I2OSP(mode, 1) || "-ristretto255-SHA512"
// (28 bytes; the mode byte may be 0x00).
std::string ContextString(Mode mode);

// RFC 9497 DeserializeElement's test: a canonical ristretto255 encoding
// (RFC 9496, top bit clear) of an element other than the identity. For
// elements read elsewhere (a manifest's key commitments).
bool IsValidElement(const Element& e);

// A server's private key skS and its public key pkS = skS*G. Move-only.
class PrivateKey {
 public:
  // A fresh random key (RFC 9497 GenerateKeyPair).
  static PrivateKey Generate();
  // RFC 9497 DeriveKeyPair(seed, info) in `mode`. InvalidArgument unless seed
  // is 32 bytes and info at most 65535; Internal in the (probability 2^-2000)
  // case that no counter gives a non-zero scalar (DeriveKeyPairError).
  [[nodiscard]] static absl::StatusOr<PrivateKey> Derive(Mode mode, std::span<const uint8_t> seed,
                                                         std::span<const uint8_t> info);
  // A key from its scalar. InvalidArgument (OPRF_INVALID_ENCODING) if it is zero.
  [[nodiscard]] static absl::StatusOr<PrivateKey> FromScalar(SecretScalar scalar);

  const SecretScalar& scalar() const { return scalar_; }
  const Element& public_key() const { return public_key_; }

 private:
  PrivateKey(SecretScalar scalar, const Element& public_key);
  SecretScalar scalar_;
  Element public_key_;
};

// A client's blinded input: the secret blind, the blinded element to send,
// and the mode it was made for. Kept until Finalize. Move-only.
class Blinded {
 public:
  Mode mode() const { return mode_; }
  // blindedElement = blind * HashToGroup(input): what the client sends.
  const Element& element() const { return element_; }
  const SecretScalar& blind() const { return blind_; }

 private:
  friend absl::StatusOr<Blinded> Blind(Mode, std::span<const uint8_t>);
  friend absl::StatusOr<Blinded> InsecureBlindForTesting(Mode, std::span<const uint8_t>, std::span<const uint8_t>);
  Blinded(Mode mode, SecretScalar blind, const Element& element);
  Mode mode_;
  SecretScalar blind_;
  Element element_;
};

// RFC 9497 Blind(input) with a fresh random blind. OPRF_INVALID_INPUT if the
// input is longer than kMaxInputBytes or hashes to the identity.
[[nodiscard]] absl::StatusOr<Blinded> Blind(Mode mode, std::span<const uint8_t> input);
// WARNING: Blind with a chosen blind, for known-answer tests only; a reused
// or predictable blind links requests. The blind must be canonical and
// non-zero (OPRF_INVALID_ENCODING otherwise).
[[nodiscard]] absl::StatusOr<Blinded> InsecureBlindForTesting(Mode mode, std::span<const uint8_t> input,
                                                              std::span<const uint8_t> blind);

// OPRF BlindEvaluate: skS * blindedElement. OPRF_INVALID_ENCODING if the
// element is not canonical or is the identity.
[[nodiscard]] absl::StatusOr<Element> BlindEvaluate(const PrivateKey& key, const Element& blinded);

// A VOPRF server's answer: one evaluated element per blinded element, and one
// DLEQ proof that all were evaluated under the key behind the public key.
struct Evaluation {
  std::vector<Element> elements;
  Proof proof{};
};

// VOPRF BlindEvaluate over a batch of 1 to kMaxBatch blinded elements, with
// GenerateProof (ComputeCompositesFast). InvalidArgument for an empty or
// oversized batch, OPRF_INVALID_ENCODING (naming the index) for a bad element.
[[nodiscard]] absl::StatusOr<Evaluation> BlindEvaluateWithProof(const PrivateKey& key,
                                                                std::span<const Element> blinded);
// WARNING: BlindEvaluateWithProof with the proof's random scalar given, for
// known-answer tests only: a reused r reveals the private key.
[[nodiscard]] absl::StatusOr<Evaluation> InsecureBlindEvaluateWithProofForTesting(
    const PrivateKey& key, std::span<const Element> blinded, std::span<const uint8_t> proof_random_scalar);

// OPRF Finalize: Hash(len || input || len || blind^-1 * evaluated || "Finalize").
// REQUIRES blinded.mode() == kOprf (InvalidArgument otherwise: a VOPRF
// evaluation must go through VerifiableFinalize). OPRF_INVALID_ENCODING for a
// bad evaluated element, OPRF_INVALID_INPUT for an oversized input.
[[nodiscard]] absl::StatusOr<Output> Finalize(std::span<const uint8_t> input, const Blinded& blinded,
                                              const Element& evaluated);

// VOPRF Finalize over a batch: checks the public key and every evaluated
// element, verifies the proof over all (blinded, evaluated) pairs
// (ComputeComposites), and only then unblinds and hashes each. inputs, blinds
// and evaluation.elements have the same length, and every blind was made in
// kVoprf mode (InvalidArgument otherwise). OPRF_PROOF_FAILED if the proof
// does not verify against `public_key`.
[[nodiscard]] absl::StatusOr<std::vector<Output>> VerifiableFinalize(const Element& public_key,
                                                                     std::span<const std::span<const uint8_t>> inputs,
                                                                     std::span<const Blinded> blinds,
                                                                     const Evaluation& evaluation);
// The same for one input.
[[nodiscard]] absl::StatusOr<Output> VerifiableFinalize(const Element& public_key, std::span<const uint8_t> input,
                                                        const Blinded& blinded, const Element& evaluated,
                                                        const Proof& proof);

}  // namespace casenode::oprf
