#include "network/operator.h"

#include <filesystem>

#include "base/strings.h"
#include "base/file.h"
#include "base/status.h"

namespace casenode::network {
namespace {

std::string DefaultMasterUri(const std::string& dir, const std::string& uri) {
  return uri.empty() ? StrCat("file:", dir, "/operator.master.key") : uri;
}

// AlreadyExists if `dir` holds an operator; creates it if missing.
absl::Status PrepareDir(const std::string& dir) {
  namespace fs = std::filesystem;
  if (fs::exists(dir + "/ca.pem") || fs::exists(dir + "/operator.pub")) {
    return absl::AlreadyExistsError(StrCat(dir, " already holds a network operator"));
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(StrCat("cannot create ", dir, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<NetworkOperator> NetworkOperator::Create(const std::string& dir, const std::string& network,
                                                        std::string master_uri, SystemTime now) {
  RETURN_IF_ERROR(PrepareDir(dir));
  if (master_uri.empty()) RETURN_IF_ERROR(keys::MasterKey::CreateKeyFile(dir + "/operator.master.key"));
  ASSIGN_OR_RETURN(keys::MasterKey master, keys::MasterKey::ForNewFiles(DefaultMasterUri(dir, master_uri)));
  return Create(dir, network, master, now);
}

absl::StatusOr<NetworkOperator> NetworkOperator::Create(const std::string& dir, const std::string& network,
                                                        const keys::MasterKey& master, SystemTime now) {
  RETURN_IF_ERROR(PrepareDir(dir));
  ASSIGN_OR_RETURN(keys::SecretBytes ca_key, keys::NewTlsKeyPem());
  ASSIGN_OR_RETURN(std::string ca_cert,
                   keys::CreateCaCertificate(ca_key, network, now - std::chrono::hours(1), now + std::chrono::days(3650)));
  keys::SigningKey signing = keys::SigningKey::Generate();

  RETURN_IF_ERROR(WriteFileAtomic(dir + "/ca.key.sealed", master.Seal(keys::kCaKeyPurpose, ca_key.span()), 0600));
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/operator.key.sealed", master.Seal(keys::kOperatorKeyPurpose, signing.seed().span()), 0600));
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/ca.pem", ca_cert, 0644));
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/operator.pub", Base64Encode(signing.public_key()) + "\n", 0644));
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/network.name", network + "\n", 0644));
  return NetworkOperator(dir, network, std::move(ca_cert), std::move(ca_key), std::move(signing));
}

absl::StatusOr<NetworkOperator> NetworkOperator::Open(const std::string& dir, std::string master_uri) {
  ASSIGN_OR_RETURN(std::string sealed_ca, ReadFile(dir + "/ca.key.sealed"));
  ASSIGN_OR_RETURN(std::string sealed_op, ReadFile(dir + "/operator.key.sealed"));
  ASSIGN_OR_RETURN(keys::MasterKey master, keys::MasterKey::Unlock(DefaultMasterUri(dir, master_uri), AsBytes(sealed_op)));
  ASSIGN_OR_RETURN(keys::SecretBytes ca_key, master.Open(keys::kCaKeyPurpose, AsBytes(sealed_ca)));
  ASSIGN_OR_RETURN(keys::SecretBytes seed, master.Open(keys::kOperatorKeyPurpose, AsBytes(sealed_op)));
  ASSIGN_OR_RETURN(keys::SigningKey signing, keys::SigningKey::FromSeed(seed.span()));
  ASSIGN_OR_RETURN(std::string ca_cert, ReadFile(dir + "/ca.pem"));
  ASSIGN_OR_RETURN(std::string network, ReadFile(dir + "/network.name"));
  while (!network.empty() && network.back() == '\n') network.pop_back();
  return NetworkOperator(dir, std::move(network), std::move(ca_cert), std::move(ca_key), std::move(signing));
}

absl::StatusOr<std::string> NetworkOperator::IssueCertificate(const keys::SecretBytes& node_key_pem, const std::string& org,
                                                              const std::string& role, SystemTime not_before,
                                                              SystemTime not_after) const {
  return keys::IssueNodeCertificate(ca_key_pem_, ca_cert_pem_, node_key_pem,
                              keys::CertificateSpec{network_, org, role, not_before, not_after});
}

absl::Status NetworkOperator::Publish(const Manifest& manifest) const {
  ASSIGN_OR_RETURN(std::string text, EncodeManifest(manifest));
  // Signature first: a reader between the two renames sees a mismatch and
  // keeps its current manifest; it never trusts unsigned bytes.
  RETURN_IF_ERROR(WriteFileAtomic(manifest_path() + ".sig", SignManifest(signing_key_, text), 0644));
  return WriteFileAtomic(manifest_path(), text, 0644);
}

absl::StatusOr<Manifest> NetworkOperator::Current() const {
  ASSIGN_OR_RETURN(std::string text, ReadFile(manifest_path()));
  ASSIGN_OR_RETURN(std::string sig, ReadFile(manifest_path() + ".sig"));
  ASSIGN_OR_RETURN(Manifest m, ParseManifest(text));
  // Verify with the operator key; expiry and membership do not matter here.
  ASSIGN_OR_RETURN(Manifest verified,
                   VerifyManifest(text, sig, public_key(), m.issued_at, m.nodes.front().org));
  return verified;
}

absl::StatusOr<keys::PublicKey> ReadPublicKeyFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  auto bytes = Base64Decode(text, path);
  if (!bytes.ok() || bytes->size() != 32) {
    return absl::InvalidArgumentError(StrCat(path, ": expected a 32-byte public key in base64"));
  }
  keys::PublicKey pk{};
  std::copy(bytes->begin(), bytes->end(), pk.begin());
  return pk;
}

}  // namespace casenode::network
