#include "provision/network_setup.h"

#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "base/file.h"
#include "base/org_id.h"
#include "base/status.h"
#include "base/strings.h"
#include "keys/identity.h"
#include "keys/master_key.h"
#include "network/operator.h"
#include "keys/oprf/threshold.h"
#include "keys/oprf_share.h"
#include "keys/x509.h"
#include "node/config/config.h"
#include "node/vocabulary/vocabulary.h"
#include "provision/kubernetes.h"
#include "policy/policy.h"

namespace casenode::provision {
namespace {

namespace fs = std::filesystem;

// A key holder's sealed share of the pseudonym key, in its node directory.
constexpr char kShareFile[] = "oprf-share.sealed";

bool SamePassphrase(const keys::SecretBytes& a, const keys::SecretBytes& b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// With its own passphrase, the operator's CA and signing keys are sealed under
// it: a key file beside them would leave them as exposed as if they were in
// the clear. Without one, DIR/network/operator.master.key. Never the nodes'
// passphrase: every organisation's IT knows that one, and whoever holds the
// operator's keys can issue certificates and sign manifests for the network.
absl::StatusOr<network::NetworkOperator> CreateOperator(const NetworkPlan& plan, const std::string& dir, SystemTime now) {
  if (plan.operator_passphrase.empty()) return network::NetworkOperator::Create(dir, plan.network, "", now);
  ASSIGN_OR_RETURN(
      keys::MasterKey master,
      keys::MasterKey::FromPassphrase(plan.operator_passphrase,
                                      keys::KdfParams::NewArgon2id(plan.argon2_opslimit, plan.argon2_memlimit_kib)));
  return network::NetworkOperator::Create(dir, plan.network, master, now);
}

absl::Status CheckPlan(const NetworkPlan& plan) {
  if (plan.orgs.empty()) return absl::InvalidArgumentError("a network needs at least one organisation");
  std::set<std::string_view> seen;
  for (const OrgSpec& spec : plan.orgs) {
    if (!ValidOrgId(spec.org)) {
      return absl::InvalidArgumentError(StrCat("org \"", Printable(spec.org), "\": expected ", kOrgIdSyntax));
    }
    if (!seen.insert(spec.org).second) {
      return absl::InvalidArgumentError(StrCat("org \"", spec.org, "\" is listed twice"));
    }
    if (network::RoleName(spec.role).empty() || spec.role == network::Role::ROLE_UNSPECIFIED) {
      return absl::InvalidArgumentError(StrCat("org \"", spec.org, "\": no role"));
    }
  }
  if (!plan.kubernetes_dir.empty()) RETURN_IF_ERROR(CheckKubernetesPlan(plan));
  if (plan.base_port < 1 || plan.base_port + static_cast<int>(plan.orgs.size()) > 65536) {
    return absl::InvalidArgumentError(
        StrCat("base port ", plan.base_port, ": the ", plan.orgs.size(), " nodes need ports within 1-65535"));
  }
  if (plan.validity_days < 1) return absl::InvalidArgumentError("validity: at least one day");
  if (plan.oprf_threshold < 2) {
    return absl::InvalidArgumentError(
        "pseudonym key threshold: at least 2, so that no single organisation can derive pseudonyms");
  }
  const auto holders =
      std::count_if(plan.orgs.begin(), plan.orgs.end(), [](const OrgSpec& o) { return HoldsPseudonymShare(o.role); });
  if (holders >= 2 && static_cast<uint32_t>(holders) < plan.oprf_threshold) {
    return absl::InvalidArgumentError(StrCat("pseudonym key threshold ", plan.oprf_threshold, ": the network has only ",
                                             holders, " key holders (jeugdhulp, politie and gemeente nodes)"));
  }
  if (!plan.node_passphrase.empty() && plan.node_passphrase_env.empty()) {
    return absl::InvalidArgumentError("a node passphrase needs the name of the variable the nodes read it from");
  }
  if (!plan.operator_passphrase.empty() && SamePassphrase(plan.operator_passphrase, plan.node_passphrase)) {
    return absl::InvalidArgumentError("the operator's passphrase must differ from the nodes' passphrase");
  }
  if (fs::exists(plan.dir) && !fs::is_empty(plan.dir)) {
    return absl::FailedPreconditionError(StrCat(plan.dir, " exists and is not empty"));
  }
  return absl::OkStatus();
}

// The network policy travels with the network: copied beside the manifest,
// its hash signed into it.
// The network policy compiles and names everything the daemon relies on
// (node/vocabulary): checked before anything is written, as every node
// would refuse to start on it.
absl::Status CheckPolicy(const std::string& dir) {
  auto policy = policy::Policy::Load(dir);
  if (!policy.ok()) return Annotate("network policy", policy.status());
  return Annotate("network policy", node::vocab::CheckVocabulary(**policy));
}

absl::StatusOr<std::string> ShipPolicy(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return absl::UnavailableError(StrCat("cannot create ", to, ": ", ec.message()));
  for (const auto& e : fs::directory_iterator(from, ec)) {
    if (!e.is_regular_file() || e.path().extension() != ".toml") continue;
    ASSIGN_OR_RETURN(std::string text, ReadFile(e.path().string()));
    RETURN_IF_ERROR(WriteFileAtomic(to + "/" + e.path().filename().string(), text, 0644));
  }
  if (ec) return absl::InvalidArgumentError(StrCat("network policy: cannot read ", from, ": ", ec.message()));
  auto policy = policy::Policy::Load(to);
  if (!policy.ok()) return Annotate("network policy", policy.status());
  return (*policy)->hash();
}

// One node's directory; returns its manifest entry.
absl::StatusOr<network::ManifestNode> CreateNode(const NetworkPlan& plan, const network::NetworkOperator& op,
                                              const OrgSpec& spec, const std::string& node_dir,
                                              const std::string& endpoint, bool key_holder, SystemTime now,
                                              SystemTime not_after) {
  std::error_code ec;
  fs::create_directories(node_dir + "/data", ec);
  if (ec) return absl::UnavailableError(StrCat("cannot create ", node_dir, ": ", ec.message()));

  std::string master_uri = "file:master.key";
  if (plan.node_passphrase.empty()) {
    RETURN_IF_ERROR(keys::MasterKey::CreateKeyFile(node_dir + "/master.key"));
  } else {
    master_uri = "passphrase-env:" + plan.node_passphrase_env;
  }
  ASSIGN_OR_RETURN(
      keys::MasterKey master,
      plan.node_passphrase.empty()
          ? keys::MasterKey::FromKeyFile(node_dir + "/master.key")
          : keys::MasterKey::FromPassphrase(
                plan.node_passphrase, keys::KdfParams::NewArgon2id(plan.argon2_opslimit, plan.argon2_memlimit_kib)));
  ASSIGN_OR_RETURN(keys::SecretBytes tls_key, keys::NewTlsKeyPem());
  ASSIGN_OR_RETURN(std::string cert, op.IssueCertificate(tls_key, spec.org, std::string(network::RoleName(spec.role)),
                                                         now - std::chrono::minutes(5), not_after));
  const keys::NodeIdentity identity = keys::NodeIdentity::Generate(std::move(tls_key));
  RETURN_IF_ERROR(WriteFileAtomic(node_dir + "/identity.sealed",
                                  master.Seal(keys::kNodeIdentityPurpose, identity.Serialize().span()), 0600));
  RETURN_IF_ERROR(WriteFileAtomic(node_dir + "/cert.pem", cert, 0644));
  ASSIGN_OR_RETURN(std::string fingerprint, keys::CertificateFingerprint(cert));

  node::NodeConfig config;
  config.org = spec.org;
  config.data_dir = "data";
  config.manifest = "../network/manifest.json";
  config.operator_key = "../network/operator.pub";
  config.ca_cert = "../network/ca.pem";
  config.master_key = master_uri;
  config.identity = "identity.sealed";
  config.tls_cert = "cert.pem";
  if (key_holder) config.oprf_share = kShareFile;
  config.peer_listen = plan.kubernetes_dir.empty() ? endpoint : StrCat("0.0.0.0:", kKubernetesPeerPort);
  config.policy_network = "../network/policy";
  config.local_socket = "local.sock";
  RETURN_IF_ERROR(WriteFileAtomic(node_dir + "/casenode.toml", config.ToToml(), 0644));
  return network::ManifestNode{
      spec.org, spec.name, spec.role, endpoint, fingerprint, identity.signing.public_key(), identity.encryption_public};
}

// The dealer ceremony: a fresh network pseudonym key, shared t-of-n among
// `holders` (holder i gets index i + 1), each share sealed to its holder's
// X25519 key; the public key and the commitments go into the manifest. The
// key itself exists only inside oprf::Deal, which wipes it; no copy is written.
absl::Status DealPseudonymKey(const NetworkPlan& plan, const std::string& dir,
                              const std::vector<const network::ManifestNode*>& holders, network::Manifest& manifest) {
  // With fewer than two holders one organisation would hold the whole key:
  // such a network has no pseudonyms (CheckPlan refused t above the holders).
  if (holders.size() < 2) return absl::OkStatus();
  const uint32_t t = plan.oprf_threshold;
  ASSIGN_OR_RETURN(oprf::Dealing dealing, oprf::Deal(t, static_cast<uint32_t>(holders.size())));
  manifest.oprf_threshold = t;
  manifest.oprf_public_key = dealing.public_shares.public_key;
  for (size_t i = 0; i < holders.size(); ++i) {
    const oprf::KeyShare& share = dealing.shares[i];
    RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + holders[i]->org + "/" + kShareFile,
                                    keys::SealOprfShare(share, plan.network, holders[i]->encryption_key), 0600));
    manifest.oprf_holders.push_back({holders[i]->org, share.index, dealing.public_shares.commitments[i]});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<OrgSpec> ParseOrgSpec(std::string_view text) {
  const size_t a = text.find(':');
  if (a == std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat("\"", Printable(text), "\": expected ORG:ROLE[:DISPLAY NAME]"));
  }
  const size_t b = text.find(':', a + 1);
  OrgSpec spec;
  spec.org = std::string(text.substr(0, a));
  const std::string_view role = text.substr(a + 1, b == std::string_view::npos ? std::string_view::npos : b - a - 1);
  const auto parsed = network::ParseRole(role);
  if (!parsed) {
    return absl::InvalidArgumentError(StrCat("\"", Printable(text), "\": role \"", Printable(role),
                                             "\" is not school, jeugdhulp, politie, gemeente or auditor"));
  }
  if (!ValidOrgId(spec.org)) {
    return absl::InvalidArgumentError(
        StrCat("\"", Printable(text), "\": org \"", Printable(spec.org), "\" is not ", kOrgIdSyntax));
  }
  spec.role = *parsed;
  spec.name = b == std::string_view::npos ? spec.org : std::string(text.substr(b + 1));
  return spec;
}

const std::vector<std::string>& DemoOrgSpecs() {
  static const std::vector<std::string> specs = {
      "school:school:OBS De Regenboog",
      "jeugdhulp:jeugdhulp:Jeugdhulp Flevoland",
      "politie:politie:Politie Midden-Nederland",
      "gemeente:gemeente:Gemeente Almere",
      "auditor:auditor:Functionaris Gegevensbescherming",
  };
  return specs;
}

bool HoldsPseudonymShare(network::Role role) {
  return role == network::Role::ROLE_JEUGDHULP || role == network::Role::ROLE_POLITIE || role == network::Role::ROLE_GEMEENTE;
}

absl::StatusOr<CreatedNetwork> CreateNetwork(const NetworkPlan& plan, SystemTime now) {
  RETURN_IF_ERROR(CheckPlan(plan));
  RETURN_IF_ERROR(CheckPolicy(plan.policy_dir));
  const std::string dir = fs::absolute(plan.dir).lexically_normal().string();
  const SystemTime not_after = now + std::chrono::days(plan.validity_days);
  ASSIGN_OR_RETURN(network::NetworkOperator op, CreateOperator(plan, dir + "/network", now));

  network::Manifest manifest;
  manifest.network = plan.network;
  manifest.version = 1;
  manifest.issued_at = now;
  manifest.expires_at = not_after;
  ASSIGN_OR_RETURN(manifest.policy_hash, ShipPolicy(plan.policy_dir, dir + "/network/policy"));

  CreatedNetwork created{plan.network, dir, manifest.version, manifest.policy_hash, 0, 0, {}};
  std::vector<const network::ManifestNode*> holders;
  manifest.nodes.reserve(plan.orgs.size());  // `holders` points into it
  for (size_t i = 0; i < plan.orgs.size(); ++i) {
    const OrgSpec& spec = plan.orgs[i];
    const std::string node_dir = dir + "/" + spec.org;
    const std::string endpoint = plan.kubernetes_dir.empty()
                                     ? StrCat(plan.host, ":", plan.base_port + static_cast<int>(i))
                                     : KubernetesEndpoint(spec.org);
    ASSIGN_OR_RETURN(network::ManifestNode entry,
                     CreateNode(plan, op, spec, node_dir, endpoint, HoldsPseudonymShare(spec.role), now, not_after));
    manifest.nodes.push_back(std::move(entry));
    if (HoldsPseudonymShare(spec.role)) holders.push_back(&manifest.nodes.back());
    created.nodes.push_back({spec.org, spec.role, endpoint, node_dir + "/casenode.toml", node_dir + "/local.sock"});
  }
  RETURN_IF_ERROR(DealPseudonymKey(plan, dir, holders, manifest));
  created.oprf_threshold = manifest.oprf_threshold;
  created.oprf_holders = static_cast<uint32_t>(manifest.oprf_holders.size());
  RETURN_IF_ERROR(op.Publish(manifest));
  if (!plan.kubernetes_dir.empty()) RETURN_IF_ERROR(WriteKubernetes(plan, created, plan.kubernetes_dir));
  return created;
}

namespace {

// The manifest's next version, published with `change` applied to `org`'s entry.
template <typename Change>
absl::StatusOr<uint64_t> PublishChange(const network::NetworkOperator& op, network::Manifest m, const std::string& org,
                                       SystemTime now, Change change) {
  network::ManifestNode* node = nullptr;
  for (network::ManifestNode& n : m.nodes) {
    if (n.org == org) node = &n;
  }
  if (node == nullptr) {
    return absl::InvalidArgumentError(StrCat("org \"", Printable(org), "\" is not in manifest version ", m.version));
  }
  RETURN_IF_ERROR(change(*node));
  m.version += 1;
  m.issued_at = std::min(now, m.expires_at - std::chrono::seconds(1));
  RETURN_IF_ERROR(op.Publish(m));
  return m.version;
}

// One operator command at a time may change a network's manifest: two at
// once would publish the same version, and one change would be lost.
absl::StatusOr<FileLock> LockOperator(const std::string& dir) {
  return FileLock::TryAcquire(dir + "/network/operator.lock");
}

std::string NodeCertPath(const std::string& dir, const std::string& org, bool next) {
  return StrCat(dir, "/", org, next ? "/cert.next.pem" : "/cert.pem");
}

}  // namespace

absl::StatusOr<uint64_t> RenewCertificate(const std::string& dir, const std::string& org,
                                          const std::string& operator_master_uri, SystemTime now, int validity_days) {
  if (!ValidOrgId(org)) return absl::InvalidArgumentError(StrCat("org \"", Printable(org), "\": expected ", kOrgIdSyntax));
  if (validity_days < 1) return absl::InvalidArgumentError("validity: at least one day");
  ASSIGN_OR_RETURN(FileLock lock, LockOperator(dir));
  ASSIGN_OR_RETURN(network::NetworkOperator op, network::NetworkOperator::Open(dir + "/network", operator_master_uri));
  ASSIGN_OR_RETURN(network::Manifest m, op.Current());
  const network::ManifestNode* entry = m.FindOrg(org);
  if (entry == nullptr) {
    return absl::InvalidArgumentError(StrCat("org \"", org, "\" is not in manifest version ", m.version));
  }
  const std::string current_path = NodeCertPath(dir, org, false);
  ASSIGN_OR_RETURN(std::string current, ReadFile(current_path));
  ASSIGN_OR_RETURN(std::string current_fp, keys::CertificateFingerprint(current));
  if (current_fp != entry->tls_cert_sha256) {
    return absl::FailedPreconditionError(
        StrCat(current_path, " is not the certificate the manifest lists for \"", org,
               "\"; finish the renewal under way first (casectl network renew ", dir, " ", org, " --finish)"));
  }
  ASSIGN_OR_RETURN(std::string renewed,
                   op.RenewCertificate(current, now - std::chrono::minutes(5), now + std::chrono::days(validity_days)));
  ASSIGN_OR_RETURN(std::string renewed_fp, keys::CertificateFingerprint(renewed));
  // The certificate first: a manifest must never name one the directory lacks.
  RETURN_IF_ERROR(WriteFileAtomic(NodeCertPath(dir, org, true), renewed, 0644));
  return PublishChange(op, std::move(m), org, now, [&](network::ManifestNode& n) {
    n.tls_cert_sha256_also = renewed_fp;
    return absl::OkStatus();
  });
}

absl::StatusOr<uint64_t> FinishRenewal(const std::string& dir, const std::string& org,
                                       const std::string& operator_master_uri, SystemTime now) {
  if (!ValidOrgId(org)) return absl::InvalidArgumentError(StrCat("org \"", Printable(org), "\": expected ", kOrgIdSyntax));
  ASSIGN_OR_RETURN(FileLock lock, LockOperator(dir));
  ASSIGN_OR_RETURN(network::NetworkOperator op, network::NetworkOperator::Open(dir + "/network", operator_master_uri));
  ASSIGN_OR_RETURN(network::Manifest m, op.Current());
  const std::string next_path = NodeCertPath(dir, org, true);
  if (!fs::exists(next_path)) {
    return absl::FailedPreconditionError(
        StrCat("no renewal of \"", org, "\" is under way (", next_path, " does not exist); start one with casectl network renew ",
               dir, " ", org));
  }
  ASSIGN_OR_RETURN(std::string next, ReadFile(next_path));
  ASSIGN_OR_RETURN(std::string next_fp, keys::CertificateFingerprint(next));
  // Published before, and the move interrupted: finish the move only.
  const network::ManifestNode* entry = m.FindOrg(org);
  const bool published = entry != nullptr && entry->tls_cert_sha256 == next_fp;
  ASSIGN_OR_RETURN(uint64_t version, published ? m.version : PublishChange(op, std::move(m), org, now, [&](network::ManifestNode& n) {
    if (n.tls_cert_sha256_also != next_fp) {
      return absl::FailedPreconditionError(StrCat(next_path, " is not the certificate the manifest's renewal step lists for \"",
                                                  org, "\""));
    }
    std::swap(n.tls_cert_sha256, n.tls_cert_sha256_also);
    return absl::OkStatus();
  }));
  std::error_code ec;
  fs::rename(next_path, NodeCertPath(dir, org, false), ec);
  if (ec) {
    return absl::UnavailableError(StrCat("manifest version ", version, " is published, but ", next_path,
                                         " could not be moved over cert.pem: ", ec.message(), "; move it by hand"));
  }
  return version;
}

absl::StatusOr<uint64_t> RemoveOrg(const std::string& dir, const std::string& org,
                                   const std::string& operator_master_uri, SystemTime now) {
  const std::string op_dir = dir + "/network";
  ASSIGN_OR_RETURN(FileLock lock, LockOperator(dir));
  ASSIGN_OR_RETURN(network::NetworkOperator op, network::NetworkOperator::Open(op_dir, operator_master_uri));
  ASSIGN_OR_RETURN(network::Manifest m, op.Current());
  if (m.FindOrg(org) == nullptr) {
    return absl::InvalidArgumentError(StrCat("org \"", Printable(org), "\" is not in manifest version ", m.version));
  }
  // The threshold is the degree of the sharing polynomial, not a setting: it
  // stays. With fewer than t holders left no pseudonym can be derived again.
  if (m.FindOprfHolder(org) != nullptr && m.oprf_holders.size() - 1 < m.oprf_threshold) {
    return absl::FailedPreconditionError(StrCat("removing \"", org, "\" would leave ", m.oprf_holders.size() - 1,
                                                " pseudonym key holders, fewer than the threshold of ",
                                                m.oprf_threshold, "; set up the network anew to deal a new key"));
  }
  std::erase_if(m.nodes, [&](const network::ManifestNode& n) { return n.org == org; });
  std::erase_if(m.oprf_holders, [&](const network::OprfHolder& h) { return h.org == org; });
  m.version += 1;
  m.issued_at = std::min(now, m.expires_at - std::chrono::seconds(1));
  RETURN_IF_ERROR(op.Publish(m));
  return m.version;
}

}  // namespace casenode::provision
