// The network's X.509 material, made with OpenSSL: the network CA, node
// certificates binding organisation id and role, and certificate fingerprints.
//
// A node certificate has subject CN=<org>, OU=<role>, O=<network>, one DNS
// subjectAltName equal to <org> (clients verify the server against the org
// they meant to reach), and both serverAuth and clientAuth usages: a node
// uses the same certificate to answer and to ask. Keys are ECDSA P-256.
// All functions are thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "keys/secret.h"

namespace casenode::keys {

// A fresh ECDSA P-256 private key, PKCS#8 PEM.
[[nodiscard]] absl::StatusOr<SecretBytes> NewTlsKeyPem();

// A self-signed CA certificate (PEM) for network `network`.
[[nodiscard]] absl::StatusOr<std::string> CreateCaCertificate(const SecretBytes& ca_key_pem, std::string_view network,
                                                SystemTime not_before, SystemTime not_after);

struct CertificateSpec {
  std::string network;
  std::string org;
  std::string role;
  SystemTime not_before;
  SystemTime not_after;
};

// A node certificate (PEM) for the public half of `node_key_pem`, signed by the CA.
[[nodiscard]] absl::StatusOr<std::string> IssueNodeCertificate(const SecretBytes& ca_key_pem, std::string_view ca_cert_pem,
                                                 const SecretBytes& node_key_pem, const CertificateSpec& spec);

// A renewed certificate: the same subject and public key as `current_pem`
// (which this CA must have issued), a new serial and validity. The operator
// needs no node secret for it.
[[nodiscard]] absl::StatusOr<std::string> RenewNodeCertificate(const SecretBytes& ca_key_pem, std::string_view ca_cert_pem,
                                                               std::string_view current_pem, SystemTime not_before,
                                                               SystemTime not_after);

// OK if `cert_pem` certifies the public half of `key_pem`.
[[nodiscard]] absl::Status CertificateMatchesKey(std::string_view cert_pem, const SecretBytes& key_pem);

// Lowercase hex SHA-256 of the certificate's DER encoding (what the manifest lists).
[[nodiscard]] absl::StatusOr<std::string> CertificateFingerprint(std::string_view cert_pem);

struct CertificateSubject {
  std::string org;   // CN
  std::string role;  // OU
};
[[nodiscard]] absl::StatusOr<CertificateSubject> ReadCertificateSubject(std::string_view cert_pem);

}  // namespace casenode::keys
