#include "node/rpc/tls.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <openssl/bio.h>
#include <openssl/conf.h>
#include <openssl/ssl.h>

#include "base/file.h"
#include "base/log.h"
#include "base/status.h"
#include "base/strings.h"
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

namespace {

// An anonymous memory file holding `bytes`, sealed against any change; the
// certificate provider reads it by its /proc path.
absl::StatusOr<int> MemoryFile(const char* name, std::string_view bytes) {
  const int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return absl::InternalError(StrCat("TLS: cannot create a memory file: ", std::strerror(errno)));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return absl::InternalError("TLS: cannot fill a memory file");
    }
    done += static_cast<size_t>(n);
  }
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    close(fd);
    return absl::InternalError("TLS: cannot seal a memory file");
  }
  return fd;
}

std::string ProcPath(int fd) { return StrCat("/proc/self/fd/", fd); }

}  // namespace

absl::StatusOr<std::unique_ptr<TlsIdentity>> TlsIdentity::Create(const TlsMaterial& material) {
  RETURN_IF_ERROR(keys::CertificateMatchesKey(material.cert_pem, material.key_pem));
  std::unique_ptr<TlsIdentity> id(new TlsIdentity());
  id->key_pem_ = keys::SecretBytes::CopyFrom(material.key_pem.span());
  id->cert_pem_ = material.cert_pem;
  ASSIGN_OR_RETURN(id->ca_fd_, MemoryFile("casenode-ca", material.ca_cert_pem));
  ASSIGN_OR_RETURN(id->key_fd_, MemoryFile("casenode-key", material.key_pem.InsecureView()));
  ASSIGN_OR_RETURN(id->cert_fd_, MemoryFile("casenode-cert", material.cert_pem));
  // Fail here, not at every handshake, where /proc/self/fd is not there.
  auto back = ReadFile(ProcPath(id->cert_fd_));
  if (!back.ok() || *back != material.cert_pem) {
    return absl::FailedPreconditionError("TLS: cannot read this process's memory files through /proc/self/fd");
  }
  // Reads all three once here, before any listener or channel uses it.
  id->server_provider_ = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      ProcPath(id->key_fd_), ProcPath(id->cert_fd_), ProcPath(id->ca_fd_), /*refresh_interval_sec=*/1);
  id->ca_pem_ = material.ca_cert_pem;
  id->client_provider_ = id->StaticProvider(material.cert_pem);
  return id;
}

// The three descriptors stay open for the life of the process: credentials,
// subchannels and transports may hold gRPC's provider (and its reader thread,
// which opens them by number) past this object, and a closed number could be
// reused by another file.
TlsIdentity::~TlsIdentity() = default;

std::shared_ptr<grpc::experimental::CertificateProviderInterface> TlsIdentity::StaticProvider(
    const std::string& cert_pem) const {
  return std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
      ca_pem_, std::vector<grpc::experimental::IdentityKeyCertPair>{{std::string(key_pem_.InsecureView()), cert_pem}});
}

std::shared_ptr<grpc::experimental::CertificateProviderInterface> TlsIdentity::client_provider() const {
  std::lock_guard<std::mutex> lock(mu_);
  return client_provider_;
}

std::string TlsIdentity::cert_pem() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cert_pem_;
}

absl::Status TlsIdentity::CheckCertificate(const std::string& cert_pem) const {
  return keys::CertificateMatchesKey(cert_pem, key_pem_);
}

absl::Status TlsIdentity::SetCertificate(const std::string& cert_pem) {
  RETURN_IF_ERROR(CheckCertificate(cert_pem));
  std::lock_guard<std::mutex> lock(mu_);
  if (cert_pem == cert_pem_) return absl::OkStatus();
  ASSIGN_OR_RETURN(int fd, MemoryFile("casenode-cert", cert_pem));
  // dup3 replaces the file behind cert_fd_ in one step: the provider reads
  // the old certificate or the new one, never a mix.
  const bool swapped = dup3(fd, cert_fd_, O_CLOEXEC) >= 0;
  close(fd);
  if (!swapped) return absl::InternalError(StrCat("TLS: cannot swap the certificate: ", std::strerror(errno)));
  cert_pem_ = cert_pem;
  client_provider_ = StaticProvider(cert_pem);
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> PeerServerCredentials(const TlsIdentity& tls) {
  grpc::experimental::TlsServerCredentialsOptions opts(tls.server_provider());
  opts.watch_root_certs();
  opts.watch_identity_key_cert_pairs();
  opts.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(opts);
}

namespace {

// Pins the server: during the handshake, after the chain verified against the
// network CA, the leaf must be a certificate the manifest lists for the node
// this channel means to reach. Any other certificate the CA ever issued for
// that organisation (an old one, before a re-key) is refused.
class PinnedServer final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit PinnedServer(network::ManifestNode peer) : peer_(std::move(peer)) {}
  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request, std::function<void(grpc::Status)>,
              grpc::Status* sync_status) override {
    const grpc::string_ref pem = request->peer_cert();
    auto fp = keys::CertificateFingerprint(std::string(pem.data(), pem.size()));
    *sync_status = fp.ok() && peer_.HasCertificate(*fp)
                       ? grpc::Status::OK
                       : grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                      "server certificate is not one the manifest lists for this node");
    return true;  // synchronous
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

 private:
  const network::ManifestNode peer_;
};

}  // namespace

std::shared_ptr<grpc::ChannelCredentials> PeerChannelCredentials(const TlsIdentity& tls,
                                                                 const network::ManifestNode& peer) {
  grpc::experimental::TlsChannelCredentialsOptions opts;
  opts.set_certificate_provider(tls.client_provider());
  opts.watch_root_certs();
  opts.watch_identity_key_cert_pairs();
  opts.set_verify_server_certs(true);  // the chain, against the network CA; then the pin
  opts.set_certificate_verifier(grpc::experimental::ExternalCertificateVerifier::Create<PinnedServer>(peer));
  return grpc::experimental::TlsCredentials(opts);
}

std::shared_ptr<grpc::Channel> PeerChannel(const network::ManifestNode& peer,
                                           const std::shared_ptr<grpc::ChannelCredentials>& creds,
                                           int max_message_bytes) {
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(peer.org);  // the certificate's DNS SAN is the org id
  args.SetMaxReceiveMessageSize(max_message_bytes);
  args.SetMaxSendMessageSize(max_message_bytes);
  // Reconnect backoff: 1 s growing to 30 s, with gRPC's jitter. A channel
  // in backoff keeps trying on its own, so a short ceiling makes every node
  // retry every unreachable or overloaded peer each second: when many
  // handshakes time out at once (33 nodes starting together on two cores)
  // the retries keep them timing out, and the network never settles. A call
  // that finds the channel in backoff tries again at once (Stub), and the
  // calls that retry on their own schedule wait for that attempt, so a peer
  // that comes back is reachable on the next call all the same.
  // gRPC takes the "min reconnect backoff" as the time one connection
  // attempt (TCP and the TLS handshake) may take: 5 s, so a busy machine or
  // a WAN link does not time handshakes out, while an attempt whose packets
  // are lost (a partition) is given up and retried within 5 s.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 30000);
  return grpc::CreateCustomChannel(peer.endpoint, creds, args);
}

absl::StatusOr<std::string> CertificateToPresent(const network::Manifest& manifest, std::string_view self_org,
                                                 const std::string& cert_file, const TlsIdentity& tls) {
  const network::ManifestNode* self = manifest.FindOrg(self_org);
  if (self == nullptr) {
    return absl::FailedPreconditionError(StrCat("network.manifest: it does not list \"", self_org, "\""));
  }
  auto file = ReadFile(cert_file);
  auto file_fp = file.ok() ? keys::CertificateFingerprint(*file) : file.status();
  if (file_fp.ok() && *file_fp == self->tls_cert_sha256 && tls.CheckCertificate(*file).ok()) {
    return *std::move(file);
  }
  std::string presented = tls.cert_pem();
  ASSIGN_OR_RETURN(std::string presented_fp, keys::CertificateFingerprint(presented));
  if (self->HasCertificate(presented_fp)) {
    if (!file_fp.ok() || *file_fp != presented_fp) {
      Log(LogLevel::kWarn, "tls.certificate_file_not_used",
          {{"why", file_fp.ok() ? std::string("not the certificate the manifest says this node presents")
                                : std::string(file_fp.status().message())},
           {"kept_tls_cert_sha256", presented_fp}});
    }
    return presented;
  }
  return absl::FailedPreconditionError(
      StrCat("keys.tls_cert: the manifest lists neither the certificate file as the one \"", self_org,
             "\" presents nor the certificate in use"));
}

}  // namespace casenode::node
