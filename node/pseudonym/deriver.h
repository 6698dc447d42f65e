// PseudonymDeriver: from a BSN to the child's network pseudonym, with no
// single organisation able to do it and no holder seeing the BSN
// (DESIGN.md, "Pseudonyms").
//
// Derive blinds the BSN (RFC 9497 VOPRF), asks t of the manifest's key
// holders in parallel (Peer EvaluatePseudonym), checks each share's DLEQ proof
// against that holder's commitment, and asks further holders in place of any
// that failed (unreachable, denied, a wrong share) until t shares verify.
// It then combines them (Lagrange coefficients, cached per holder set and
// manifest) and unblinds. With fewer than t good shares the answer is
// OPRF_TOO_FEW_SHARES naming every holder that failed and why, never a
// pseudonym.
//
// The pseudonym is the first 32 bytes of the VOPRF output: the same for every
// node and every set of t holders, and a value of its own (no BSN, no key).
// Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/bsn.h"
#include "keys/oprf/threshold.h"
#include "network/network.h"
#include "node/rpc/peer_client.h"

namespace casenode::node {

using Pseudonym = std::array<uint8_t, 32>;

struct HolderOutcome {
  std::string org;
  uint32_t index = 0;
  absl::Status status;  // OK: its share was used
};

struct Derivation {
  Pseudonym pseudonym{};
  std::vector<HolderOutcome> holders;  // every holder asked, in the order asked
};

class PseudonymDeriver {
 public:
  PseudonymDeriver(const network::Network& network, PeerClient& peers);

  // `purpose` and `legal_basis` go to every holder, whose policy decides; a
  // holder that refuses by policy ends the derivation (the others would
  // refuse alike). Holders not answered by `deadline` count as failed.
  [[nodiscard]] absl::StatusOr<Derivation> Derive(const Bsn& bsn, std::string_view purpose,
                                                  std::string_view legal_basis, const std::string& trace_id,
                                                  PeerClient::Deadline deadline);

 private:
  // The HolderSet for `indices` (sorted) under `manifest`, made once per manifest.
  absl::StatusOr<std::shared_ptr<const oprf::HolderSet>> HolderSetFor(
      const std::shared_ptr<const network::Manifest>& manifest, std::vector<oprf::HolderIndex> indices);

  const network::Network& network_;
  PeerClient& peers_;
  std::mutex mu_;
  // The manifest the cached sets were made for: the snapshot itself, not its
  // version (a manifest of the same version may be installed again).
  std::shared_ptr<const network::Manifest> cached_for_;
  std::map<std::vector<oprf::HolderIndex>, std::shared_ptr<const oprf::HolderSet>> holder_sets_;
};

}  // namespace casenode::node
