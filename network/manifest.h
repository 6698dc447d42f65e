// The network manifest: one signed document that lists every node of a network.
//
// Format: a JSON file (manifest.json) and, beside it, manifest.json.sig holding
// the base64 Ed25519 signature by the network operator over the file's exact
// bytes (context "manifest/v1", see identity.h). Verification reads the bytes,
// checks the signature, then parses: nothing is ever re-serialised to check a
// signature. Unknown JSON keys are rejected.
//
//   { "format": "casenode-manifest/1", "network": "...", "version": 3,
//     "issued_at": "2026-11-28T12:00:00Z", "expires_at": "2027-11-28T12:00:00Z",
//     "policy_hash": "",
//     "oprf": { "threshold": 2, "public_key": "<base64>",
//               "holders": [ { "org": "jeugdhulp", "index": 1, "commitment": "<base64>" }, ... ] },
//     "nodes": [ { "org": "school", "name": "...", "role": "school",
//                  "endpoint": "127.0.0.1:7101", "tls_cert_sha256": "<hex>",
//                  ["tls_cert_sha256_also": "<hex>",]
//                  "signing_key": "<base64>", "encryption_key": "<base64>" } ] }
//
// The network pseudonym key k is Shamir-shared t-of-n (threshold t) among the
// holders: holder `index` (its x-coordinate, 1..255, fixed for the key's life)
// holds k_index, and `commitment` = k_index·G (ristretto255) lets anyone check
// that holder's evaluations; `public_key` = k·G. Removing a holder keeps the others' indices.
//
// A Manifest value is immutable; share it as shared_ptr<const Manifest>.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "casenode/v1/types.pb.h"
#include "keys/identity.h"

namespace casenode::network {

using Role = casenode::v1::Role;

// "school", "jeugdhulp", "politie", "gemeente", "auditor".
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

struct ManifestNode {
  std::string org;   // organisation id: [a-z0-9-]{1,63}
  std::string name;  // display name
  Role role = Role::ROLE_UNSPECIFIED;
  std::string endpoint;         // host:port of the Peer listener
  std::string tls_cert_sha256;  // lowercase hex: the certificate the node presents
  keys::PublicKey signing_key{};
  keys::PublicKey encryption_key{};
  // Optional: a second certificate of the same node that peers also accept,
  // while a renewal rolls over (provision/network_setup.h: the new one
  // before the node presents it, the old one after). Empty when none.
  std::string tls_cert_sha256_also{};

  // True if `fingerprint` is one of this node's certificates.
  bool HasCertificate(std::string_view fingerprint) const {
    return fingerprint == tls_cert_sha256 || (!tls_cert_sha256_also.empty() && fingerprint == tls_cert_sha256_also);
  }
};

struct OprfHolder {
  std::string org;
  uint32_t index = 0;
  keys::PublicKey commitment{};  // ristretto255 point k_index·G
};

struct Manifest {
  std::string network;
  uint64_t version = 0;
  SystemTime issued_at;
  SystemTime expires_at;
  std::string policy_hash;
  uint32_t oprf_threshold = 0;
  keys::PublicKey oprf_public_key{};  // ristretto255 point k·G; all zero when there are no holders
  std::vector<OprfHolder> oprf_holders;
  std::vector<ManifestNode> nodes;

  const ManifestNode* FindOrg(std::string_view org) const;
  const ManifestNode* FindFingerprint(std::string_view tls_cert_sha256) const;
  const OprfHolder* FindOprfHolder(std::string_view org) const;
};

inline constexpr std::string_view kManifestContext = "manifest/v1";

// The manifest's JSON text. Validates it first (InvalidArgument naming the field).
[[nodiscard]] absl::StatusOr<std::string> EncodeManifest(const Manifest& manifest);
// Parses and validates JSON without checking any signature (for tools).
[[nodiscard]] absl::StatusOr<Manifest> ParseManifest(std::string_view json);

// Signs manifest bytes; returns the text of the .sig file.
std::string SignManifest(const keys::SigningKey& operator_key, std::string_view manifest_bytes);

// Verifies and parses a manifest a node is about to trust. Fails with
// PermissionDenied on a bad signature, FailedPrecondition when expired (at
// `now`) or not yet valid, or when it does not list `self_org`, and
// InvalidArgument when malformed.
[[nodiscard]] absl::StatusOr<Manifest> VerifyManifest(std::string_view manifest_bytes, std::string_view signature_text,
                                        const keys::PublicKey& operator_key, SystemTime now, std::string_view self_org);

}  // namespace casenode::network
