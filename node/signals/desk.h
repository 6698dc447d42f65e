// SignalDesk: the school's question across the network (DESIGN.md, "Signals
// and matches"). Check derives the child's pseudonym, asks every peer that
// takes part in signal matching (Peer LookupSignal, in parallel, each within
// the peer timeout) and adds this node's own signals. Register stores a
// signal, does the same lookup, and sends a match notice to each organisation
// that holds a matching signal (through the outbox, so a notice to a node
// that is down is delivered when it returns); both sides see it in their inbox.
//
// The answer is honest about who did not answer: `status` is CHECK_COMPLETE only
// when every peer asked gave an answer (a match list, or a refusal by its
// policy); a peer that could not be reached or failed is listed and makes it
// CHECK_INCOMPLETE, never "not known". Which peers take part is the network
// policy's call: those whose role it lets look up signals at all.
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "base/bsn.h"
#include "casenode/v1/local.pb.h"
#include "network/network.h"
#include "node/pseudonym/deriver.h"
#include "node/rpc/peer_client.h"
#include "node/signals/notifier.h"
#include "node/signals/signal_book.h"
#include "policy/policy.h"

namespace casenode::node {


class SignalDesk {
 public:
  using PolicyNow = std::function<std::shared_ptr<const policy::Policy>()>;
  SignalDesk(const network::Network& network, PeerClient& peers, PseudonymDeriver& deriver, SignalBook& book, Notifier& notifier,
             PolicyNow policy, Clock clock);

  // Both answer by `deadline`: the derivation gets half the time left, the lookup the rest.
  [[nodiscard]] absl::StatusOr<v1::SignalCheckResult> Check(const Bsn& bsn, std::string_view purpose,
                                                            std::string_view legal_basis, const std::string& trace_id,
                                                            PeerClient::Deadline deadline);
  [[nodiscard]] absl::StatusOr<v1::RegisterSignalResponse> Register(const Bsn& bsn, const SignalDraft& draft,
                                                                    std::string_view legal_basis,
                                                                    const std::string& trace_id,
                                                                    PeerClient::Deadline deadline);

 private:
  // The lookup for a derived pseudonym: peers' answers and this node's signals.
  // `exclude_signal_id`: this node's signal that is not a match (the one being registered).
  absl::StatusOr<v1::SignalCheckResult> Lookup(const Pseudonym& p, std::string_view purpose,
                                               std::string_view legal_basis, const std::string& trace_id,
                                               PeerClient::Deadline deadline, std::string_view exclude_signal_id);

  const network::Network& network_;
  PeerClient& peers_;
  PseudonymDeriver& deriver_;
  SignalBook& book_;
  Notifier& notifier_;
  const PolicyNow policy_;
  const Clock clock_;
};

}  // namespace casenode::node
