// Network: this node's current, verified view of the network manifest, and
// the mapping from a peer's TLS certificate to its manifest entry.
//
// The manifest is replaced as a whole on Reload(); readers hold a
// shared_ptr<const Manifest> snapshot, so a reload never changes a manifest
// under a running call. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <shared_mutex>
#include <string_view>
#include <optional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "base/snapshot_cell.h"
#include "base/time.h"
#include "network/manifest.h"

namespace casenode::network {

// Who is calling, as established by mTLS and the manifest. Never from a request field.
struct Caller {
  std::string org;
  Role role = Role::ROLE_UNSPECIFIED;
};

class Network {
 public:
  // Reads and verifies the manifest at `manifest_path` (signature beside it).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Network>> Load(std::string manifest_path, keys::PublicKey operator_key,
                                                       std::string self_org, Clock clock);

  std::shared_ptr<const Manifest> manifest() const;
  const std::string& self_org() const { return self_org_; }
  // This node's entry in the manifest in force (a copy: a reload may replace
  // the manifest at any time).
  ManifestNode self() const;

  // Reads and verifies the manifest file, without installing it.
  [[nodiscard]] absl::StatusOr<Manifest> ReadVerified() const;
  // Installs a verified manifest. Refuses (and keeps the current one) a lower
  // version (MANIFEST_ROLLBACK) or another network; persists the version
  // before it takes effect. Returns the version in force afterwards.
  [[nodiscard]] absl::StatusOr<uint64_t> Install(Manifest manifest);

  // The highest manifest version this node has accepted, kept durably (see
  // KeyStore::RaiseCounter). With a floor set, the manifest in force must be
  // at least as new as every one accepted before, across restarts:
  // FailedPrecondition with reason MANIFEST_ROLLBACK otherwise.
  struct VersionFloor {
    std::function<absl::StatusOr<std::optional<uint64_t>>()> get;
    std::function<absl::Status(uint64_t)> raise;
  };
  // Checks the manifest in force against `floor` and keeps it; nothing is
  // written yet (so `casenode --check-config` changes nothing).
  [[nodiscard]] absl::Status SetVersionFloor(VersionFloor floor);
  // Raises the floor to the manifest in force: the node has accepted it.
  // Install() does the same for every manifest it installs.
  [[nodiscard]] absl::Status CommitVersion();

  // OK while the manifest in force has not expired (by the injected clock);
  // FailedPrecondition with reason MANIFEST_EXPIRED after. A node with an
  // expired manifest answers no peer until a newer one is installed.
  [[nodiscard]] absl::Status CheckFresh() const;

  // Identifies a peer by its verified TLS certificate (PEM) in the manifest
  // in force, if it is fresh (else as CheckFresh). Unauthenticated with
  // reason PEER_NOT_IN_MANIFEST if the certificate is not listed, or
  // PEER_CERT_MISMATCH if its subject disagrees with the manifest entry.
  [[nodiscard]] absl::StatusOr<Caller> Identify(std::string_view cert_pem) const;

 private:
  struct Snapshot {
    std::shared_ptr<const Manifest> manifest;
    // PEM -> result, so the per-call cost is one hash lookup, not an X.509 parse.
    // Read on every Peer call by many threads, written once per new peer.
    mutable std::shared_mutex mu;
    struct PemHash {
      using is_transparent = void;  // look up by string_view: no copy of the PEM per call
      size_t operator()(std::string_view pem) const { return std::hash<std::string_view>{}(pem); }
    };
    mutable std::unordered_map<std::string, absl::StatusOr<Caller>, PemHash, std::equal_to<>> by_pem;
  };

  Network(std::string manifest_path, keys::PublicKey operator_key, std::string self_org, Clock clock)
      : manifest_path_(std::move(manifest_path)), operator_key_(operator_key), self_org_(std::move(self_org)),
        clock_(std::move(clock)) {}
  std::shared_ptr<const Snapshot> snapshot() const;
  [[nodiscard]] absl::Status CheckFresh(const Manifest& manifest) const;

  const std::string manifest_path_;
  const keys::PublicKey operator_key_;
  const std::string self_org_;
  const Clock clock_;
  mutable std::mutex mu_;  // serialises installs and the floor; readers take current_ without it
  SnapshotCell<Snapshot> current_;
  VersionFloor floor_;  // guarded by mu_
};

}  // namespace casenode::network
