#include "node/signals/desk.h"

#include <algorithm>

#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"

namespace casenode::node {
namespace {

v1::SignalMatch MatchOf(const v1::SignalRecord& s, const keys::ManifestNode& self) {
  v1::SignalMatch m;
  m.set_org(self.org);
  m.set_role(self.role);
  m.set_contact(s.contact());
  m.set_category(s.category());
  m.set_since_ms(s.registered_at_ms());
  return m;
}

// A peer that did not give an answer of its own: not reachable in time, or
// refused by the transport. A peer whose gate refused the call answered.
bool Unreachable(const absl::Status& s) {
  return ReasonOf(s) == Reason::kNone &&
         (s.code() == absl::StatusCode::kUnavailable || s.code() == absl::StatusCode::kDeadlineExceeded ||
          s.code() == absl::StatusCode::kUnknown || s.code() == absl::StatusCode::kCancelled);
}

PeerClient::Deadline HalfwayTo(PeerClient::Deadline deadline) {
  const auto now = std::chrono::system_clock::now();
  return deadline <= now ? deadline : now + (deadline - now) / 2;
}

}  // namespace

SignalDesk::SignalDesk(const Network& network, PeerClient& peers, PseudonymDeriver& deriver, SignalBook& book,
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
                                                         PeerClient::Deadline deadline) {
  const auto manifest = network_.manifest();
  const keys::ManifestNode self = network_.self();
  const auto policy = policy_();
  // The peers that take part: those the policy lets look up signals.
  std::vector<const keys::ManifestNode*> asked;
  for (const keys::ManifestNode& n : manifest->nodes) {
    if (n.org == self.org) continue;
    policy::Request q;
    q.subject = policy::kThisChild;
    q.requester_org = n.org;
    q.requester_role = std::string(keys::RoleName(n.role));
    q.action = "signal.lookup";
    q.purpose = std::string(purpose);
    q.categories = {"signaal"};
    q.legal_basis = std::string(legal_basis);
    if (policy->Evaluate(q).allowed()) asked.push_back(&n);
  }
  v1::LookupSignalRequest request;
  request.set_subject(std::string(p.begin(), p.end()));
  request.set_purpose(std::string(purpose));
  request.set_legal_basis(std::string(legal_basis));
  auto replies = peers_.LookupSignal(asked, request, trace_id, deadline);

  v1::SignalCheckResult result;
  ASSIGN_OR_RETURN(std::vector<v1::SignalRecord> own, book_.On(p));
  for (const auto& s : own) *result.add_matches() = MatchOf(s, self);
  for (auto& reply : replies) {
    if (reply.status.ok()) {
      for (auto& m : *reply.response.mutable_matches()) {
        // A peer speaks for itself only.
        m.set_org(reply.peer->org);
        m.set_role(reply.peer->role);
        *result.add_matches() = std::move(m);
      }
    } else if (Unreachable(reply.status)) {
      result.add_unreachable(reply.peer->org);
    } else {
      v1::PeerDenial* d = result.add_denied();
      d->set_org(reply.peer->org);
      const Reason reason = ReasonOf(reply.status);
      d->set_reason(reason == Reason::kNone ? absl::StatusCodeToString(reply.status.code())
                                            : std::string(ReasonName(reason)));
    }
  }
  result.set_status(result.unreachable().empty() ? "complete" : "incomplete");
  return result;
}

absl::StatusOr<v1::SignalCheckResult> SignalDesk::Check(const Bsn& bsn, std::string_view purpose,
                                                        std::string_view legal_basis, const std::string& trace_id,
                                                        PeerClient::Deadline deadline) {
  ASSIGN_OR_RETURN(Derivation d, deriver_.Derive(bsn, purpose, legal_basis, trace_id, HalfwayTo(deadline)));
  return Lookup(d.pseudonym, purpose, legal_basis, trace_id, deadline);
}

absl::StatusOr<v1::RegisterSignalResponse> SignalDesk::Register(const Bsn& bsn, const SignalDraft& draft,
                                                                std::string_view legal_basis,
                                                                const std::string& trace_id,
                                                                PeerClient::Deadline deadline) {
  ASSIGN_OR_RETURN(Derivation d, deriver_.Derive(bsn, draft.purpose, legal_basis, trace_id, HalfwayTo(deadline)));
  // Matches are those that existed before this signal: look up first.
  ASSIGN_OR_RETURN(v1::SignalCheckResult found, Lookup(d.pseudonym, draft.purpose, legal_basis, trace_id, deadline));
  const auto retention = std::chrono::seconds(policy_()->signal_settings().retention_seconds);
  ASSIGN_OR_RETURN(v1::SignalRecord signal, book_.Register(d.pseudonym, draft, retention));
  const keys::ManifestNode self = network_.self();
  const SubjectHandle handle = book_.HandleOf(d.pseudonym);

  // One notice per other organisation holding a signal on the child.
  std::vector<std::string> told;
  for (const v1::SignalMatch& m : found.matches()) {
    if (m.org() == self.org || std::find(told.begin(), told.end(), m.org()) != told.end()) continue;
    told.push_back(m.org());
    v1::MatchNotice mine;
    mine.set_notice_id(SignalBook::NewId());
    mine.set_sent(true);
    *mine.mutable_other() = m;
    mine.add_signal_ids(signal.signal_id());
    mine.set_time_ms(signal.registered_at_ms());
    mine.set_expires_at_ms(signal.expires_at_ms());
    RETURN_IF_ERROR(book_.PutNotice(handle, mine));
    v1::PendingNotice pending;
    pending.set_notice_id(mine.notice_id());
    pending.set_to_org(m.org());
    pending.set_subject(std::string(d.pseudonym.begin(), d.pseudonym.end()));
    pending.set_purpose(draft.purpose);
    pending.set_legal_basis(std::string(legal_basis));
    *pending.mutable_from() = MatchOf(signal, self);
    pending.set_subject_handle(std::string(handle.begin(), handle.end()));
    RETURN_IF_ERROR(book_.Enqueue(pending));
  }
  if (!told.empty()) notifier_.Kick();
  v1::RegisterSignalResponse response;
  response.set_signal_id(signal.signal_id());
  response.set_expires_at_ms(signal.expires_at_ms());
  *response.mutable_check() = std::move(found);
  return response;
}

}  // namespace casenode::node
