#include "node/rpc/peer_client.h"

#include <condition_variable>


#include "base/log.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"

namespace casenode::node {

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
