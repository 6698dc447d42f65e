// The discrete-log-equality proof of RFC 9497 section 2.2: a prover who knows
// k with B = k*A shows that D[i] = k*C[i] for every i, batched through
// composite elements, without revealing k. Here A is always the generator G
// (VOPRF mode). Internal to keys/oprf. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "keys/oprf/oprf.h"

namespace casenode::oprf::internal {

// The composite seed of ComputeComposites(Fast): Hash(I2OSP(len(Bm), 2) || Bm
// || I2OSP(len(seedDST), 2) || seedDST). Depends only on the mode and B.
std::array<uint8_t, 64> CompositeSeed(Mode mode, const Element& B);

// GenerateProof(k, G, B, C, D) with the random scalar `r` given (the RFC's
// ProofRandomScalar). C and D: checked elements, same length, 1 to kMaxBatch.
// k and r are secret; nothing derived from them is left in memory but the
// proof. REQUIRES: B = k*G, D[i] = k*C[i], r non-zero.
Proof GenerateProof(Mode mode, const uint8_t* k, const Element& B, std::span<const Element> C,
                    std::span<const Element> D, const uint8_t* r);

// VerifyProof(G, B, C, D, proof). B, C and D: checked elements, C and D of the
// same length, 1 to kMaxBatch. OK, OPRF_INVALID_ENCODING for a proof scalar
// that is not canonical, or OPRF_PROOF_FAILED ("evaluation proof does not
// verify") for a proof that does not hold.
[[nodiscard]] absl::Status VerifyProof(Mode mode, const Element& B, std::span<const Element> C,
                                       std::span<const Element> D, const Proof& proof);

}  // namespace casenode::oprf::internal
