// Network setup: the operator's ceremony that creates a network, and the
// manifest changes made after it. casectl's `network` commands are a thin
// layer over this (they read passphrases and print); the tests call it directly.
//
// CreateNetwork(plan) makes, under plan.dir (which must be new or empty):
//   network/            the operator's material (network/operator.h), the
//                       signed manifest, and policy/ (a copy of the network
//                       policy whose hash the manifest carries)
//   <org>/              per node: casenode.toml, master.key (0600, unless a
//                       passphrase seals the keys), identity.sealed, cert.pem, data/,
//                       and for a pseudonym key holder oprf-share.sealed: its share
//                       of a freshly dealt network pseudonym key, sealed to the
//                       node's X25519 key (keys/oprf_share.h). The dealt key is
//                       never written.
// Every org spec is checked before anything is written.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "network/manifest.h"
#include "keys/secret.h"

namespace casenode::provision {

struct OrgSpec {
  std::string org;
  network::Role role = network::Role::ROLE_UNSPECIFIED;
  std::string name;  // display name; the org id if none was given
};

// "ORG:ROLE[:DISPLAY NAME]"; the role is school, jeugdhulp, politie, gemeente or auditor.
[[nodiscard]] absl::StatusOr<OrgSpec> ParseOrgSpec(std::string_view text);
// The five organisations of the demo network, as specs.
const std::vector<std::string>& DemoOrgSpecs();

struct NetworkPlan {
  std::string dir;
  std::string network = "regio-flevoland";
  std::vector<OrgSpec> orgs;
  std::string host = "127.0.0.1";
  int base_port = 7101;  // the i-th org listens on base_port + i
  int validity_days = 365;
  // Pseudonym key holders needed, at least 2 and at most the number of
  // holders. A network with fewer than 2 holders gets no pseudonym key.
  uint32_t oprf_threshold = 2;
  std::string policy_dir;  // the network policy to ship (*.toml)
  // Nodes' master keys: key files if `node_passphrase` is empty; otherwise
  // sealed with it, each with its own Argon2id salt, and every casenode.toml
  // names `node_passphrase_env` as where the node reads it.
  keys::SecretBytes node_passphrase;
  std::string node_passphrase_env;
  // The operator's CA and signing keys: network/operator.master.key if empty;
  // otherwise sealed with this passphrase, which must differ from the nodes'.
  keys::SecretBytes operator_passphrase;
  uint32_t argon2_opslimit = 3;
  uint32_t argon2_memlimit_kib = 256 * 1024;
  // If set, the network is for a Kubernetes cluster: each node's endpoint is
  // its Service's cluster name (host and base_port unused), every node listens
  // on 0.0.0.0:7101, and this directory gets the manifests
  // (provision/kubernetes.h), which run `kubernetes_image`.
  std::string kubernetes_dir;
  std::string kubernetes_image;
};

struct CreatedNode {
  std::string org;
  network::Role role = network::Role::ROLE_UNSPECIFIED;
  std::string endpoint;
  std::string config_path;
  std::string socket_path;
};

struct CreatedNetwork {
  std::string network;
  std::string dir;  // absolute
  uint64_t manifest_version = 0;
  std::string policy_hash;
  uint32_t oprf_threshold = 0;  // 0: no pseudonym key (fewer than 2 holders)
  uint32_t oprf_holders = 0;
  std::vector<CreatedNode> nodes;
};

// Roles whose nodes hold a share of the pseudonym key (jeugdhulp, politie, gemeente).
bool HoldsPseudonymShare(network::Role role);

[[nodiscard]] absl::StatusOr<CreatedNetwork> CreateNetwork(const NetworkPlan& plan, SystemTime now);

// Publishes the next manifest version without `org` (also as a pseudonym key
// holder). `operator_master_uri` as in keys/master_key.h; "" for the key file.
[[nodiscard]] absl::StatusOr<uint64_t> RemoveOrg(const std::string& dir, const std::string& org,
                                                 const std::string& operator_master_uri, SystemTime now);

// Certificate renewal without a restart, in two published steps, so that at
// no moment a node presents a certificate a peer does not yet accept (nodes
// pick up each manifest by reload, in any order):
//
//   1. RenewCertificate: issues `org` a new certificate for its existing TLS
//      key (same subject; valid `validity_days` from `now`), writes it to
//      DIR/<org>/cert.next.pem, and publishes a manifest in which peers also
//      accept it (tls_cert_sha256_also). The node still presents the old one.
//   2. FinishRenewal, once every node runs that manifest: publishes one that
//      lists the new certificate as the one presented and the old one as also
//      accepted, then moves cert.next.pem over cert.pem. Each node presents
//      the new certificate from its next reload.
//
// The old certificate stays accepted until the next renewal: it certifies the
// same key, so accepting it gives no one anything the new one does not.
// Both return the version published.
[[nodiscard]] absl::StatusOr<uint64_t> RenewCertificate(const std::string& dir, const std::string& org,
                                                        const std::string& operator_master_uri, SystemTime now,
                                                        int validity_days);
[[nodiscard]] absl::StatusOr<uint64_t> FinishRenewal(const std::string& dir, const std::string& org,
                                                     const std::string& operator_master_uri, SystemTime now);

}  // namespace casenode::provision
