// TLS for the Peer service: the node's certificate and key, server and
// channel credentials (client certificates required and verified against the
// network CA), server pinning, and the channel settings every peer call uses.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "keys/manifest.h"
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

// Server and channel credentials for the Peer listener and its clients: TLS
// with client certificates required and verified against the network CA.
// A client also pins the server: its leaf certificate must have
// `server_fingerprint` (hex SHA-256, from the manifest) or the handshake fails.
std::shared_ptr<grpc::ServerCredentials> PeerServerCredentials(const TlsMaterial& tls);
std::shared_ptr<grpc::ChannelCredentials> PeerChannelCredentials(const TlsMaterial& tls,
                                                                 const std::string& server_fingerprint);
// A channel to `peer`, with bounded reconnect backoff. The credentials'
// pin (PeerChannelCredentials) is what authenticates the server; the target
// name override only sets SNI and the call host.
std::shared_ptr<grpc::Channel> PeerChannel(const keys::ManifestNode& peer,
                                           const std::shared_ptr<grpc::ChannelCredentials>& creds,
                                           int max_message_bytes);

}  // namespace casenode::node
