// A key holder's share of the network pseudonym key, as the dealer hands it
// over (`casectl network init`): sealed to the holder's X25519 key from the
// manifest (crypto_box_seal), so that only that node can open it.
//
// Plaintext: CanonicalWriter("casenode-oprf-share/v1").String(network).U64(index)
//            || the 32-byte share scalar.
// Opening checks everything the manifest says about the holder (the caller
// reads it from network/manifest.h): the network, the index, and that share·G is the holder's published commitment. A node
// whose share does not match refuses to start (OPRF_SHARE_INVALID), rather
// than answer with evaluations every requester would reject.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "keys/identity.h"
#include "keys/oprf/threshold.h"

namespace casenode::keys {

// The sealed share for a holder whose X25519 public key is `holder_key`.
[[nodiscard]] std::string SealOprfShare(const oprf::KeyShare& share, std::string_view network,
                                        const PublicKey& holder_key);

// What the manifest says about this node as a key holder.
struct OprfHolderClaim {
  std::string_view network;
  uint32_t index = 0;
  PublicKey commitment{};  // share·G
};

// Opens `sealed` with this node's identity and checks it against `claim`.
// OPRF_SHARE_INVALID on any mismatch; the message never contains key bytes.
[[nodiscard]] absl::StatusOr<oprf::KeyShare> OpenOprfShare(std::span<const uint8_t> sealed,
                                                           const NodeIdentity& identity, const OprfHolderClaim& claim);

}  // namespace casenode::keys
