// What a node reads and checks before it opens its stores, and the offline
// operations on its files: the verified manifest, the policy (checked against
// the manifest and the code's vocabulary), the unsealed identity checked
// against the manifest, and the pseudonym key share. Every error names the
// config key or file at fault, never key bytes.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "casenode/v1/types.pb.h"
#include "keys/identity.h"
#include "keys/master_key.h"
#include "keys/oprf/threshold.h"
#include "network/network.h"
#include "node/cases/case_host.h"
#include "node/config/config.h"
#include "node/rpc/tls.h"
#include "policy/policy.h"
#include "store/key_store.h"

namespace casenode::node {

// Everything a node needs before it opens its stores.
struct Prepared {
  std::unique_ptr<network::Network> network;
  std::shared_ptr<const policy::Policy> policy;
  v1::PolicyLoad policy_load;  // for the audit log, written at Start
  TlsMaterial tls;
  keys::SigningKey signing;
  CaseIdentity case_identity;  // opens the invitations sealed to this node
  keys::MasterKey master;
  std::optional<oprf::KeyShare> oprf_share;
};

// Reads and checks it all; writes nothing.
[[nodiscard]] absl::StatusOr<Prepared> Prepare(const NodeConfig& config, Clock clock);

// Loads the network policy (whose hash must equal the manifest's policy_hash)
// and the local rule files of `config`, and checks the vocabulary the code
// relies on (node/vocabulary). If `record` is given, it gets the sources and
// hashes for the audit log.
[[nodiscard]] absl::StatusOr<std::shared_ptr<const policy::Policy>> LoadPolicy(const NodeConfig& config,
                                                                               const std::string& manifest_policy_hash,
                                                                               v1::PolicyLoad* record = nullptr);

// The audit entry that puts a loaded policy in force.
v1::AuditEntry PolicyLoadEntry(v1::PolicyLoad load);

// The highest manifest version this node accepted, kept as a key-store
// counter so that restoring the records cannot roll it back.
network::Network::VersionFloor ManifestVersionFloor(store::KeyStore& keys);

// Copies a backup made by Store::Checkpoint into config.data_dir/records.
// FailedPrecondition if that directory exists; InvalidArgument if `backup_dir`
// is not a record store backup. The node must not be running.
[[nodiscard]] absl::Status RestoreRecords(const NodeConfig& config, const std::string& backup_dir);

}  // namespace casenode::node
