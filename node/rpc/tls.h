// TLS for the Peer service: the node's certificate and key, server and
// channel credentials (client certificates required and verified against the
// network CA), server pinning, and the channel settings every peer call uses.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "network/manifest.h"
#include "keys/secret.h"

namespace casenode::node {

// Makes every TLS context this process creates refuse TLS below 1.3, by an
// OpenSSL configuration loaded from memory: gRPC 1.51 sets a minimum version
// of TLS 1.2 on its contexts and has no setting to raise it, but OpenSSL's
// per-protocol switches ("Protocol = -TLSv1.2") still apply to every context
// created afterwards. Call once, before the first gRPC channel or server.
[[nodiscard]] absl::Status RequireTls13();

struct TlsMaterial {
  std::string ca_cert_pem;
  std::string cert_pem;
  keys::SecretBytes key_pem;
};

// The node's TLS identity as gRPC uses it. For the Peer listener, the CA,
// the key and the certificate live in anonymous memory files (memfd, not on
// disk) that a gRPC certificate provider re-reads every second (so gRPC holds
// copies of the key, as it always did); SetCertificate swaps the certificate
// file in one step, so the listener's new handshakes present the new
// certificate within a second, while connections already open, and the calls
// on them, go on unchanged. Channels made after SetCertificate
// (PeerChannelCredentials) present the new certificate at once. Thread-safe.
class TlsIdentity {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TlsIdentity>> Create(const TlsMaterial& material);
  ~TlsIdentity();
  TlsIdentity(const TlsIdentity&) = delete;
  TlsIdentity& operator=(const TlsIdentity&) = delete;

  // The certificate handshakes present from now on (within a second).
  std::string cert_pem() const;
  // OK if `cert_pem` certifies this node's key.
  [[nodiscard]] absl::Status CheckCertificate(const std::string& cert_pem) const;
  // Presents `cert_pem` instead. FailedPrecondition if it does not certify
  // this node's key; nothing changes then.
  [[nodiscard]] absl::Status SetCertificate(const std::string& cert_pem);

  // For the listener: follows SetCertificate within a second.
  const std::shared_ptr<grpc::experimental::CertificateProviderInterface>& server_provider() const {
    return server_provider_;
  }
  // For new channels: the certificate set last.
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> client_provider() const;

 private:
  TlsIdentity() = default;
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> StaticProvider(const std::string& cert_pem) const;
  mutable std::mutex mu_;
  int ca_fd_ = -1, key_fd_ = -1, cert_fd_ = -1;
  keys::SecretBytes key_pem_;
  std::string ca_pem_;
  std::string cert_pem_;  // guarded by mu_
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> server_provider_;
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> client_provider_;  // guarded by mu_
};

// The certificate this node presents under `manifest`: the certificate file
// (`cert_file`) if the manifest says it is the one `self_org` presents, else
// the one `tls` presents now if the manifest still lists it (the file is
// early, late or unreadable: the node keeps working and logs a warning).
// Never a certificate the manifest lists only as also accepted: peers still
// on the previous manifest may not know it. How a renewal's second step
// reaches a running node (provision/network_setup.h).
[[nodiscard]] absl::StatusOr<std::string> CertificateToPresent(const network::Manifest& manifest,
                                                               std::string_view self_org,
                                                               const std::string& cert_file, const TlsIdentity& tls);

// Server and channel credentials for the Peer listener and its clients: TLS
// with client certificates required and verified against the network CA.
// A client also pins the server: its leaf certificate must be one of `peer`'s
// in the manifest (ManifestNode::HasCertificate) or the handshake fails.
std::shared_ptr<grpc::ServerCredentials> PeerServerCredentials(const TlsIdentity& tls);
std::shared_ptr<grpc::ChannelCredentials> PeerChannelCredentials(const TlsIdentity& tls,
                                                                 const network::ManifestNode& peer);
// A channel to `peer`, with bounded reconnect backoff. The credentials'
// pin (PeerChannelCredentials) is what authenticates the server; the target
// name override only sets SNI and the call host.
std::shared_ptr<grpc::Channel> PeerChannel(const network::ManifestNode& peer,
                                           const std::shared_ptr<grpc::ChannelCredentials>& creds,
                                           int max_message_bytes);

}  // namespace casenode::node
