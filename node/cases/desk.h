// CaseDesk: what staff do with cases (casectl case ...), on the Local API.
//
// Convene derives the child's pseudonym, has this node's policy decide
// case.convene (logged), and stores the case with an invitation order per
// invitee (CaseKeeper delivers them). Everything else goes to the convener
// as a Peer call (the convener's own staff included), so that one gate
// decides and logs every contribution, read, agreement and close. Texts are
// sealed under the case key here, before they leave, and opened here.
// Thread-safe.
#pragma once

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "base/bsn.h"
#include "casenode/v1/local.pb.h"
#include "node/audit/audit_log.h"
#include "node/cases/case_book.h"
#include "node/cases/keeper.h"
#include "node/gate/gate.h"
#include "network/network.h"
#include "node/pseudonym/deriver.h"
#include "node/rpc/peer_client.h"

namespace casenode::node {

class CaseDesk {
 public:
  CaseDesk(const network::Network& network, PeerClient& peers, PseudonymDeriver& deriver, PeerGate& gate, CaseBook& book,
           AuditLog& audit, store::KeyStore& keys, CaseKeeper& keeper, Clock clock)
      : network_(network),
        peers_(peers),
        deriver_(deriver),
        gate_(gate),
        book_(book),
        audit_(audit),
        keys_(keys),
        keeper_(keeper),
        clock_(std::move(clock)) {}

  using Deadline = PeerClient::Deadline;
  // Each request has passed edge::Check (node/edge/requests.h): its fields are
  // well formed and name what the network knows.
  [[nodiscard]] absl::StatusOr<v1::ConveneCaseResponse> Convene(const v1::ConveneCaseRequest& request,
                                                                const std::string& trace_id, Deadline deadline);
  [[nodiscard]] absl::StatusOr<v1::ListCasesResponse> List() const;
  [[nodiscard]] absl::Status Answer(const v1::AnswerCaseRequest& request, const std::string& trace_id,
                                    Deadline deadline);
  [[nodiscard]] absl::StatusOr<v1::ContributeCaseResponse> Contribute(const v1::ContributeCaseRequest& request,
                                                                      const std::string& trace_id, Deadline deadline);
  [[nodiscard]] absl::StatusOr<v1::CaseView> Show(const v1::ShowCaseRequest& request, const std::string& trace_id,
                                                  Deadline deadline);
  [[nodiscard]] absl::StatusOr<v1::CaseActionView> SetAction(const v1::SetActionRequest& request,
                                                             const std::string& trace_id, Deadline deadline);
  [[nodiscard]] absl::StatusOr<v1::CloseCaseLocalResponse> Close(const v1::CloseCaseLocalRequest& request,
                                                                 const std::string& trace_id, Deadline deadline);

 private:
  // The case as this node holds it, with its key: CASE_DESTROYED once destroyed here.
  struct Held {
    v1::CaseIndex index;
    v1::CaseSecrets secrets;
    network::ManifestNode convener;
  };
  [[nodiscard]] absl::StatusOr<Held> Hold(std::string_view case_id) const;
  v1::CaseActionView ViewOf(const v1::CaseAction& action, std::string_view case_id, std::string_view key) const;
  int64_t NowMs() const;

  const network::Network& network_;
  PeerClient& peers_;
  PseudonymDeriver& deriver_;
  PeerGate& gate_;
  CaseBook& book_;
  AuditLog& audit_;
  store::KeyStore& keys_;
  CaseKeeper& keeper_;
  const Clock clock_;
};

}  // namespace casenode::node
