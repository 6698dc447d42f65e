#include "network/manifest.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "base/encoding.h"
#include "base/org_id.h"
#include "base/status.h"
#include "keys/oprf/oprf.h"

namespace casenode::network {
namespace {

using nlohmann::json;
constexpr std::string_view kFormat = "casenode-manifest/2";
constexpr uint32_t kMaxOprfIndex = 255;

absl::Status InvalidManifest(std::string_view field, std::string_view expected) {
  return absl::InvalidArgumentError(StrCat("manifest: ", field, ": expected ", expected));
}

absl::Status OnlyKeys(const json& obj, std::string_view where, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return absl::InvalidArgumentError(StrCat("manifest: ", where, ": unknown key \"", Printable(key), "\""));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> GetString(const json& obj, std::string_view where, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return InvalidManifest(StrCat(where, key), "a string");
  return it->get<std::string>();
}

absl::StatusOr<uint64_t> GetUint(const json& obj, std::string_view where, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_unsigned()) return InvalidManifest(StrCat(where, key), "a non-negative integer");
  return it->get<uint64_t>();
}

absl::StatusOr<keys::PublicKey> GetKey(const json& obj, std::string_view where, const char* key) {
  ASSIGN_OR_RETURN(std::string text, GetString(obj, where, key));
  auto bytes = Base64Decode(text, StrCat("manifest: ", where, key));
  if (!bytes.ok() || bytes->size() != 32) return InvalidManifest(StrCat(where, key), "32 bytes in base64");
  keys::PublicKey pk{};
  std::copy(bytes->begin(), bytes->end(), pk.begin());
  return pk;
}

// A canonical ristretto255 encoding, and not the identity (all zero bytes).
bool ValidGroupElement(const keys::PublicKey& p) { return oprf::IsValidElement(p); }

absl::Status Validate(const Manifest& m) {
  if (m.network.empty()) return InvalidManifest("network", "a non-empty name");
  if (m.version == 0) return InvalidManifest("version", "a version of 1 or more");
  if (m.expires_at <= m.issued_at) return InvalidManifest("expires_at", "a time after issued_at");
  if (m.nodes.empty()) return InvalidManifest("nodes", "at least one node");
  std::set<std::string_view> orgs, fingerprints;
  for (size_t i = 0; i < m.nodes.size(); ++i) {
    const ManifestNode& n = m.nodes[i];
    const std::string where = StrCat("nodes[", i, "].");
    if (!ValidOrgId(n.org)) return InvalidManifest(where + "org", kOrgIdSyntax);
    if (!orgs.insert(n.org).second) return InvalidManifest(where + "org", "an organisation id listed once");
    if (n.role == Role::ROLE_UNSPECIFIED) return InvalidManifest(where + "role", "school, jeugdhulp, politie, gemeente or auditor");
    if (n.endpoint.empty() || n.endpoint.find(':') == std::string::npos) return InvalidManifest(where + "endpoint", "host:port");
    if (!IsLowerHex(n.tls_cert_sha256, 64)) {
      return InvalidManifest(where + "tls_cert_sha256", "64 lowercase hex digits");
    }
    if (!fingerprints.insert(n.tls_cert_sha256).second) return InvalidManifest(where + "tls_cert_sha256", "a certificate listed once");
    if (!n.tls_cert_sha256_also.empty()) {
      if (!IsLowerHex(n.tls_cert_sha256_also, 64)) {
        return InvalidManifest(where + "tls_cert_sha256_also", "64 lowercase hex digits");
      }
      if (!fingerprints.insert(n.tls_cert_sha256_also).second) {
        return InvalidManifest(where + "tls_cert_sha256_also", "a certificate listed once");
      }
    }
  }
  std::set<std::string_view> holders;
  std::set<uint32_t> indices;
  for (size_t i = 0; i < m.oprf_holders.size(); ++i) {
    const OprfHolder& h = m.oprf_holders[i];
    const std::string where = StrCat("oprf.holders[", i, "].");
    if (m.FindOrg(h.org) == nullptr) return InvalidManifest(where + "org", "an organisation listed in nodes");
    if (!holders.insert(h.org).second) return InvalidManifest(where + "org", "a holder listed once");
    if (h.index < 1 || h.index > kMaxOprfIndex || !indices.insert(h.index).second) {
      return InvalidManifest(where + "index", "a share index from 1 to 255, each used once");
    }
    if (!ValidGroupElement(h.commitment) || h.commitment == m.oprf_public_key) {
      return InvalidManifest(where + "commitment", "a ristretto255 point other than the identity and the public key");
    }
  }
  if (m.oprf_threshold > m.oprf_holders.size()) return InvalidManifest("oprf.threshold", "at most the number of holders");
  // One holder alone, or t = 1, would let one organisation derive pseudonyms.
  if (!m.oprf_holders.empty() && m.oprf_threshold < 2) return InvalidManifest("oprf.threshold", "at least 2");
  if (!m.oprf_holders.empty() && !ValidGroupElement(m.oprf_public_key)) {
    return InvalidManifest("oprf.public_key", "a ristretto255 point other than the identity");
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::ROLE_SCHOOL: return "school";
    case Role::ROLE_JEUGDHULP: return "jeugdhulp";
    case Role::ROLE_POLITIE: return "politie";
    case Role::ROLE_GEMEENTE: return "gemeente";
    case Role::ROLE_AUDITOR: return "auditor";
    default: return "unspecified";
  }
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::ROLE_SCHOOL, Role::ROLE_JEUGDHULP, Role::ROLE_POLITIE, Role::ROLE_GEMEENTE, Role::ROLE_AUDITOR}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

const ManifestNode* Manifest::FindOrg(std::string_view org) const {
  for (const auto& n : nodes) {
    if (n.org == org) return &n;
  }
  return nullptr;
}

const OprfHolder* Manifest::FindOprfHolder(std::string_view org) const {
  for (const auto& h : oprf_holders) {
    if (h.org == org) return &h;
  }
  return nullptr;
}

const ManifestNode* Manifest::FindFingerprint(std::string_view fp) const {
  for (const auto& n : nodes) {
    if (n.HasCertificate(fp)) return &n;
  }
  return nullptr;
}

absl::StatusOr<std::string> EncodeManifest(const Manifest& m) {
  RETURN_IF_ERROR(Validate(m));
  json nodes = json::array();
  for (const auto& n : m.nodes) {
    json node{{"org", n.org},
              {"name", n.name},
              {"role", RoleName(n.role)},
              {"endpoint", n.endpoint},
              {"tls_cert_sha256", n.tls_cert_sha256},
              {"signing_key", Base64Encode(n.signing_key)},
              {"encryption_key", Base64Encode(n.encryption_key)}};
    if (!n.tls_cert_sha256_also.empty()) node["tls_cert_sha256_also"] = n.tls_cert_sha256_also;
    nodes.push_back(std::move(node));
  }
  json holders = json::array();
  for (const auto& h : m.oprf_holders) {
    holders.push_back(json{{"org", h.org}, {"index", h.index}, {"commitment", Base64Encode(h.commitment)}});
  }
  json doc{{"format", kFormat},
           {"network", m.network},
           {"version", m.version},
           {"issued_at", FormatRfc3339(m.issued_at)},
           {"expires_at", FormatRfc3339(m.expires_at)},
           {"policy_hash", m.policy_hash},
           {"oprf", json{{"threshold", m.oprf_threshold},
                         {"public_key", Base64Encode(m.oprf_public_key)},
                         {"holders", holders}}},
           {"nodes", nodes}};
  return doc.dump(2) + "\n";
}

absl::StatusOr<Manifest> ParseManifest(std::string_view text) {
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return absl::InvalidArgumentError("manifest: not a JSON object");
  RETURN_IF_ERROR(OnlyKeys(doc, "top level",
                           {"format", "network", "version", "issued_at", "expires_at", "policy_hash", "oprf", "nodes"}));
  ASSIGN_OR_RETURN(std::string format, GetString(doc, "", "format"));
  if (format != kFormat) return InvalidManifest("format", kFormat);
  Manifest m;
  ASSIGN_OR_RETURN(m.network, GetString(doc, "", "network"));
  ASSIGN_OR_RETURN(m.version, GetUint(doc, "", "version"));
  ASSIGN_OR_RETURN(std::string issued, GetString(doc, "", "issued_at"));
  ASSIGN_OR_RETURN(m.issued_at, ParseRfc3339(issued, "manifest: issued_at"));
  ASSIGN_OR_RETURN(std::string expires, GetString(doc, "", "expires_at"));
  ASSIGN_OR_RETURN(m.expires_at, ParseRfc3339(expires, "manifest: expires_at"));
  ASSIGN_OR_RETURN(m.policy_hash, GetString(doc, "", "policy_hash"));

  auto oprf = doc.find("oprf");
  if (oprf == doc.end() || !oprf->is_object()) return InvalidManifest("oprf", "an object");
  RETURN_IF_ERROR(OnlyKeys(*oprf, "oprf", {"threshold", "public_key", "holders"}));
  ASSIGN_OR_RETURN(uint64_t threshold, GetUint(*oprf, "oprf.", "threshold"));
  if (threshold > kMaxOprfIndex) return InvalidManifest("oprf.threshold", "at most the number of holders");
  m.oprf_threshold = static_cast<uint32_t>(threshold);
  ASSIGN_OR_RETURN(m.oprf_public_key, GetKey(*oprf, "oprf.", "public_key"));
  auto holders = oprf->find("holders");
  if (holders == oprf->end() || !holders->is_array()) return InvalidManifest("oprf.holders", "an array of holders");
  for (size_t i = 0; i < holders->size(); ++i) {
    const json& jh = (*holders)[i];
    const std::string where = StrCat("oprf.holders[", i, "].");
    if (!jh.is_object()) return InvalidManifest(StrCat("oprf.holders[", i, "]"), "an object");
    RETURN_IF_ERROR(OnlyKeys(jh, StrCat("oprf.holders[", i, "]"), {"org", "index", "commitment"}));
    OprfHolder h;
    ASSIGN_OR_RETURN(h.org, GetString(jh, where, "org"));
    ASSIGN_OR_RETURN(uint64_t index, GetUint(jh, where, "index"));
    if (index > kMaxOprfIndex) return InvalidManifest(where + "index", "a share index from 1 to 255, each used once");
    h.index = static_cast<uint32_t>(index);
    ASSIGN_OR_RETURN(h.commitment, GetKey(jh, where, "commitment"));
    m.oprf_holders.push_back(std::move(h));
  }

  auto nodes = doc.find("nodes");
  if (nodes == doc.end() || !nodes->is_array()) return InvalidManifest("nodes", "an array");
  for (size_t i = 0; i < nodes->size(); ++i) {
    const json& jn = (*nodes)[i];
    const std::string where = StrCat("nodes[", i, "].");
    if (!jn.is_object()) return InvalidManifest(StrCat("nodes[", i, "]"), "an object");
    RETURN_IF_ERROR(OnlyKeys(jn, StrCat("nodes[", i, "]"),
                             {"org", "name", "role", "endpoint", "tls_cert_sha256", "tls_cert_sha256_also",
                              "signing_key", "encryption_key"}));
    ManifestNode n;
    ASSIGN_OR_RETURN(n.org, GetString(jn, where, "org"));
    ASSIGN_OR_RETURN(n.name, GetString(jn, where, "name"));
    ASSIGN_OR_RETURN(std::string role, GetString(jn, where, "role"));
    n.role = ParseRole(role).value_or(Role::ROLE_UNSPECIFIED);
    ASSIGN_OR_RETURN(n.endpoint, GetString(jn, where, "endpoint"));
    ASSIGN_OR_RETURN(n.tls_cert_sha256, GetString(jn, where, "tls_cert_sha256"));
    if (jn.contains("tls_cert_sha256_also")) {
      ASSIGN_OR_RETURN(n.tls_cert_sha256_also, GetString(jn, where, "tls_cert_sha256_also"));
      if (n.tls_cert_sha256_also.empty()) return InvalidManifest(where + "tls_cert_sha256_also", "64 lowercase hex digits");
    }
    ASSIGN_OR_RETURN(n.signing_key, GetKey(jn, where, "signing_key"));
    ASSIGN_OR_RETURN(n.encryption_key, GetKey(jn, where, "encryption_key"));
    m.nodes.push_back(std::move(n));
  }
  RETURN_IF_ERROR(Validate(m));
  return m;
}

std::string SignManifest(const keys::SigningKey& operator_key, std::string_view manifest_bytes) {
  const keys::Signature sig = operator_key.Sign(kManifestContext, AsBytes(manifest_bytes));
  return Base64Encode(sig) + "\n";
}

absl::StatusOr<Manifest> VerifyManifest(std::string_view manifest_bytes, std::string_view signature_text,
                                        const keys::PublicKey& operator_key, SystemTime now, std::string_view self_org) {
  while (!signature_text.empty() && (signature_text.back() == '\n' || signature_text.back() == '\r')) {
    signature_text.remove_suffix(1);
  }
  auto sig = Base64Decode(signature_text, "manifest signature");
  if (!sig.ok() || !keys::VerifySignature(operator_key, kManifestContext, AsBytes(manifest_bytes), *sig)) {
    return absl::PermissionDeniedError("manifest: signature does not verify with the network operator key");
  }
  ASSIGN_OR_RETURN(Manifest m, ParseManifest(manifest_bytes));
  if (now >= m.expires_at) {
    return absl::FailedPreconditionError(StrCat("manifest: version ", m.version, " expired at ",
                                                      FormatRfc3339(m.expires_at), "; ask the operator for a new one"));
  }
  if (now < m.issued_at) {
    return absl::FailedPreconditionError(
        StrCat("manifest: issued_at ", FormatRfc3339(m.issued_at), " is in the future (check the clock)"));
  }
  if (m.FindOrg(self_org) == nullptr) {
    return absl::FailedPreconditionError(StrCat("manifest: version ", m.version,
                                                      " does not list this node's organisation \"", self_org, "\""));
  }
  return m;
}

}  // namespace casenode::network
