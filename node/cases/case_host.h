// CaseHost: the Peer side of cases (DESIGN.md, "Cases"). At the convener it
// answers members (join, contribute, read, agreements, close); at a member it
// takes invitations and destruction orders. Every call passes PeerGate with
// facts from the case as this node keeps it:
//   - the caller is a member only if it accepted (or is the convener itself;
//     an invitee only for join); a non-member and a case id that does not
//     exist give the same facts (no subject, no receipts, case_member false)
//     and so the same answer, NOT_CASE_MEMBER, from the same decision and
//     log write (reading an existing index costs one record decryption more);
//   - case_active: the case is open; within_retention: not past destroy_at;
//   - the case's consent receipts are brought to every decision about it, so
//     a revoked receipt stops the next disclosure that rests on it;
//   - a read decides each contribution (its category and the basis it was
//     shared on) as one more decision of the same call; what may not be read
//     is listed as withheld with the reason, never dropped.
// Thread-safe.
#pragma once

#include <functional>

#include "casenode/v1/peer.grpc.pb.h"
#include "store/key_store.h"
#include "keys/secret.h"
#include "node/audit/audit_log.h"
#include "node/cases/case_book.h"
#include "node/gate/gate.h"
#include "network/network.h"

namespace casenode::node {

// This node's X25519 key pair, which opens invitations sealed to it.
struct CaseIdentity {
  keys::SecretBytes secret;
  keys::PublicKey public_key{};
};

// Appends a case event (synced), about the case's child if `subject` is given.
[[nodiscard]] absl::Status LogCaseEvent(AuditLog& audit, store::KeyStore& keys, const std::string& trace_id,
                                        const std::optional<std::array<uint8_t, 32>>& subject,
                                        std::string_view case_id, v1::CaseEvent::Kind kind, std::string_view org);

class CaseHost {
 public:
  CaseHost(const network::Network& network, PeerGate& gate, CaseBook& book, AuditLog& audit, store::KeyStore& keys,
           const CaseIdentity& identity, Clock clock, std::function<void()> kick_keeper)
      : network_(network),
        gate_(gate),
        book_(book),
        audit_(audit),
        keys_(keys),
        identity_(identity),
        clock_(std::move(clock)),
        kick_keeper_(std::move(kick_keeper)) {}

  grpc::Status InviteToCase(grpc::ServerContext* context, const v1::InviteToCaseRequest& request,
                            v1::InviteToCaseResponse& response);
  grpc::Status AnswerCaseInvitation(grpc::ServerContext* context, const v1::AnswerCaseInvitationRequest& request);
  grpc::Status ContributeToCase(grpc::ServerContext* context, const v1::ContributeToCaseRequest& request,
                                v1::ContributeToCaseResponse& response);
  grpc::Status ReadCase(grpc::ServerContext* context, const v1::ReadCaseRequest& request,
                        v1::ReadCaseResponse& response);
  grpc::Status SetCaseAction(grpc::ServerContext* context, const v1::SetCaseActionRequest& request,
                             v1::SetCaseActionResponse& response);
  grpc::Status CloseCase(grpc::ServerContext* context, const v1::CloseCaseRequest& request,
                         v1::CloseCaseResponse& response);
  grpc::Status DestroyCase(grpc::ServerContext* context, const v1::DestroyCaseRequest& request);

 private:
  // The facts of a call about a case convened here, by `caller`. CASE_DESTROYED
  // for a member of a destroyed case.
  struct Membership {
    bool invitee_too = false;  // an invitee that has not answered counts (join)
  };
  absl::StatusOr<PeerCallFacts> ConvenerFacts(std::string_view case_id, const network::Caller& caller, std::string action,
                                              std::vector<std::string> categories, std::string legal_basis,
                                              Membership who, v1::CaseIndex* index, v1::CaseSecrets* secrets) const;
  int64_t NowMs() const;

  const network::Network& network_;
  PeerGate& gate_;
  CaseBook& book_;
  AuditLog& audit_;
  store::KeyStore& keys_;
  const CaseIdentity& identity_;
  const Clock clock_;
  const std::function<void()> kick_keeper_;
};

}  // namespace casenode::node
