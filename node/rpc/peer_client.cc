#include "node/rpc/peer_client.h"

#include <condition_variable>

#include "base/log.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"

namespace casenode::node {

PeerClient::PeerClient(const network::Network& network, const TlsIdentity& tls, std::chrono::milliseconds timeout,
                       int max_message_bytes)
    : network_(network), tls_(tls), timeout_(timeout), max_message_bytes_(max_message_bytes) {}

std::shared_ptr<v1::Peer::Stub> PeerClient::Stub(const network::ManifestNode& peer) {
  std::lock_guard<std::mutex> lock(mu_);
  Channel& slot = channels_[peer.org];
  // A manifest that moves a peer or changes its certificates gets a new
  // channel, pinned to the new ones; calls on the old channel finish on it.
  if (!slot.stub || slot.endpoint != peer.endpoint || slot.fingerprints != Fingerprints(peer)) {
    slot.endpoint = peer.endpoint;
    slot.fingerprints = Fingerprints(peer);
    slot.channel = PeerChannel(peer, PeerChannelCredentials(tls_, peer), max_message_bytes_);
    slot.stub = v1::Peer::NewStub(slot.channel);
  } else if (slot.channel->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_TRANSIENT_FAILURE) {
    // The peer failed before and the channel waits out its backoff: a call
    // now tries again at once, so a peer that came back is reachable.
    grpc::experimental::ChannelResetConnectionBackoff(slot.channel.get());
  }
  return slot.stub;
}

void PeerClient::Reconnect() {
  std::lock_guard<std::mutex> lock(mu_);
  channels_.clear();  // a call under way holds its stub, and the stub its channel
}

std::vector<std::pair<std::string, bool>> PeerClient::Reachable() {
  const auto manifest = network_.manifest();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, bool>> out;
  for (const auto& [org, slot] : channels_) {
    if (!slot.channel || manifest->FindOrg(org) == nullptr) continue;  // a removed peer is no longer reported
    out.emplace_back(org, slot.channel->GetState(/*try_to_connect=*/false) != GRPC_CHANNEL_TRANSIENT_FAILURE);
  }
  return out;
}

v1::PeerReachability PeerClient::Ping(const network::ManifestNode& peer, const std::string& trace_id,
                                      const std::vector<v1::ConsentReceipt>& receipts, const std::string& subject) {
  return PingAll(trace_id, {&peer}, receipts, subject).front();
}

template <typename Response, typename Rpc>
absl::StatusOr<Response> PeerClient::CallOne(const network::ManifestNode& peer, std::string_view method,
                                             const std::string& trace_id, Deadline deadline, bool wait_for_ready,
                                             Rpc rpc, std::string* traceparent_out,
                                             const std::string& consent_header) {
  grpc::ClientContext ctx;
  if (!consent_header.empty()) ctx.AddMetadata(kConsentHeader, consent_header);
  ctx.set_deadline(std::min(deadline, std::chrono::system_clock::now() + timeout_));
  ctx.set_wait_for_ready(wait_for_ready);  // see PingAll
  const std::string traceparent = NewTraceparent(trace_id);
  ctx.AddMetadata(kTraceparentHeader, traceparent);
  Response resp;
  const auto started = std::chrono::system_clock::now();
  const auto start = std::chrono::steady_clock::now();
  const absl::Status s = FromGrpcStatus(rpc(*Stub(peer), ctx, resp));
  Observe(method, peer.org, traceparent, started, std::chrono::steady_clock::now() - start, s);
  if (traceparent_out != nullptr) *traceparent_out = traceparent;
  if (!s.ok()) return s;
  return resp;
}

absl::StatusOr<v1::AuditCheckpointResponse> PeerClient::AuditCheckpoint(const network::ManifestNode& peer,
                                                                         const v1::AuditCheckpointRequest& request,
                                                                         const std::string& trace_id,
                                                                         Deadline deadline) {
  return CallOne<v1::AuditCheckpointResponse>(
      peer, "Peer.AuditCheckpoint", trace_id, deadline, true, [&](v1::Peer::Stub& stub, grpc::ClientContext& ctx, v1::AuditCheckpointResponse& resp) {
        return stub.AuditCheckpoint(&ctx, request, &resp);
      });
}

absl::StatusOr<v1::CosignResponse> PeerClient::Cosign(const network::ManifestNode& peer,
                                                       const v1::CosignRequest& request, Deadline deadline) {
  // A witness that is not connected is skipped this round, not waited for.
  return CallOne<v1::CosignResponse>(
      peer, "Peer.Cosign", "", deadline, false, [&](v1::Peer::Stub& stub, grpc::ClientContext& ctx, v1::CosignResponse& resp) {
        return stub.Cosign(&ctx, request, &resp);
      });
}

absl::Status PeerClient::ReportAlarm(const network::ManifestNode& auditor, const v1::QuotaAlarm& alarm) {
  v1::ReportAlarmRequest request;
  *request.mutable_alarm() = alarm;
  request.mutable_alarm()->clear_delivered();
  return CallOne<v1::ReportAlarmResponse>(
             auditor, "Peer.ReportAlarm", "", Deadline::max(), false,
             [&](v1::Peer::Stub& stub, grpc::ClientContext& ctx, v1::ReportAlarmResponse& resp) {
               return stub.ReportAlarm(&ctx, request, &resp);
             })
      .status();
}

absl::StatusOr<v1::ReadAuditResponse> PeerClient::ReadAudit(const network::ManifestNode& peer,
                                                             const v1::ReadAuditRequest& request,
                                                             const std::string& trace_id, Deadline deadline) {
  return CallOne<v1::ReadAuditResponse>(
      peer, "Peer.ReadAudit", trace_id, deadline, true, [&](v1::Peer::Stub& stub, grpc::ClientContext& ctx, v1::ReadAuditResponse& resp) {
        return stub.ReadAudit(&ctx, request, &resp);
      });
}

absl::StatusOr<v1::InviteToCaseResponse> PeerClient::InviteToCase(const network::ManifestNode& peer,
                                                                   const v1::InviteToCaseRequest& request,
                                                                   const std::vector<v1::ConsentReceipt>& receipts,
                                                                   const std::string& trace_id, Deadline deadline) {
  v1::ConsentReceiptList list;
  for (const auto& r : receipts) *list.add_receipts() = r;
  return CallOne<v1::InviteToCaseResponse>(
      peer, "Peer.InviteToCase", trace_id, deadline, /*wait_for_ready=*/true,
      [&](v1::Peer::Stub& stub, grpc::ClientContext& ctx, v1::InviteToCaseResponse& resp) {
        return stub.InviteToCase(&ctx, request, &resp);
      },
      nullptr, receipts.empty() ? std::string() : list.SerializeAsString());
}

absl::StatusOr<v1::DestroyCaseResponse> PeerClient::DestroyCase(const network::ManifestNode& peer,
                                                                 const v1::DestroyCaseRequest& request,
                                                                 const std::string& trace_id, Deadline deadline) {
  return CallOne<v1::DestroyCaseResponse>(
      peer, "Peer.DestroyCase", trace_id, deadline, /*wait_for_ready=*/true,
      [&](v1::Peer::Stub& stub, grpc::ClientContext& ctx, v1::DestroyCaseResponse& resp) {
        return stub.DestroyCase(&ctx, request, &resp);
      });
}

absl::StatusOr<v1::AnswerCaseInvitationResponse> PeerClient::AnswerCaseInvitation(
    const network::ManifestNode& peer, const v1::AnswerCaseInvitationRequest& request, const std::string& trace_id,
    Deadline deadline) {
  return CallOne<v1::AnswerCaseInvitationResponse>(
      peer, "Peer.AnswerCaseInvitation", trace_id, deadline, true,
      [&](v1::Peer::Stub& stub, grpc::ClientContext& ctx, v1::AnswerCaseInvitationResponse& resp) {
        return stub.AnswerCaseInvitation(&ctx, request, &resp);
      });
}

absl::StatusOr<v1::ContributeToCaseResponse> PeerClient::ContributeToCase(const network::ManifestNode& peer,
                                                                          const v1::ContributeToCaseRequest& request,
                                                                          const std::string& trace_id,
                                                                          Deadline deadline) {
  return CallOne<v1::ContributeToCaseResponse>(
      peer, "Peer.ContributeToCase", trace_id, deadline, true,
      [&](v1::Peer::Stub& stub, grpc::ClientContext& ctx, v1::ContributeToCaseResponse& resp) {
        return stub.ContributeToCase(&ctx, request, &resp);
      });
}

absl::StatusOr<v1::ReadCaseResponse> PeerClient::ReadCase(const network::ManifestNode& peer,
                                                          const v1::ReadCaseRequest& request,
                                                          const std::string& trace_id, Deadline deadline) {
  return CallOne<v1::ReadCaseResponse>(peer, "Peer.ReadCase", trace_id, deadline, true,
                                       [&](v1::Peer::Stub& stub, grpc::ClientContext& ctx, v1::ReadCaseResponse& resp) {
                                         return stub.ReadCase(&ctx, request, &resp);
                                       });
}

absl::StatusOr<v1::SetCaseActionResponse> PeerClient::SetCaseAction(const network::ManifestNode& peer,
                                                                    const v1::SetCaseActionRequest& request,
                                                                    const std::string& trace_id, Deadline deadline) {
  return CallOne<v1::SetCaseActionResponse>(
      peer, "Peer.SetCaseAction", trace_id, deadline, true,
      [&](v1::Peer::Stub& stub, grpc::ClientContext& ctx, v1::SetCaseActionResponse& resp) {
        return stub.SetCaseAction(&ctx, request, &resp);
      });
}

absl::StatusOr<v1::CloseCaseResponse> PeerClient::CloseCase(const network::ManifestNode& peer,
                                                            const v1::CloseCaseRequest& request,
                                                            const std::string& trace_id, Deadline deadline) {
  return CallOne<v1::CloseCaseResponse>(peer, "Peer.CloseCase", trace_id, deadline, true,
                                        [&](v1::Peer::Stub& stub, grpc::ClientContext& ctx, v1::CloseCaseResponse& resp) {
                                          return stub.CloseCase(&ctx, request, &resp);
                                        });
}

absl::StatusOr<v1::ConsentCheck> PeerClient::ConsentStatus(const network::ManifestNode& issuer,
                                                            const std::string& receipt_id, Deadline deadline) {
  std::string traceparent;
  v1::ConsentStatusRequest req;
  req.set_receipt_id(receipt_id);
  auto resp = CallOne<v1::ConsentStatusResponse>(
      issuer, "Peer.ConsentStatus", "", deadline, true,
      [&](v1::Peer::Stub& stub, grpc::ClientContext& ctx, v1::ConsentStatusResponse& r) {
        return stub.ConsentStatus(&ctx, req, &r);
      },
      &traceparent);
  if (!resp.ok()) return resp.status();
  v1::ConsentCheck answer;
  answer.set_receipt_id(receipt_id);
  answer.set_issuer_org(issuer.org);
  answer.set_state(resp->state());
  answer.set_trace_id(TraceIdOf(traceparent));
  answer.set_span_id(SpanIdOf(traceparent));
  return answer;
}

std::vector<v1::PeerReachability> PeerClient::PingAll(const std::string& trace_id) {
  const auto manifest = network_.manifest();
  std::vector<const network::ManifestNode*> peers;
  for (const auto& n : manifest->nodes) {
    if (n.org != network_.self_org()) peers.push_back(&n);
  }
  return PingAll(trace_id, peers, {}, {});
}

template <typename Request, typename Response, typename Call>
std::vector<PeerClient::Reply<Response>> PeerClient::CallAll(const std::vector<const network::ManifestNode*>& peers,
                                                             const Request& request, const std::string& trace_id,
                                                             std::string_view method, const std::string& consent_header,
                                                             Call call, Deadline deadline, bool wait_for_ready) {
  struct Pending {
    grpc::ClientContext context;
    Response response;
    grpc::Status status;
    std::shared_ptr<v1::Peer::Stub> stub;
    std::chrono::steady_clock::time_point start;
    std::chrono::steady_clock::time_point end;
    std::string traceparent;
    std::chrono::system_clock::time_point started;
  };
  std::vector<std::unique_ptr<Pending>> pending;
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;
  for (const network::ManifestNode* peer : peers) {
    auto p = std::make_unique<Pending>();
    p->context.set_deadline(std::min(deadline, std::chrono::system_clock::now() + timeout_));
    // Wait for a connection until the deadline rather than fail at once on a
    // channel in backoff: a peer that is up by then answers; one that is not
    // is reported unreachable when the deadline passes, never sooner.
    p->context.set_wait_for_ready(wait_for_ready);
    p->traceparent = NewTraceparent(trace_id);
    p->context.AddMetadata(kTraceparentHeader, p->traceparent);
    if (!consent_header.empty()) p->context.AddMetadata(kConsentHeader, consent_header);
    p->start = std::chrono::steady_clock::now();
    p->started = std::chrono::system_clock::now();
    Pending* raw = p.get();
    Log(LogLevel::kDebug, "peer.call.start", {{"method", method}, {"peer_org", peer->org}, {"trace_id", trace_id}});
    p->stub = Stub(*peer);
    call(p->stub->async(), &raw->context, &request, &raw->response, [&, raw](grpc::Status s) {
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
  std::vector<Reply<Response>> out;
  for (size_t i = 0; i < peers.size(); ++i) {
    Pending& p = *pending[i];
    absl::Status status = FromGrpcStatus(p.status);
    Observe(method, peers[i]->org, p.traceparent, p.started, p.end - p.start, status);
    out.push_back({peers[i], std::move(status), std::move(p.response),
                   std::chrono::duration<double, std::milli>(p.end - p.start)});
  }
  return out;
}

std::vector<v1::PeerReachability> PeerClient::PingAll(const std::string& trace_id,
                                                      const std::vector<const network::ManifestNode*>& peers,
                                                      const std::vector<v1::ConsentReceipt>& receipts,
                                                      const std::string& subject) {
  std::string consent_header;
  if (!receipts.empty()) {
    v1::ConsentReceiptList list;
    for (const auto& r : receipts) *list.add_receipts() = r;
    consent_header = list.SerializeAsString();
  }
  v1::PingRequest request;
  request.set_manifest_version(network_.manifest()->version);
  request.set_subject(subject);
  auto replies = CallAll<v1::PingRequest, v1::PingResponse>(
      peers, request, trace_id, "Peer.Ping", consent_header,
      [](auto* async, grpc::ClientContext* ctx, const v1::PingRequest* req, v1::PingResponse* resp, auto done) {
        async->Ping(ctx, req, resp, std::move(done));
      });
  std::vector<v1::PeerReachability> out;
  for (const auto& reply : replies) {
    v1::PeerReachability r;
    r.set_org(reply.peer->org);
    r.set_role(reply.peer->role);
    if (reply.status.ok() && reply.response.org() == reply.peer->org) {
      r.set_reachable(true);
      r.set_rtt_ms(reply.rtt.count());
    } else if (reply.status.ok()) {
      r.set_error("PEER_IDENTITY_MISMATCH: answered as another organisation");
    } else {
      const std::string_view reason = ReasonName(ReasonOf(reply.status));
      r.set_error(std::string(absl::StatusCodeToString(reply.status.code())) +
                  (reason.empty() ? "" : ": " + std::string(reason)));
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<PeerClient::Reply<v1::EvaluatePseudonymResponse>> PeerClient::EvaluatePseudonym(
    const std::vector<const network::ManifestNode*>& holders, const v1::EvaluatePseudonymRequest& request,
    const std::string& trace_id, Deadline deadline) {
  return CallAll<v1::EvaluatePseudonymRequest, v1::EvaluatePseudonymResponse>(
      holders, request, trace_id, "Peer.EvaluatePseudonym", {},
      [](auto* async, grpc::ClientContext* ctx, const v1::EvaluatePseudonymRequest* req,
         v1::EvaluatePseudonymResponse* resp, auto done) { async->EvaluatePseudonym(ctx, req, resp, std::move(done)); },
      deadline);
}

std::vector<PeerClient::Reply<v1::LookupSignalResponse>> PeerClient::LookupSignal(
    const std::vector<const network::ManifestNode*>& peers, const v1::LookupSignalRequest& request,
    const std::string& trace_id, Deadline deadline) {
  return CallAll<v1::LookupSignalRequest, v1::LookupSignalResponse>(
      peers, request, trace_id, "Peer.LookupSignal", {},
      [](auto* async, grpc::ClientContext* ctx, const v1::LookupSignalRequest* req, v1::LookupSignalResponse* resp,
         auto done) { async->LookupSignal(ctx, req, resp, std::move(done)); },
      deadline);
}

PeerClient::Reply<v1::NotifySignalResponse> PeerClient::NotifySignal(const network::ManifestNode& peer,
                                                                     const v1::NotifySignalRequest& request,
                                                                     const std::string& trace_id) {
  return std::move(
      CallAll<v1::NotifySignalRequest, v1::NotifySignalResponse>(
          {&peer}, request, trace_id, "Peer.NotifySignal", {},
          [](auto* async, grpc::ClientContext* ctx, const v1::NotifySignalRequest* req, v1::NotifySignalResponse* resp,
             auto done) { async->NotifySignal(ctx, req, resp, std::move(done)); },
          // Not waiting for a connection: a notice withdrawn meanwhile must
          // not go out when the recipient comes up within the wait.
          Deadline::max(), /*wait_for_ready=*/false)
          .front());
}

}  // namespace casenode::node
