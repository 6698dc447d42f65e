#include "node/signals/desk.h"

#include <algorithm>

#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "node/rpc/status.h"
#include "node/vocabulary/vocabulary.h"

namespace casenode::node {
namespace {

PeerClient::Deadline HalfwayTo(PeerClient::Deadline deadline) {
  const auto now = std::chrono::system_clock::now();
  return deadline <= now ? deadline : now + (deadline - now) / 2;
}

}  // namespace


SignalDesk::SignalDesk(const network::Network& network, PeerClient& peers, PseudonymDeriver& deriver, SignalBook& book,
                       Notifier& notifier, PolicyNow policy, Clock clock)
    : network_(network),
      peers_(peers),
      deriver_(deriver),
      book_(book),
      notifier_(notifier),
      policy_(std::move(policy)),
      clock_(std::move(clock)) {}

absl::StatusOr<v1::SignalCheckResult> SignalDesk::Lookup(const Pseudonym& p, std::string_view purpose,
                                                         std::string_view legal_basis, const std::string& trace_id,
                                                         PeerClient::Deadline deadline,
                                                         std::string_view exclude_signal_id) {
  const auto manifest = network_.manifest();
  const network::ManifestNode self = network_.self();
  const auto policy = policy_();
  // Who takes part is the network policy's call, whatever this lookup's
  // purpose and this node's local rules: every peer whose role it lets look
  // up signals. Each decides for itself; a refusal is listed, not hidden.
  std::vector<const network::ManifestNode*> asked;
  for (const network::ManifestNode& n : manifest->nodes) {
    if (n.org != self.org && policy->NetworkAllowsRole(network::RoleName(n.role), vocab::kSignalLookup)) asked.push_back(&n);
  }
  v1::LookupSignalRequest request;
  request.set_subject(std::string(p.begin(), p.end()));
  request.set_purpose(std::string(purpose));
  request.set_legal_basis(std::string(legal_basis));
  auto replies = peers_.LookupSignal(asked, request, trace_id, deadline);

  v1::SignalCheckResult result;
  ASSIGN_OR_RETURN(std::vector<v1::SignalRecord> own, book_.On(p));
  for (const auto& s : own) {
    if (s.signal_id() != exclude_signal_id) *result.add_matches() = SignalBook::MatchOf(s, self);
  }
  for (auto& reply : replies) {
    if (reply.status.ok()) {
      for (auto& m : *reply.response.mutable_matches()) {
        // A peer speaks for itself only.
        m.set_org(reply.peer->org);
        m.set_role(reply.peer->role);
        *result.add_matches() = std::move(m);
      }
    } else if (AnsweredByPolicy(reply.status)) {
      v1::PeerDenial* d = result.add_denied();
      d->set_org(reply.peer->org);
      d->set_reason(std::string(ReasonName(ReasonOf(reply.status))));
    } else {
      // Not reached, out of time, or a failure on its side (it may hold a
      // signal it could not read): the question stays open for this peer.
      result.add_unreachable(reply.peer->org);
    }
  }
  result.set_status(result.unreachable().empty() ? v1::CHECK_COMPLETE : v1::CHECK_INCOMPLETE);
  return result;
}

absl::StatusOr<v1::SignalCheckResult> SignalDesk::Check(const Bsn& bsn, std::string_view purpose,
                                                        std::string_view legal_basis, const std::string& trace_id,
                                                        PeerClient::Deadline deadline) {
  ASSIGN_OR_RETURN(Derivation d, deriver_.Derive(bsn, purpose, legal_basis, trace_id, HalfwayTo(deadline)));
  return Lookup(d.pseudonym, purpose, legal_basis, trace_id, deadline, {});
}

absl::StatusOr<v1::RegisterSignalResponse> SignalDesk::Register(const Bsn& bsn, const SignalDraft& draft,
                                                                std::string_view legal_basis,
                                                                const std::string& trace_id,
                                                                PeerClient::Deadline deadline) {
  ASSIGN_OR_RETURN(Derivation d, deriver_.Derive(bsn, draft.purpose, legal_basis, trace_id, HalfwayTo(deadline)));
  const auto retention = std::chrono::seconds(policy_()->signal_settings().retention_seconds);
  // Stored before the lookup: of two registrations at the same time, at
  // least one sees the other.
  ASSIGN_OR_RETURN(v1::SignalRecord signal, book_.Register(d.pseudonym, draft, retention));
  ASSIGN_OR_RETURN(v1::SignalCheckResult found,
                   Lookup(d.pseudonym, draft.purpose, legal_basis, trace_id, deadline, signal.signal_id()));
  const network::ManifestNode self = network_.self();
  const SubjectHandle handle = book_.HandleOf(d.pseudonym);

  auto pending_to = [&](const std::string& org) {
    v1::PendingNotice pending;
    pending.set_notice_id(SignalBook::NewId());
    pending.set_to_org(org);
    pending.set_subject(std::string(d.pseudonym.begin(), d.pseudonym.end()));
    pending.set_purpose(draft.purpose);
    pending.set_legal_basis(std::string(legal_basis));
    *pending.mutable_from() = SignalBook::MatchOf(signal, self);
    pending.set_subject_handle(std::string(handle.begin(), handle.end()));
    pending.set_signal_id(signal.signal_id());
    pending.set_expires_at_ms(signal.expires_at_ms());
    return pending;
  };
  // One notice per other organisation holding a signal on the child, and one
  // to each that did not answer: it may hold one, and is told when it is back
  // (it keeps nothing if it holds none).
  std::vector<v1::MatchNotice> inbox;
  std::vector<v1::PendingNotice> outbox;
  std::vector<std::string> told;
  for (const v1::SignalMatch& m : found.matches()) {
    if (m.org() == self.org || std::find(told.begin(), told.end(), m.org()) != told.end()) continue;
    told.push_back(m.org());
    outbox.push_back(pending_to(m.org()));
    // This lookup just found its signal: the notice may go without another.
    outbox.back().set_looked_up_at_ms(
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count());
    v1::MatchNotice mine;
    mine.set_notice_id(outbox.back().notice_id());
    mine.set_sent(true);
    *mine.mutable_other() = m;
    mine.add_signal_ids(signal.signal_id());
    mine.set_time_ms(signal.registered_at_ms());
    mine.set_expires_at_ms(signal.expires_at_ms());
    inbox.push_back(std::move(mine));
  }
  for (const std::string& org : found.unreachable()) {
    outbox.push_back(pending_to(org));
    // Shown as pending until it answers; dropped if it holds no signal.
    v1::MatchNotice mine;
    mine.set_notice_id(outbox.back().notice_id());
    mine.set_sent(true);
    mine.mutable_other()->set_org(org);
    if (const network::ManifestNode* n = network_.manifest()->FindOrg(org)) mine.mutable_other()->set_role(n->role);
    mine.add_signal_ids(signal.signal_id());
    mine.set_time_ms(signal.registered_at_ms());
    mine.set_expires_at_ms(signal.expires_at_ms());
    inbox.push_back(std::move(mine));
  }
  RETURN_IF_ERROR(book_.Announce(handle, inbox, outbox));
  if (!outbox.empty()) notifier_.Kick();
  v1::RegisterSignalResponse response;
  response.set_signal_id(signal.signal_id());
  response.set_expires_at_ms(signal.expires_at_ms());
  *response.mutable_check() = std::move(found);
  return response;
}

}  // namespace casenode::node
