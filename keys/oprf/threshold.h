// Threshold OPRF: the pseudonym key k Shamir-shared t-of-n among key holders
// (DESIGN.md, "Pseudonyms").
//
//   dealer:    Deal(t, n)                     -> a share k_i per holder i = 1..n,
//                                                public K = k*G and K_i = k_i*G
//   requester: Blind(Mode::kVoprf, bsn)       -> Blinded; send element() to t holders
//   holder i:  EvaluateShare(share, element)  -> Z_i = k_i*element + DLEQ proof
//   requester: HolderSet::New(public, holders)   (once per holder set)
//              set.CombineAndFinalize(bsn, blinded, shares)
//                -> verifies every proof against K_i, then
//                   Finalize(sum lambda_i * Z_i): the output of the single-key
//                   VOPRF under k, although no one but the dealer ever held k.
//
// Shares are points of a random polynomial f of degree t-1 over the
// ristretto255 scalar field with f(0) = k, at x = holder index. Pure: no I/O.
// Functions are thread-safe; HolderSet is immutable after New and may be
// shared between threads.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "keys/oprf/oprf.h"

namespace casenode::oprf {

// A key holder's index: its share is f(index). 1 to kMaxHolders.
using HolderIndex = uint32_t;
inline constexpr HolderIndex kMaxHolders = 255;

// One holder's share k_i as a private key (public key K_i = k_i*G). Move-only.
struct KeyShare {
  HolderIndex index = 0;
  PrivateKey key;
};

// What the dealer publishes (e.g. in the network manifest).
struct PublicShares {
  uint32_t threshold = 0;            // t
  Element public_key{};              // K = k*G
  std::vector<Element> commitments;  // commitments[i - 1] = K_i, for i = 1..n
};

struct Dealing {
  PublicShares public_shares;
  std::vector<KeyShare> shares;  // shares[i - 1] for holder i
};

// Deals a fresh random key t-of-n: 1 <= t <= n <= kMaxHolders, else
// InvalidArgument. The key and the polynomial are wiped before returning.
[[nodiscard]] absl::StatusOr<Dealing> Deal(uint32_t t, uint32_t n);
// Deals an existing key (consumed and wiped), e.g. one made by DeriveKeyPair.
[[nodiscard]] absl::StatusOr<Dealing> DealKey(PrivateKey key, uint32_t t, uint32_t n);

// The Lagrange coefficients for interpolating at 0 from the given holders:
// lambda_i = prod_{j != i} x_j / (x_j - x_i), in the order given, as
// canonical scalars (public values). InvalidArgument for an empty set, an
// index outside 1..kMaxHolders, or a repeated index.
[[nodiscard]] absl::StatusOr<std::vector<std::array<uint8_t, kScalarBytes>>> LagrangeCoefficients(
    std::span<const HolderIndex> holders);

// One holder's answer to a blinded element.
struct ShareEvaluation {
  HolderIndex holder = 0;
  Element element{};  // Z_i = k_i * blindedElement
  Proof proof{};      // DLEQ proof against K_i (VOPRF mode, batch of one)
};

// A holder's share evaluation: VOPRF BlindEvaluate with proof under k_i.
// OPRF_INVALID_ENCODING for a bad blinded element.
[[nodiscard]] absl::StatusOr<ShareEvaluation> EvaluateShare(const KeyShare& share, const Element& blinded);

// A requester's check of one share as it arrives, so that a holder whose
// share fails can be replaced before combining: the element is valid and not
// the identity, and the proof holds against `commitment` (K_i) for
// (blinded, share.element). OPRF_PROOF_FAILED naming the holder otherwise.
[[nodiscard]] absl::Status VerifyShare(const Element& commitment, const Element& blinded, const ShareEvaluation& share);

// A set of at least t holders whose shares a requester combines, with what
// can be computed once for the set: the Lagrange coefficients and the
// holders' commitments, checked to interpolate to K.
class HolderSet {
 public:
  // InvalidArgument for an index outside 1..n or repeated; OPRF_TOO_FEW_SHARES
  // for fewer than t holders; OPRF_INVALID_ENCODING for a malformed
  // commitment or public key; OPRF_SHARES_INCONSISTENT if the holders'
  // commitments do not interpolate to the public key.
  [[nodiscard]] static absl::StatusOr<HolderSet> New(const PublicShares& public_shares,
                                                     std::span<const HolderIndex> holders);

  std::span<const HolderIndex> holders() const { return holders_; }

  // Verifies the share of every holder in the set against that holder's
  // commitment, then combines them and finalizes like RFC 9497 Finalize:
  // Hash(len || input || len || sum (lambda_i * blind^-1) * Z_i || "Finalize").
  // `shares` holds one share per holder of the set, in any order. Errors,
  // naming holders by index and never giving a wrong output:
  //   OPRF_PROOF_FAILED    shares that fail verification against their
  //                        holder's commitment (a proof that does not hold,
  //                        a malformed or identity element): all named;
  //   OPRF_TOO_FEW_SHARES  a holder of the set without a share;
  //   InvalidArgument      a share from a holder outside the set, a holder
  //                        twice, a blind not made in kVoprf mode, or an
  //                        oversized input.
  //
  // kSharesVerified skips the proofs (about half a derivation's CPU) for a
  // caller that has just checked every share with VerifyShare against this
  // set's commitments and this blinded element; elements are still checked.
  enum class Proofs { kVerify, kSharesVerified };
  [[nodiscard]] absl::StatusOr<Output> CombineAndFinalize(std::span<const uint8_t> input, const Blinded& blinded,
                                                          std::span<const ShareEvaluation> shares,
                                                          Proofs proofs = Proofs::kVerify) const;

 private:
  HolderSet() = default;
  uint32_t threshold_ = 0;
  std::vector<HolderIndex> holders_;
  std::vector<std::array<uint8_t, kScalarBytes>> lambdas_;  // lambdas_[j] for holders_[j]
  std::vector<Element> commitments_;                        // K_i for holders_[j]
};

}  // namespace casenode::oprf
