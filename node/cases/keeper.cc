#include "node/cases/keeper.h"

#include <algorithm>

#include "base/log.h"
#include "base/reason.h"
#include "base/status.h"
#include "node/cases/case_host.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"

namespace casenode::node {
namespace {

constexpr auto kFirstRetry = std::chrono::milliseconds(250);
constexpr auto kMaxRetry = std::chrono::milliseconds(30000);
// How often closed cases are looked at when nothing else is due.
constexpr auto kIdle = std::chrono::milliseconds(1000);

}  // namespace

CaseKeeper::CaseKeeper(const network::Network& network, PeerClient& peers, CaseBook& book, AuditLog& audit,
                       store::KeyStore& keys, Clock clock)
    : network_(network),
      peers_(peers),
      book_(book),
      audit_(audit),
      keys_(keys),
      clock_(std::move(clock)),
      loop_([this] { return Pass(); }) {}

int64_t CaseKeeper::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count();
}

absl::Status CaseKeeper::DestroyCase(const v1::CaseIndex& index) {
  std::optional<std::array<uint8_t, 32>> subject;
  if (auto secrets = book_.Secrets(index.case_id()); secrets.ok() && secrets->subject().size() == 32) {
    subject.emplace();
    std::copy(secrets->subject().begin(), secrets->subject().end(), subject->begin());
  }
  const std::string trace_id = TraceIdOf(NewTraceparent());
  // Logged before it counts; a crash after the log and before the shred
  // destroys again at the next start.
  RETURN_IF_ERROR(LogCaseEvent(audit_, keys_, trace_id, subject, index.case_id(), v1::CaseEvent::DESTROYED,
                               network_.self_org()));
  // Every organisation that may hold the key gets the order: also one whose
  // answer to the invitation was lost (it may have stored the case). One that
  // never got it answers that it knows no such case.
  std::vector<v1::CaseOrder> orders;
  for (const auto& m : index.members()) {
    if (m.destroyed()) continue;
    v1::CaseOrder& order = orders.emplace_back();
    order.set_order_id(CaseBook::NewId());
    order.set_case_id(index.case_id());
    order.set_to_org(m.org());
    order.set_kind(v1::CaseOrder::DESTROY);
  }
  const int64_t now = NowMs();
  RETURN_IF_ERROR(book_.Destroy(
      index.case_id(),
      [&](v1::CaseIndex& i) {
        i.set_state(v1::CASE_DESTROYED);
        i.set_destroyed_at_ms(now);
        return absl::OkStatus();
      },
      orders));
  Log(LogLevel::kInfo, "case.destroyed", {{"case_id", index.case_id()}});
  return absl::OkStatus();
}

absl::Status CaseKeeper::Deliver(const v1::CaseOrder& order) {
  const auto manifest = network_.manifest();
  const network::ManifestNode* to = manifest->FindOrg(order.to_org());
  ASSIGN_OR_RETURN(v1::CaseIndex index, book_.Index(order.case_id()));
  auto mark = [&](const std::function<void(v1::CaseIndex::Member&)>& change) {
    return book_.Change(order.case_id(), [&](v1::CaseIndex& i) {
      if (v1::CaseIndex::Member* m = FindMember(i, order.to_org())) change(*m);
      return absl::OkStatus();
    });
  };
  const std::string trace_id = TraceIdOf(NewTraceparent());
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(10);
  if (order.kind() == v1::CaseOrder::INVITE) {
    // An invitation to a case destroyed meanwhile is moot: the key it carries is gone here.
    if (index.state() == v1::CASE_DESTROYED) return absl::OkStatus();
    if (to == nullptr) {
      return mark([](v1::CaseIndex::Member& m) {
        m.set_state(v1::MEMBER_DECLINED);
        m.set_declined_reason(std::string(ReasonName(Reason::kUnknownOrg)));
      });
    }
    v1::InviteToCaseRequest req;
    req.set_case_id(order.case_id());
    req.set_subject(order.subject());
    req.set_purpose(order.purpose());
    req.set_sealed_invitation(order.sealed_invitation());
    const std::vector<v1::ConsentReceipt> receipts(order.receipts().begin(), order.receipts().end());
    absl::StatusOr<v1::InviteToCaseResponse> resp =
        peers_.InviteToCase(*to, req, receipts, trace_id, deadline);
    // Refused by the invitee's policy, or as malformed (it will not open it
    // however often it is sent): final, shown with the reason.
    const bool refused = !resp.ok() && (AnsweredByPolicy(resp.status()) ||
                                        ReasonOf(resp.status()) == Reason::kMalformedRequest);
    if (!resp.ok() && !refused) return resp.status();
    const bool joins = resp.ok() && resp->may_join();
    const std::string reason = resp.ok() ? resp->reason() : std::string(ReasonName(ReasonOf(resp.status())));
    Log(joins ? LogLevel::kInfo : LogLevel::kWarn, "case.invitation_delivered",
        {{"case_id", order.case_id()}, {"to_org", order.to_org()}, {"may_join", joins}, {"reason", reason}});
    return mark([&](v1::CaseIndex::Member& m) {
      if (resp.ok()) m.set_invitation_delivered(true);  // never unset: it may hold the key
      if (!joins && m.state() == v1::MEMBER_INVITED) {   // an answer already given stands
        m.set_state(v1::MEMBER_DECLINED);
        m.set_declined_reason(reason);
      }
    });
  }
  if (order.kind() == v1::CaseOrder::DESTROY) {
    if (to != nullptr) {
      v1::DestroyCaseRequest req;
      req.set_case_id(order.case_id());
      absl::StatusOr<v1::DestroyCaseResponse> resp = peers_.DestroyCase(*to, req, trace_id, deadline);
      // A member that knows no such case holds nothing to destroy.
      if (!resp.ok() && ReasonOf(resp.status()) != Reason::kNotCaseMember) return resp.status();
    }
    Log(LogLevel::kInfo, "case.destruction_confirmed", {{"case_id", order.case_id()}, {"org", order.to_org()}});
    return mark([](v1::CaseIndex::Member& m) { m.set_destroyed(true); });
  }
  return absl::OkStatus();  // an order this build does not know: drop it
}

std::chrono::milliseconds CaseKeeper::Pass() {
  std::chrono::milliseconds next = kIdle;
  // Cases whose bewaartermijn ended.
  if (auto cases = book_.List(); cases.ok()) {
    const int64_t now = NowMs();
    for (const v1::CaseIndex& index : *cases) {
      if (loop_.stopping()) return next;
      if (index.convener_org() != network_.self_org() || index.state() != v1::CASE_CLOSED) continue;
      if (index.destroy_at_ms() > now) {
        next = std::min(next, std::chrono::milliseconds(index.destroy_at_ms() - now));
        continue;
      }
      if (absl::Status s = DestroyCase(index); !s.ok()) {
        Log(LogLevel::kError, "case.destroy_failed",
            {{"case_id", index.case_id()}, {"reason", ReasonName(ReasonOf(s))}});
      }
    }
  } else {
    Log(LogLevel::kError, "case.index_unreadable", {{"reason", ReasonName(ReasonOf(cases.status()))}});
  }
  absl::StatusOr<std::vector<v1::CaseOrder>> orders = book_.Orders();
  if (!orders.ok()) {
    Log(LogLevel::kError, "case.orders_unreadable", {{"reason", ReasonName(ReasonOf(orders.status()))}});
    return kMaxRetry;
  }
  std::erase_if(schedule_, [&](const auto& entry) {
    return std::none_of(orders->begin(), orders->end(),
                        [&](const v1::CaseOrder& o) { return o.order_id() == entry.first; });
  });
  std::vector<std::string> failing;  // recipients that failed in this pass: their other orders wait too
  for (const v1::CaseOrder& order : *orders) {
    if (loop_.stopping()) return next;
    Attempts& tried = schedule_[order.order_id()];
    const int64_t now = NowMs();
    if (tried.next_ms > now) {
      next = std::min(next, std::chrono::milliseconds(tried.next_ms - now));
      continue;
    }
    absl::Status status = std::find(failing.begin(), failing.end(), order.to_org()) != failing.end()
                              ? absl::UnavailableError("the recipient failed earlier in this pass")
                              : Deliver(order);
    if (status.ok()) {
      if (absl::Status done = book_.DoneWith(order); done.ok()) schedule_.erase(order.order_id());
      continue;
    }
    failing.push_back(order.to_org());
    tried.count += 1;
    const auto backoff =
        std::min<std::chrono::milliseconds>(kMaxRetry, kFirstRetry * (int64_t{1} << std::min(tried.count - 1, 10)));
    tried.next_ms = NowMs() + backoff.count();
    next = std::min(next, backoff);
    Log(LogLevel::kWarn, "case.order_pending",
        {{"case_id", order.case_id()},
         {"to_org", order.to_org()},
         {"kind", v1::CaseOrder::Kind_Name(order.kind())},
         {"attempts", static_cast<int64_t>(tried.count)},
         {"reason", ReasonName(ReasonOf(status))},
         {"status", absl::StatusCodeToString(status.code())}});
  }
  return next;
}

}  // namespace casenode::node
