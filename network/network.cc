#include "network/network.h"

#include "base/file.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "keys/x509.h"

namespace casenode::network {

absl::StatusOr<std::unique_ptr<Network>> Network::Load(std::string manifest_path, keys::PublicKey operator_key,
                                                       std::string self_org, Clock clock) {
  std::unique_ptr<Network> n(
      new Network(std::move(manifest_path), operator_key, std::move(self_org), std::move(clock)));
  ASSIGN_OR_RETURN(Manifest m, n->ReadVerified());
  auto snap = std::make_shared<Snapshot>();
  snap->manifest = std::make_shared<const Manifest>(std::move(m));
  n->current_.Store(std::move(snap));
  return n;
}

absl::StatusOr<Manifest> Network::ReadVerified() const {
  ASSIGN_OR_RETURN(std::string text, ReadFile(manifest_path_));
  ASSIGN_OR_RETURN(std::string sig, ReadFile(manifest_path_ + ".sig"));
  return network::VerifyManifest(text, sig, operator_key_, clock_(), self_org_);
}

std::shared_ptr<const Network::Snapshot> Network::snapshot() const { return current_.Load(); }

std::shared_ptr<const Manifest> Network::manifest() const { return snapshot()->manifest; }

ManifestNode Network::self() const {
  const auto m = manifest();
  const ManifestNode* node = m->FindOrg(self_org_);
  return node != nullptr ? *node : ManifestNode{};  // every manifest installed lists this node
}

absl::Status Network::SetVersionFloor(VersionFloor floor) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(std::optional<uint64_t> highest, floor.get());
  const uint64_t version = current_.Load()->manifest->version;
  if (highest && version < *highest) {
    return Error(Reason::kManifestRollback,
                 StrCat("manifest version ", version, " is older than version ", *highest,
                        " that this node has accepted before; install the operator's current manifest"));
  }
  floor_ = std::move(floor);
  return absl::OkStatus();
}

absl::Status Network::CommitVersion() {
  std::lock_guard<std::mutex> lock(mu_);
  return floor_.raise ? floor_.raise(current_.Load()->manifest->version) : absl::OkStatus();
}

absl::Status Network::CheckFresh() const { return CheckFresh(*manifest()); }

absl::Status Network::CheckFresh(const Manifest& manifest) const {
  if (clock_() < manifest.expires_at) return absl::OkStatus();
  return Error(Reason::kManifestExpired, StrCat("manifest version ", manifest.version, " expired at ",
                                                FormatRfc3339(manifest.expires_at),
                                                "; this node answers no peer until a newer one is installed"));
}

absl::StatusOr<uint64_t> Network::Install(Manifest m) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::shared_ptr<const Snapshot> in_force = current_.Load();
  const uint64_t current = in_force->manifest->version;
  if (m.version < current) {
    return Error(Reason::kManifestRollback, StrCat("manifest version ", m.version,
                                                   " is older than the one in force (", current, ")"));
  }
  if (m.network != in_force->manifest->network) {
    return absl::FailedPreconditionError("manifest names another network");
  }
  // Durable first: a crash right after must not let an older manifest back in.
  if (floor_.raise) RETURN_IF_ERROR(floor_.raise(m.version));
  auto snap = std::make_shared<Snapshot>();
  snap->manifest = std::make_shared<const Manifest>(std::move(m));
  const uint64_t version = snap->manifest->version;
  current_.Store(std::move(snap));
  return version;
}

absl::StatusOr<Caller> Network::Identify(std::string_view cert_pem) const {
  const auto snap = snapshot();
  RETURN_IF_ERROR(CheckFresh(*snap->manifest));
  {
    std::shared_lock<std::shared_mutex> lock(snap->mu);
    auto it = snap->by_pem.find(cert_pem);
    if (it != snap->by_pem.end()) return it->second;
  }
  absl::StatusOr<Caller> result = [&]() -> absl::StatusOr<Caller> {
    ASSIGN_OR_RETURN(std::string fp, keys::CertificateFingerprint(cert_pem));
    const ManifestNode* entry = snap->manifest->FindFingerprint(fp);
    if (entry == nullptr) {
      return Error(Reason::kPeerNotInManifest, StrCat("peer certificate is not listed in manifest version ",
                                                          snap->manifest->version));
    }
    ASSIGN_OR_RETURN(keys::CertificateSubject subject, keys::ReadCertificateSubject(cert_pem));
    if (subject.org != entry->org || subject.role != RoleName(entry->role)) {
      return Error(Reason::kPeerCertMismatch, "peer certificate subject disagrees with its manifest entry");
    }
    return Caller{entry->org, entry->role};
  }();
  std::unique_lock<std::shared_mutex> lock(snap->mu);
  if (snap->by_pem.size() >= 4096) snap->by_pem.clear();  // only CA-signed certificates get here; stay bounded
  snap->by_pem.emplace(std::string(cert_pem), result);
  return result;
}

}  // namespace casenode::network
