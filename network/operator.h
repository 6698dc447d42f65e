// NetworkOperator: the network operator's material in one directory, and the
// only code that writes manifests and issues certificates.
//
//   ca.pem                  network CA certificate (public)
//   ca.key.sealed           CA private key, sealed under the operator master key
//   operator.pub            operator Ed25519 public key (base64): nodes trust this
//   operator.key.sealed     operator signing key, sealed
//   operator.master.key     operator master key file (0600) unless a passphrase is used
//   network.name            the network name (plain text)
//   manifest.json(.sig)     the current signed manifest
//
// Not thread-safe for writers: one operator process at a time.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "keys/identity.h"
#include "network/manifest.h"
#include "keys/master_key.h"
#include "keys/x509.h"

namespace casenode::network {

class NetworkOperator {
 public:
  // Creates the directory's CA and operator key; AlreadyExists if there is one.
  // `master_uri` as in master_key.h; "" creates and uses DIR/operator.master.key.
  [[nodiscard]] static absl::StatusOr<NetworkOperator> Create(const std::string& dir, const std::string& network,
                                                std::string master_uri, SystemTime now);
  // The same, sealing with `master` (say, from MasterKey::FromPassphrase with a
  // passphrase the caller has already read); writes no key file.
  [[nodiscard]] static absl::StatusOr<NetworkOperator> Create(const std::string& dir, const std::string& network,
                                                const keys::MasterKey& master, SystemTime now);
  [[nodiscard]] static absl::StatusOr<NetworkOperator> Open(const std::string& dir, std::string master_uri = "");

  const std::string& dir() const { return dir_; }
  const std::string& ca_cert_pem() const { return ca_cert_pem_; }
  const keys::PublicKey& public_key() const { return signing_key_.public_key(); }
  const std::string& network() const { return network_; }

  // Issues a node certificate for `node_key_pem`'s public key.
  [[nodiscard]] absl::StatusOr<std::string> IssueCertificate(const keys::SecretBytes& node_key_pem, const std::string& org,
                                               const std::string& role, SystemTime not_before,
                                               SystemTime not_after) const;

  // Renews a node certificate this CA issued: same subject and key.
  [[nodiscard]] absl::StatusOr<std::string> RenewCertificate(std::string_view current_pem, SystemTime not_before,
                                                             SystemTime not_after) const {
    return keys::RenewNodeCertificate(ca_key_pem_, ca_cert_pem_, current_pem, not_before, not_after);
  }

  // Signs and writes manifest.json and manifest.json.sig (atomically each).
  [[nodiscard]] absl::Status Publish(const Manifest& manifest) const;
  // The current manifest, verified with the operator key (expiry not checked).
  [[nodiscard]] absl::StatusOr<Manifest> Current() const;

  std::string manifest_path() const { return dir_ + "/manifest.json"; }

 private:
  NetworkOperator(std::string dir, std::string network, std::string ca_cert_pem, keys::SecretBytes ca_key_pem,
                  keys::SigningKey signing_key)
      : dir_(std::move(dir)), network_(std::move(network)), ca_cert_pem_(std::move(ca_cert_pem)),
        ca_key_pem_(std::move(ca_key_pem)), signing_key_(std::move(signing_key)) {}
  std::string dir_;
  std::string network_;
  std::string ca_cert_pem_;
  keys::SecretBytes ca_key_pem_;
  keys::SigningKey signing_key_;
};

// Reads a base64 public key file (operator.pub). Errors name the path.
[[nodiscard]] absl::StatusOr<keys::PublicKey> ReadPublicKeyFile(const std::string& path);

}  // namespace casenode::network
