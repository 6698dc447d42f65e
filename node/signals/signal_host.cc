#include "node/signals/signal_host.h"

#include <algorithm>

#include "base/encoding.h"
#include "base/status.h"
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
    return gate_.Disclose(call, "Peer.LookupSignal", facts.categories, static_cast<uint32_t>(held.size()),
                          facts.subject);
  });
}

grpc::Status SignalHost::NotifySignal(grpc::ServerContext* context, const v1::NotifySignalRequest& request,
                                      v1::NotifySignalResponse& response) {
  const PeerCallFacts facts = SignalFacts(vocab::kSignalNotify, request.subject(), request.purpose(), request.legal_basis(),
                  {std::string(vocab::kSignaal), std::string(vocab::kContact)});
  return gate_.Admit(context, "Peer.NotifySignal", facts, [&](const PeerCall& call) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::SignalRecord> held, signals_.On(AsBytes(request.subject())));
    if (held.empty()) {  // withdrawn or expired meanwhile: nothing to tell anyone here
      response.set_stored(false);
      return absl::OkStatus();
    }
    v1::MatchNotice notice;
    notice.set_notice_id(request.notice_id());
    notice.set_sent(false);
    *notice.mutable_other() = request.from();
    // Who sent it is the certificate's organisation, whatever the message says.
    notice.mutable_other()->set_org(call.caller.org);
    notice.mutable_other()->set_role(call.caller.role);
    int64_t expires = 0;
    for (const v1::SignalRecord& s : held) {
      notice.add_signal_ids(s.signal_id());
      expires = std::max(expires, s.expires_at_ms());
    }
    notice.set_time_ms(std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count());
    notice.set_delivered(true);
    notice.set_expires_at_ms(expires);
    RETURN_IF_ERROR(signals_.PutNotice(signals_.HandleOf(AsBytes(request.subject())), notice));
    response.set_stored(true);
    *response.mutable_mine() = SignalBook::MatchOf(held.front(), network_.self());
    return gate_.Disclose(call, "Peer.NotifySignal", facts.categories, 1, facts.subject);
  });
}

}  // namespace casenode::node
