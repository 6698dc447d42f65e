#include "base/log.h"
#include "base/reason.h"
#include "base/status.h"
#include "keys/x509.h"
#include "node/parts.h"

namespace casenode::node {

absl::StatusOr<uint64_t> Node::Reload() { return parts_->Reload(); }

absl::StatusOr<uint64_t> Node::Parts::Reload() {
  // One reload at a time, so a manifest is never put in force with another
  // reload's policy, and each is logged with what it put in force.
  std::lock_guard<std::mutex> reloading(reload_mu);
  absl::StatusOr<uint64_t> version = ReloadLocked();
  if (version.ok()) {
    Log(LogLevel::kInfo, "manifest.reloaded", {{"manifest_version", *version}, {"policy_hash", gate.policy()->hash()}});
    return version;
  }
  // Whatever failed (a malformed file, an older manifest), the node is fine:
  // it keeps what it had. The caller's request was not at fault.
  const Reason why = ReasonOf(version.status());
  version = WithReason(Annotate("reload refused, the manifest and policy in force are unchanged",
                                absl::FailedPreconditionError(version.status().message())),
                       why == Reason::kNone ? Reason::kReloadRefused : why);
  Log(LogLevel::kError, "manifest.reload_failed",
      {{"error", std::string_view(version.status().message().data(), version.status().message().size())},
       {"kept_version", network->manifest()->version}});
  return version;
}

absl::StatusOr<uint64_t> Node::Parts::ReloadLocked() {
  // Both are read and checked before either is installed, so a bad policy
  // leaves the old manifest and policy in force together.
  auto manifest = network->ReadVerified();
  if (!manifest.ok()) return Annotate("network.manifest", manifest.status());
  v1::PolicyLoad policy_load;
  ASSIGN_OR_RETURN(std::shared_ptr<const policy::Policy> policy,
                   LoadPolicy(config, manifest->policy_hash, &policy_load));
  // A holder's share must still be the one the new manifest commits to.
  const network::OprfHolder* holder = manifest->FindOprfHolder(config.org);
  if ((holder != nullptr) != oprf_share.has_value() ||
      (holder != nullptr && (holder->index != oprf_share->index ||
                             holder->commitment != oprf_share->key.public_key()))) {
    return Error(Reason::kOprfShareInvalid,
                 "network.manifest: it changes this node's pseudonym key share; restart with the new share");
  }
  // A changed policy is logged before it decides anything; if it cannot be
  // logged, it is not put in force.
  if (policy->hash() != gate.policy()->hash()) {
    RETURN_IF_ERROR(audit->Append(PolicyLoadEntry(std::move(policy_load)), store::Durability::kSynced));
  }
  ASSIGN_OR_RETURN(std::string cert, CertificateToPresent(*manifest, config.org, config.tls_cert, *tls));
  ASSIGN_OR_RETURN(uint64_t v, network->Install(*std::move(manifest)));
  gate.SetPolicy(std::move(policy));
  if (cert != tls->cert_pem()) {
    // The manifest in force lists both; a failed swap keeps the old one.
    auto fp = keys::CertificateFingerprint(cert);
    if (absl::Status swapped = tls->SetCertificate(cert); !swapped.ok()) {
      Log(LogLevel::kError, "tls.certificate_change_failed",
          {{"error", std::string(swapped.message())}, {"tls_cert_sha256", fp.ok() ? *fp : std::string()}});
    } else {
      peers.Reconnect();  // new connections, this node's own included, present the new one
      Log(LogLevel::kInfo, "tls.certificate_changed", {{"tls_cert_sha256", fp.ok() ? *fp : std::string()}});
    }
  }
  return v;
}

}  // namespace casenode::node
