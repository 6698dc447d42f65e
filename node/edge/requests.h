// The edge: one check per request message type, for every Local and Peer
// method, run first by the service that takes it. A request that passes is
// well formed: every length and count bounded, identifiers by their syntax,
// text free of control characters, no duplicates, and (for Local requests,
// which staff type) every name one the network knows. A refusal is
// INVALID_ARGUMENT with reason MALFORMED_REQUEST (INVALID_BSN for a BSN,
// UNKNOWN_ORG, UNKNOWN_PURPOSE, ... for a name the network does not know),
// and its message starts with the field; it is given before anything is
// derived, decided, logged or stored, and echoes no BSN or text.
//
// Peer requests are checked for syntax only: whether a well-formed purpose or
// basis is one the policy allows is the gate's decision, and is logged.
// What depends on stored state (is this node a member of the case, is the
// tree size within the log) stays with the part that holds the state.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "base/time.h"
#include "casenode/v1/local.pb.h"
#include "casenode/v1/peer.pb.h"
#include "network/manifest.h"
#include "policy/policy.h"

namespace casenode::node::edge {

// What a Local request may name: the network policy's vocabulary and the
// manifest's organisations, as loaded now.
struct Known {
  std::shared_ptr<const policy::Policy> policy;
  std::shared_ptr<const network::Manifest> manifest;
  std::string self_org;
  SystemTime now;
};
using KnownFn = std::function<Known()>;

// ---- Local: the node's own staff and operators ----
[[nodiscard]] absl::Status Check(const v1::DeclareGapRequest& r);
[[nodiscard]] absl::Status Check(const v1::DerivePseudonymRequest& r, const Known& known);
[[nodiscard]] absl::Status Check(const v1::RegisterSignalRequest& r, const Known& known);
[[nodiscard]] absl::Status Check(const v1::CheckSignalRequest& r, const Known& known);
[[nodiscard]] absl::Status Check(const v1::WithdrawSignalRequest& r);
[[nodiscard]] absl::Status Check(const v1::PingPeerRequest& r, const Known& known);
[[nodiscard]] absl::Status Check(const v1::BackupRequest& r);
[[nodiscard]] absl::Status Check(const v1::ConsentRecordRequest& r, const Known& known);
[[nodiscard]] absl::Status Check(const v1::ConsentRevokeRequest& r);
[[nodiscard]] absl::Status Check(const v1::ConsentConfirmRequest& r);
[[nodiscard]] absl::Status Check(const v1::ConsentListRequest& r);
[[nodiscard]] absl::Status Check(const v1::ConsentShowRequest& r);
[[nodiscard]] absl::Status Check(const v1::ConsentVerifyRequest& r);
[[nodiscard]] absl::Status Check(const v1::AuditVerifyRequest& r, const Known& known);
[[nodiscard]] absl::Status Check(const v1::AuditReconcileRequest& r);
[[nodiscard]] absl::Status Check(const v1::AuditInzageRequest& r);
[[nodiscard]] absl::Status Check(const v1::ConveneCaseRequest& r, const Known& known);
[[nodiscard]] absl::Status Check(const v1::AnswerCaseRequest& r);
[[nodiscard]] absl::Status Check(const v1::ContributeCaseRequest& r, const Known& known);
[[nodiscard]] absl::Status Check(const v1::ShowCaseRequest& r);
[[nodiscard]] absl::Status Check(const v1::SetActionRequest& r, const Known& known);
[[nodiscard]] absl::Status Check(const v1::CloseCaseLocalRequest& r);
// Status, Reload, Sweep, Rotate, Show (policy), List and Inbox (signals) and
// List (cases) carry no fields.

// ---- Peer: other organisations' nodes, authenticated by the gate after this ----
[[nodiscard]] absl::Status Check(const v1::PingRequest& r);
[[nodiscard]] absl::Status Check(const v1::ConsentStatusRequest& r);
[[nodiscard]] absl::Status Check(const v1::EvaluatePseudonymRequest& r);
[[nodiscard]] absl::Status Check(const v1::LookupSignalRequest& r);
[[nodiscard]] absl::Status Check(const v1::NotifySignalRequest& r);
[[nodiscard]] absl::Status Check(const v1::AuditCheckpointRequest& r);
[[nodiscard]] absl::Status Check(const v1::ReadAuditRequest& r);
[[nodiscard]] absl::Status Check(const v1::CosignRequest& r);
[[nodiscard]] absl::Status Check(const v1::ReportAlarmRequest& r);
[[nodiscard]] absl::Status Check(const v1::InviteToCaseRequest& r);
[[nodiscard]] absl::Status Check(const v1::AnswerCaseInvitationRequest& r);
[[nodiscard]] absl::Status Check(const v1::ContributeToCaseRequest& r);
[[nodiscard]] absl::Status Check(const v1::ReadCaseRequest& r);
[[nodiscard]] absl::Status Check(const v1::SetCaseActionRequest& r);
[[nodiscard]] absl::Status Check(const v1::CloseCaseRequest& r);
[[nodiscard]] absl::Status Check(const v1::DestroyCaseRequest& r);

}  // namespace casenode::node::edge
