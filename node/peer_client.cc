#include "node/peer_client.h"

#include <condition_variable>

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

std::shared_ptr<grpc::ChannelCredentials> PeerChannelCredentials(const TlsMaterial& tls) {
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = tls.ca_cert_pem;
  opts.pem_private_key = std::string(tls.key_pem.InsecureView());
  opts.pem_cert_chain = tls.cert_pem;
  return grpc::SslCredentials(opts);
}

std::shared_ptr<grpc::Channel> PeerChannel(const keys::ManifestNode& peer,
                                           const std::shared_ptr<grpc::ChannelCredentials>& creds,
                                           int max_message_bytes) {
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(peer.org);  // the certificate's DNS SAN is the org id
  args.SetMaxReceiveMessageSize(max_message_bytes);
  args.SetMaxSendMessageSize(max_message_bytes);
  // Fail fast on a dead peer instead of waiting out long reconnect backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  return grpc::CreateCustomChannel(peer.endpoint, creds, args);
}

PeerClient::PeerClient(const Network& network, const TlsMaterial& tls, std::chrono::milliseconds timeout,
                       int max_message_bytes)
    : network_(network), creds_(PeerChannelCredentials(tls)), timeout_(timeout),
      max_message_bytes_(max_message_bytes) {}

v1::Peer::Stub* PeerClient::Stub(const keys::ManifestNode& peer) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = stubs_[peer.org];
  if (!slot.second || slot.first != peer.endpoint) {
    slot.first = peer.endpoint;
    slot.second = v1::Peer::NewStub(PeerChannel(peer, creds_, max_message_bytes_));
  }
  return slot.second.get();
}

v1::PeerReachability PeerClient::Ping(const keys::ManifestNode& peer, const std::string& trace_id,
                                      const std::vector<v1::ConsentReceipt>& receipts) {
  return PingAll(trace_id, {&peer}, receipts).front();
}

absl::StatusOr<v1::ConsentStatusResponse::State> PeerClient::ConsentStatus(
    const keys::ManifestNode& issuer, const std::string& receipt_id, std::chrono::system_clock::time_point deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::min(deadline, std::chrono::system_clock::now() + timeout_));
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
  return PingAll(trace_id, peers, {});
}

std::vector<v1::PeerReachability> PeerClient::PingAll(const std::string& trace_id,
                                                      const std::vector<const keys::ManifestNode*>& peers,
                                                      const std::vector<v1::ConsentReceipt>& receipts) {
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
    p->context.AddMetadata(kTraceparentHeader, NewTraceparent(trace_id));
    if (!consent_header.empty()) p->context.AddMetadata(kConsentHeader, consent_header);
    p->request.set_manifest_version(version);
    p->start = std::chrono::steady_clock::now();
    Pending* raw = p.get();
    Log(LogLevel::kDebug, "peer.call.start", {{"method", "Peer.Ping"}, {"peer_org", peer->org}, {"trace_id", trace_id}});
    Stub(*peer)->async()->Ping(&raw->context, &raw->request, &raw->response, [&, raw](grpc::Status s) {
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
      const std::string reason = GrpcReason(p.status);
      r.set_error(GrpcCodeName(p.status.error_code()) + (reason.empty() ? "" : ": " + reason));
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace casenode::node
