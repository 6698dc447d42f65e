#include "node/peer_client.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <condition_variable>

#include "keys/x509.h"

#include "node/log.h"
#include "node/peer_gate.h"
#include "node/rpc_status.h"

namespace casenode::node {

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
  // short and bounded (gRPC's defaults grow to 120 s).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(peer.endpoint, creds, args);
}

PeerClient::PeerClient(const Network& network, const TlsMaterial& tls, std::chrono::milliseconds timeout,
                       int max_message_bytes)
    : network_(network), tls_(tls), timeout_(timeout), max_message_bytes_(max_message_bytes) {}

std::shared_ptr<v1::Peer::Stub> PeerClient::Stub(const keys::ManifestNode& peer) {
  std::lock_guard<std::mutex> lock(mu_);
  Channel& slot = channels_[peer.org];
  // A manifest that moves or re-keys a peer gets a new channel, pinned to the new certificate.
  if (!slot.stub || slot.endpoint != peer.endpoint || slot.fingerprint != peer.tls_cert_sha256) {
    slot.endpoint = peer.endpoint;
    slot.fingerprint = peer.tls_cert_sha256;
    slot.channel = PeerChannel(peer, PeerChannelCredentials(tls_, peer.tls_cert_sha256), max_message_bytes_);
    slot.stub = v1::Peer::NewStub(slot.channel);
  } else if (slot.channel->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_TRANSIENT_FAILURE) {
    // The peer failed before and the channel waits out its backoff: a call
    // now tries again at once, so a peer that came back is reachable.
    grpc::experimental::ChannelResetConnectionBackoff(slot.channel.get());
  }
  return slot.stub;
}

v1::PeerReachability PeerClient::Ping(const keys::ManifestNode& peer, const std::string& trace_id,
                                      const std::vector<v1::ConsentReceipt>& receipts, const std::string& subject) {
  return PingAll(trace_id, {&peer}, receipts, subject).front();
}

absl::StatusOr<v1::ConsentStatusResponse::State> PeerClient::ConsentStatus(
    const keys::ManifestNode& issuer, const std::string& receipt_id, std::chrono::system_clock::time_point deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::min(deadline, std::chrono::system_clock::now() + timeout_));
  ctx.set_wait_for_ready(true);  // see PingAll
  ctx.AddMetadata(kTraceparentHeader, NewTraceparent());
  v1::ConsentStatusRequest req;
  req.set_receipt_id(receipt_id);
  v1::ConsentStatusResponse resp;
  grpc::Status s = Stub(issuer)->ConsentStatus(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return resp.state();
}

std::vector<v1::PeerReachability> PeerClient::PingAll(const std::string& trace_id) {
  const auto manifest = network_.manifest();
  std::vector<const keys::ManifestNode*> peers;
  for (const auto& n : manifest->nodes) {
    if (n.org != network_.self_org()) peers.push_back(&n);
  }
  return PingAll(trace_id, peers, {}, {});
}

std::vector<v1::PeerReachability> PeerClient::PingAll(const std::string& trace_id,
                                                      const std::vector<const keys::ManifestNode*>& peers,
                                                      const std::vector<v1::ConsentReceipt>& receipts,
                                                      const std::string& subject) {
  std::string consent_header;
  if (!receipts.empty()) {
    v1::ConsentReceiptList list;
    for (const auto& r : receipts) *list.add_receipts() = r;
    consent_header = list.SerializeAsString();
  }
  struct Pending {
    grpc::ClientContext context;
    v1::PingRequest request;
    v1::PingResponse response;
    grpc::Status status;
    std::shared_ptr<v1::Peer::Stub> stub;
    std::chrono::steady_clock::time_point start;
    std::chrono::steady_clock::time_point end;
  };
  std::vector<std::unique_ptr<Pending>> pending;
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;
  const uint64_t version = network_.manifest()->version;
  for (const keys::ManifestNode* peer : peers) {
    auto p = std::make_unique<Pending>();
    p->context.set_deadline(std::chrono::system_clock::now() + timeout_);
    // Wait for a connection until the deadline rather than fail at once on a
    // channel in backoff: a peer that is up by then answers; one that is not
    // is reported unreachable when the deadline passes, never sooner.
    p->context.set_wait_for_ready(true);
    p->context.AddMetadata(kTraceparentHeader, NewTraceparent(trace_id));
    if (!consent_header.empty()) p->context.AddMetadata(kConsentHeader, consent_header);
    p->request.set_manifest_version(version);
    p->request.set_subject(subject);
    p->start = std::chrono::steady_clock::now();
    Pending* raw = p.get();
    Log(LogLevel::kDebug, "peer.call.start", {{"method", "Peer.Ping"}, {"peer_org", peer->org}, {"trace_id", trace_id}});
    p->stub = Stub(*peer);
    p->stub->async()->Ping(&raw->context, &raw->request, &raw->response, [&, raw](grpc::Status s) {
      raw->end = std::chrono::steady_clock::now();
      std::lock_guard<std::mutex> lock(mu);
      raw->status = std::move(s);
      ++done;
      cv.notify_one();
    });
    pending.push_back(std::move(p));
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done == pending.size(); });
  }
  std::vector<v1::PeerReachability> out;
  for (size_t i = 0; i < peers.size(); ++i) {
    const Pending& p = *pending[i];
    v1::PeerReachability r;
    r.set_org(peers[i]->org);
    r.set_role(peers[i]->role);
    if (p.status.ok() && p.response.org() == peers[i]->org) {
      r.set_reachable(true);
      r.set_rtt_ms(std::chrono::duration<double, std::milli>(p.end - p.start).count());
    } else if (p.status.ok()) {
      r.set_error("PEER_IDENTITY_MISMATCH: answered as another organisation");
    } else {
      const std::string_view reason = ReasonName(GrpcReason(p.status));
      r.set_error(GrpcCodeName(p.status.error_code()) + (reason.empty() ? "" : ": " + std::string(reason)));
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace casenode::node
