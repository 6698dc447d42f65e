// PeerClient: this node's calls to other nodes, over mTLS with its own
// certificate. One channel per peer, reused; fan-out runs in parallel, each
// call with the configured deadline. A peer that is down or slow is reported
// as unreachable, never as an answer. Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "casenode/v1/local.pb.h"
#include "casenode/v1/peer.grpc.pb.h"
#include "keys/secret.h"
#include "network/network.h"
#include "node/rpc/tls.h"

namespace casenode::node {

class PeerClient {
 public:
  using Deadline = std::chrono::system_clock::time_point;

  PeerClient(const network::Network& network, const TlsIdentity& tls, std::chrono::milliseconds timeout, int max_message_bytes);

  // Told of every call this client made, when it ends, with the time it
  // started (the caller's side of the audit trail) and how long it took (its
  // round trip, by the monotonic clock). Set once, before any call.
  using CallObserver =
      std::function<void(std::string_view method, const std::string& peer_org, std::string_view traceparent,
                         std::chrono::system_clock::time_point started, std::chrono::steady_clock::duration took,
                         const absl::Status& outcome)>;
  void SetObserver(CallObserver observer) { observer_ = std::move(observer); }

  // Drops every channel: the next call to each peer connects anew, with this
  // node's current certificate (after TlsIdentity::SetCertificate). Calls
  // under way finish on the channel they started on.
  void Reconnect();

  // For each peer of the manifest this node has called: false if its
  // channel's last connection attempt failed (gRPC TRANSIENT_FAILURE), true
  // if connected or idle. Asks nothing of the peers.
  std::vector<std::pair<std::string, bool>> Reachable();

  // Pings one peer, with consent receipts attached if any. Never fails: an
  // unreachable or refusing peer is a result.
  v1::PeerReachability Ping(const network::ManifestNode& peer, const std::string& trace_id,
                            const std::vector<v1::ConsentReceipt>& receipts = {}, const std::string& subject = {});
  // Pings every other node of the manifest in parallel.
  std::vector<v1::PeerReachability> PingAll(const std::string& trace_id);
  // One peer's answer in a fan-out: its status (OK, or why it did not answer
  // well), the response, and the round-trip time.
  template <typename Response>
  struct Reply {
    const network::ManifestNode* peer = nullptr;
    absl::Status status;
    Response response;
    std::chrono::duration<double, std::milli> rtt{0};
  };
  // Asks each of `holders` in parallel to evaluate its share of the pseudonym
  // key on `request`'s blinded element; one reply per holder, in order.
  // Every call ends by `deadline` at the latest (and within the configured timeout).
  std::vector<Reply<v1::EvaluatePseudonymResponse>> EvaluatePseudonym(
      const std::vector<const network::ManifestNode*>& holders, const v1::EvaluatePseudonymRequest& request,
      const std::string& trace_id, Deadline deadline);
  // Asks each of `peers` in parallel whether it holds a signal on `request`'s subject.
  std::vector<Reply<v1::LookupSignalResponse>> LookupSignal(const std::vector<const network::ManifestNode*>& peers,
                                                            const v1::LookupSignalRequest& request,
                                                            const std::string& trace_id, Deadline deadline);
  // Delivers one match notice; fails at once if the peer is not connected
  // (the notifier retries), rather than wait for it: a signal withdrawn while
  // its notice waited would still be announced.
  Reply<v1::NotifySignalResponse> NotifySignal(const network::ManifestNode& peer, const v1::NotifySignalRequest& request,
                                               const std::string& trace_id);
  // Asks a receipt's issuer whether it stands, by `deadline` at the latest
  // (and within the configured timeout). An error if it cannot be reached or
  // refuses. The answer names the receipt, the issuer, its state and the
  // call's trace context, which the issuer logs with its answer.
  [[nodiscard]] absl::StatusOr<v1::ConsentCheck> ConsentStatus(const network::ManifestNode& issuer,
                                                               const std::string& receipt_id, Deadline deadline);
  // The auditor's reads of a peer's audit log, each by `deadline` at the latest.
  [[nodiscard]] absl::StatusOr<v1::AuditCheckpointResponse> AuditCheckpoint(const network::ManifestNode& peer,
                                                                            const v1::AuditCheckpointRequest& request,
                                                                            const std::string& trace_id,
                                                                            Deadline deadline);
  [[nodiscard]] absl::StatusOr<v1::CosignResponse> Cosign(const network::ManifestNode& peer,
                                                          const v1::CosignRequest& request, Deadline deadline);
  // A quota alarm to an auditor node (node/audit/alarms.h), within the peer timeout.
  [[nodiscard]] absl::Status ReportAlarm(const network::ManifestNode& auditor, const v1::QuotaAlarm& alarm);
  // Case calls to one peer (node/cases), each by `deadline` at the latest.
  // Each waits for a connection until then: a peer whose channel is in
  // backoff is tried again at once, and answers if it is up.
  [[nodiscard]] absl::StatusOr<v1::InviteToCaseResponse> InviteToCase(
      const network::ManifestNode& peer, const v1::InviteToCaseRequest& request,
      const std::vector<v1::ConsentReceipt>& receipts, const std::string& trace_id, Deadline deadline);
  [[nodiscard]] absl::StatusOr<v1::DestroyCaseResponse> DestroyCase(const network::ManifestNode& peer,
                                                                    const v1::DestroyCaseRequest& request,
                                                                    const std::string& trace_id, Deadline deadline);
  [[nodiscard]] absl::StatusOr<v1::AnswerCaseInvitationResponse> AnswerCaseInvitation(
      const network::ManifestNode& peer, const v1::AnswerCaseInvitationRequest& request, const std::string& trace_id,
      Deadline deadline);
  [[nodiscard]] absl::StatusOr<v1::ContributeToCaseResponse> ContributeToCase(
      const network::ManifestNode& peer, const v1::ContributeToCaseRequest& request, const std::string& trace_id,
      Deadline deadline);
  [[nodiscard]] absl::StatusOr<v1::ReadCaseResponse> ReadCase(const network::ManifestNode& peer,
                                                              const v1::ReadCaseRequest& request,
                                                              const std::string& trace_id, Deadline deadline);
  [[nodiscard]] absl::StatusOr<v1::SetCaseActionResponse> SetCaseAction(const network::ManifestNode& peer,
                                                                        const v1::SetCaseActionRequest& request,
                                                                        const std::string& trace_id,
                                                                        Deadline deadline);
  [[nodiscard]] absl::StatusOr<v1::CloseCaseResponse> CloseCase(const network::ManifestNode& peer,
                                                                const v1::CloseCaseRequest& request,
                                                                const std::string& trace_id, Deadline deadline);
  [[nodiscard]] absl::StatusOr<v1::ReadAuditResponse> ReadAudit(const network::ManifestNode& peer,
                                                                const v1::ReadAuditRequest& request,
                                                                const std::string& trace_id, Deadline deadline);

 private:
  // Shared: a reload may replace a channel while a call on the old one runs.
  std::shared_ptr<v1::Peer::Stub> Stub(const network::ManifestNode& peer);
  // One call to one peer: `rpc(stub, context, response)`; `*traceparent`
  // (if given) gets the trace context the call carried.
  template <typename Response, typename Rpc>
  absl::StatusOr<Response> CallOne(const network::ManifestNode& peer, std::string_view method, const std::string& trace_id,
                                   Deadline deadline, bool wait_for_ready, Rpc rpc, std::string* traceparent = nullptr,
                                   const std::string& consent_header = {});
  void Observe(std::string_view method, const std::string& peer_org, std::string_view traceparent,
               std::chrono::system_clock::time_point started, std::chrono::steady_clock::duration took,
               const absl::Status& outcome) const {
    if (observer_) observer_(method, peer_org, traceparent, started, took, outcome);
  }
  // The fan-out: `call(async stub, context, request, response, done)` starts
  // one call per peer; waits for all, each bounded by the configured timeout.
  template <typename Request, typename Response, typename Call>
  std::vector<Reply<Response>> CallAll(const std::vector<const network::ManifestNode*>& peers, const Request& request,
                                       const std::string& trace_id, std::string_view method,
                                       const std::string& consent_header, Call call,
                                       Deadline deadline = Deadline::max(), bool wait_for_ready = true);
  std::vector<v1::PeerReachability> PingAll(const std::string& trace_id,
                                            const std::vector<const network::ManifestNode*>& peers,
                                            const std::vector<v1::ConsentReceipt>& receipts,
                                            const std::string& subject);

  static std::pair<std::string, std::string> Fingerprints(const network::ManifestNode& peer) {
    return {peer.tls_cert_sha256, peer.tls_cert_sha256_also};
  }
  struct Channel {
    std::string endpoint;
    std::pair<std::string, std::string> fingerprints;  // the pin
    std::shared_ptr<grpc::Channel> channel;
    std::shared_ptr<v1::Peer::Stub> stub;
  };
  CallObserver observer_;
  const network::Network& network_;
  const TlsIdentity& tls_;
  const std::chrono::milliseconds timeout_;
  const int max_message_bytes_;
  std::mutex mu_;
  std::map<std::string, Channel> channels_;  // by org; rebuilt when a manifest moves or re-keys a peer
};

}  // namespace casenode::node
