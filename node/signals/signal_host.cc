#include "node/signals/signal_host.h"

#include <algorithm>

#include "base/encoding.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "node/vocabulary/vocabulary.h"

namespace casenode::node {
namespace {

PeerCallFacts SignalFacts(std::string_view action, const std::string& subject, const std::string& purpose,
                          const std::string& legal_basis, std::vector<std::string> categories) {
  PeerCallFacts facts;
  facts.action = action;
  facts.purpose = purpose;
  facts.subject.emplace();
  std::copy(subject.begin(), subject.end(), facts.subject->begin());
  facts.legal_basis = legal_basis;
  facts.categories = std::move(categories);
  return facts;
}

}  // namespace

// The answer depends on the signals held only after the gate has decided, and
// the decision only on the request: a refused caller learns nothing.
grpc::Status SignalHost::LookupSignal(grpc::ServerContext* context, const v1::LookupSignalRequest& request,
                                      v1::LookupSignalResponse& response) {
  const PeerCallFacts facts =
      SignalFacts(vocab::kSignalLookup, request.subject(), request.purpose(), request.legal_basis(),
                  {std::string(vocab::kSignaal)});
  return gate_.Admit(context, "Peer.LookupSignal", facts, [&](const PeerCall& call) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::SignalRecord> held, signals_.On(AsBytes(request.subject())));
    const network::ManifestNode self = network_.self();
    for (const v1::SignalRecord& s : held) *response.add_matches() = SignalBook::MatchOf(s, self);
    if (held.empty()) return absl::OkStatus();  // "not known here" is what every refusal looks like too
    // The caller may now send a match notice on this child (NotifySignal).
    RETURN_IF_ERROR(signals_.NoteMatchedLookup(signals_.HandleOf(AsBytes(request.subject())), call.caller.org));
    return gate_.Disclose(call, "Peer.LookupSignal", facts.categories, static_cast<uint32_t>(held.size()),
                          facts.subject);
  });
}

// No oracle: the answer is empty whatever this node holds, and the notice is
// kept only when it follows this node's matched answer to the sender's own
// lookup (which the sender's policy, rate limit and log already cover).
grpc::Status SignalHost::NotifySignal(grpc::ServerContext* context, const v1::NotifySignalRequest& request,
                                      v1::NotifySignalResponse&) {
  const PeerCallFacts facts = SignalFacts(vocab::kSignalNotify, request.subject(), request.purpose(),
                                          request.legal_basis(), {std::string(vocab::kSignaal), std::string(vocab::kContact)});
  return gate_.Admit(context, "Peer.NotifySignal", facts, [&](const PeerCall& call) -> absl::Status {
    // Decided on the request and the sender's role alone, before anything held here is read.
    if (!gate_.policy()->SignalCategoryAllowed(network::RoleName(call.caller.role), request.from().category())) {
      return Error(Reason::kSignalCategoryNotAllowed,
                   StrCat("from.category: not a category the signals of a ", network::RoleName(call.caller.role),
                          " may name"));
    }
    const SubjectHandle handle = signals_.HandleOf(AsBytes(request.subject()));
    // Before anything held is read, so a sender without a matched lookup gets
    // its answer from the same work whatever this node holds.
    if (!signals_.NoticeDue(handle, call.caller.org)) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::vector<v1::SignalRecord> held, signals_.On(AsBytes(request.subject())));
    if (held.empty()) return absl::OkStatus();  // withdrawn or expired meanwhile: nothing to tell anyone here
    v1::MatchNotice notice;
    notice.set_notice_id(request.notice_id());
    notice.set_sent(false);
    // Built from what a notice carries; who sent it is the certificate's
    // organisation, whatever the message says.
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count();
    v1::SignalMatch& other = *notice.mutable_other();
    other.set_org(call.caller.org);
    other.set_role(call.caller.role);
    other.set_contact(request.from().contact());
    other.set_category(request.from().category());
    other.set_since_ms(std::clamp<int64_t>(request.from().since_ms(), 0, now));
    int64_t expires = 0;
    for (const v1::SignalRecord& s : held) {
      notice.add_signal_ids(s.signal_id());
      expires = std::max(expires, s.expires_at_ms());
    }
    notice.set_time_ms(now);
    notice.set_delivered(true);
    notice.set_expires_at_ms(expires);
    return signals_.PutNoticeAfterLookup(handle, call.caller.org, notice);
  });
}

}  // namespace casenode::node
