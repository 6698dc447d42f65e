#include "node/prepare.h"

#include <filesystem>

#include "base/file.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "keys/oprf_share.h"
#include "keys/x509.h"
#include "network/operator.h"
#include "node/vocabulary/vocabulary.h"

namespace casenode::node {
namespace {

constexpr std::string_view kManifestVersionCounter = "manifest-version";

// The node's share of the pseudonym key, if the manifest names it a holder:
// opened with its identity and checked against its commitment there.
absl::StatusOr<std::optional<oprf::KeyShare>> LoadOprfShare(const NodeConfig& config, const network::Manifest& manifest,
                                                            const keys::NodeIdentity& identity) {
  const network::OprfHolder* holder = manifest.FindOprfHolder(config.org);
  if (holder == nullptr) return std::nullopt;
  if (config.oprf_share.empty()) {
    return Error(Reason::kOprfShareInvalid,
                 StrCat("keys.oprf_share: the manifest names \"", config.org,
                        "\" a pseudonym key holder; give the file with its share"));
  }
  auto sealed = ReadFile(config.oprf_share);
  if (!sealed.ok()) return Annotate("keys.oprf_share", sealed.status());
  auto share = keys::OpenOprfShare(AsBytes(*sealed), identity,
                                    {manifest.network, holder->index, holder->commitment});
  if (!share.ok()) return Annotate("keys.oprf_share", share.status());
  return std::optional<oprf::KeyShare>(*std::move(share));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const policy::Policy>> LoadPolicy(const NodeConfig& config,
                                                                 const std::string& manifest_policy_hash,
                                                                 v1::PolicyLoad* record) {
  // One read and one compile: the network part checked against the manifest
  // is the one put in force, so a file swapped mid-load cannot slip in
  // unsigned rules.
  auto network = policy::Policy::ReadNetworkSources(config.policy_network);
  if (!network.ok()) return Annotate("policy.network", network.status());
  auto local = policy::Policy::ReadFiles(config.policy_local);
  if (!local.ok()) return Annotate("policy.local", local.status());
  // Errors of the network files name policy.network, those of the local ones policy.local.
  if (auto network_only = policy::Policy::FromSources(*network); !network_only.ok()) {
    return Annotate("policy.network", network_only.status());
  }
  auto loaded = policy::Policy::FromSources(*network, *local);
  if (!loaded.ok()) return Annotate("policy.local", loaded.status());
  // The names the code relies on, before anything is decided under it.
  if (absl::Status lacks = vocab::CheckVocabulary(**loaded); !lacks.ok()) return Annotate("policy.network", lacks);
  if ((*loaded)->network_hash() != manifest_policy_hash) {
    return Error(Reason::kPolicyNotInManifest,
                 StrCat("policy.network: the policy's hash ", (*loaded)->network_hash(),
                        " is not the one the manifest lists (", manifest_policy_hash.empty() ? "none" : manifest_policy_hash,
                        "); the network policy must be the operator's signed version"));
  }
  if (record != nullptr) {
    record->Clear();
    record->set_policy_hash((*loaded)->hash());
    record->set_network_policy_hash((*loaded)->network_hash());
    for (const auto& src : *network) {
      auto* out = record->add_network_sources();
      out->set_name(src.name);
      out->set_text(src.text);
    }
    for (const auto& src : *local) {
      auto* out = record->add_local_sources();
      out->set_name(src.name);
      out->set_text(src.text);
    }
  }
  return loaded;
}

v1::AuditEntry PolicyLoadEntry(v1::PolicyLoad load) {
  v1::AuditEntry entry;
  *entry.mutable_policy_load() = std::move(load);
  return entry;
}

network::Network::VersionFloor ManifestVersionFloor(store::KeyStore& keys) {
  return {[&keys] { return keys.GetCounter(kManifestVersionCounter); },
          [&keys](uint64_t v) { return keys.RaiseCounter(kManifestVersionCounter, v); }};
}

absl::StatusOr<Prepared> Prepare(const NodeConfig& config, Clock clock) {
  auto operator_key = network::ReadPublicKeyFile(config.operator_key);
  if (!operator_key.ok()) return Annotate("network.operator_key", operator_key.status());
  auto network = network::Network::Load(config.manifest, *operator_key, config.org, clock);
  if (!network.ok()) return Annotate("network.manifest", network.status());
  v1::PolicyLoad policy_load;
  auto policy = LoadPolicy(config, (*network)->manifest()->policy_hash, &policy_load);
  if (!policy.ok()) return policy.status();
  auto ca = ReadFile(config.ca_cert);
  if (!ca.ok()) return Annotate("network.ca_cert", ca.status());
  auto cert = ReadFile(config.tls_cert);
  if (!cert.ok()) return Annotate("keys.tls_cert", cert.status());
  auto sealed = ReadFile(config.identity);
  if (!sealed.ok()) return Annotate("keys.identity", sealed.status());

  auto master = keys::MasterKey::Unlock(config.master_key, AsBytes(*sealed));
  if (!master.ok()) return Annotate("keys.master_key", master.status());
  auto plain = master->Open(keys::kNodeIdentityPurpose, AsBytes(*sealed));
  if (!plain.ok()) return Annotate("keys.identity", plain.status());
  auto identity = keys::NodeIdentity::Parse(plain->span());
  if (!identity.ok()) return Annotate("keys.identity", identity.status());

  const network::ManifestNode self = (*network)->self();
  auto fp = keys::CertificateFingerprint(*cert);
  if (!fp.ok()) return Annotate("keys.tls_cert", fp.status());
  if (!self.HasCertificate(*fp)) {
    return absl::FailedPreconditionError(
        StrCat("keys.tls_cert: certificate is not one the manifest lists for \"", config.org, "\""));
  }
  if (auto match = keys::CertificateMatchesKey(*cert, identity->tls_key_pem); !match.ok()) {
    return Annotate("keys.tls_cert", match);
  }
  if (identity->signing.public_key() != self.signing_key || identity->encryption_public != self.encryption_key) {
    return absl::FailedPreconditionError(
        StrCat("keys.identity: keys do not match the manifest entry for \"", config.org, "\""));
  }
  auto share = LoadOprfShare(config, *(*network)->manifest(), *identity);
  if (!share.ok()) return share.status();
  return Prepared{*std::move(network),
                  *std::move(policy),
                  std::move(policy_load),
                  TlsMaterial{*std::move(ca), *std::move(cert), std::move(identity->tls_key_pem)},
                  std::move(identity->signing),
                  CaseIdentity{std::move(identity->encryption_secret), identity->encryption_public},
                  *std::move(master),
                  *std::move(share)};
}

absl::Status RestoreRecords(const NodeConfig& config, const std::string& backup_dir) {
  namespace fs = std::filesystem;
  const std::string target = config.data_dir + "/records";
  if (!fs::exists(backup_dir + "/CURRENT")) {
    return absl::InvalidArgumentError(StrCat("--restore: ", backup_dir, " is not a backup made by casectl node backup"));
  }
  if (fs::exists(target)) {
    return absl::FailedPreconditionError(
        StrCat("--restore: ", target, " exists; stop the node and move it aside before restoring"));
  }
  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  const std::string partial = target + ".restoring";
  fs::remove_all(partial, ec);
  fs::copy(backup_dir, partial, fs::copy_options::recursive, ec);
  if (ec) return absl::UnavailableError(StrCat("--restore: cannot copy ", backup_dir, ": ", ec.message()));
  fs::rename(partial, target, ec);  // the store appears whole or not at all
  if (ec) return absl::UnavailableError(StrCat("--restore: cannot move the copy into ", target, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace casenode::node
