#include "node/rpc/tls.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <openssl/bio.h>
#include <openssl/conf.h>
#include <openssl/ssl.h>

#include "keys/x509.h"

namespace casenode::node {

absl::Status RequireTls13() {
  static constexpr char kConfig[] =
      "casenode = casenode_init\n"
      "[casenode_init]\nssl_conf = casenode_ssl\n"
      "[casenode_ssl]\nsystem_default = casenode_tls\n"
      "[casenode_tls]\nProtocol = -SSLv3, -TLSv1, -TLSv1.1, -TLSv1.2\n";
  if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr) != 1) return absl::InternalError("OpenSSL failed to start");
  CONF* conf = NCONF_new(nullptr);
  BIO* bio = BIO_new_mem_buf(kConfig, -1);
  long bad_line = 0;
  const bool loaded = conf != nullptr && bio != nullptr && NCONF_load_bio(conf, bio, &bad_line) == 1 &&
                      CONF_modules_load(conf, "casenode", 0) == 1;
  BIO_free(bio);
  NCONF_free(conf);
  if (!loaded) return absl::InternalError("cannot restrict TLS to version 1.3");
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> PeerServerCredentials(const TlsMaterial& tls) {
  grpc::SslServerCredentialsOptions opts(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  opts.pem_root_certs = tls.ca_cert_pem;
  opts.pem_key_cert_pairs.push_back({std::string(tls.key_pem.InsecureView()), tls.cert_pem});
  return grpc::SslServerCredentials(opts);
}

namespace {

// Pins the server: during the handshake, after the chain verified against the
// network CA, the leaf must be the certificate the manifest lists for the
// node this channel means to reach. Any other certificate the CA ever issued
// for that organisation (an old one, before a re-key) is refused.
class PinnedServer final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit PinnedServer(std::string fingerprint) : fingerprint_(std::move(fingerprint)) {}
  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request, std::function<void(grpc::Status)>,
              grpc::Status* sync_status) override {
    const grpc::string_ref pem = request->peer_cert();
    auto fp = keys::CertificateFingerprint(std::string(pem.data(), pem.size()));
    *sync_status = fp.ok() && *fp == fingerprint_
                       ? grpc::Status::OK
                       : grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                      "server certificate is not the one the manifest lists for this node");
    return true;  // synchronous
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

 private:
  const std::string fingerprint_;
};

}  // namespace

std::shared_ptr<grpc::ChannelCredentials> PeerChannelCredentials(const TlsMaterial& tls,
                                                                 const std::string& server_fingerprint) {
  auto provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
      tls.ca_cert_pem, std::vector<grpc::experimental::IdentityKeyCertPair>{
                           {std::string(tls.key_pem.InsecureView()), tls.cert_pem}});
  grpc::experimental::TlsChannelCredentialsOptions opts;
  opts.set_certificate_provider(std::move(provider));
  opts.watch_root_certs();
  opts.watch_identity_key_cert_pairs();
  opts.set_verify_server_certs(true);  // the chain, against the network CA; then the pin
  opts.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<PinnedServer>(server_fingerprint));
  return grpc::experimental::TlsCredentials(opts);
}

std::shared_ptr<grpc::Channel> PeerChannel(const keys::ManifestNode& peer,
                                           const std::shared_ptr<grpc::ChannelCredentials>& creds,
                                           int max_message_bytes) {
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(peer.org);  // the certificate's DNS SAN is the org id
  args.SetMaxReceiveMessageSize(max_message_bytes);
  args.SetMaxSendMessageSize(max_message_bytes);
  // A peer that comes back must be reachable at once: keep reconnect backoff
  // short and bounded (gRPC's defaults grow to 120 s). gRPC also takes the
  // "min reconnect backoff" as the least time a connection attempt (TCP and
  // the TLS handshake) may take: 2 s, not 100 ms, or a busy machine or a WAN
  // link times handshakes out. A refused connection still fails at once.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 2000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(peer.endpoint, creds, args);
}

}  // namespace casenode::node
