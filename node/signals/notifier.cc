#include "node/signals/notifier.h"

#include <algorithm>

#include "base/log.h"
#include "base/reason.h"
#include "base/text.h"
#include "node/rpc/context.h"
#include "node/rpc/status.h"
#include "node/signals/desk.h"

namespace casenode::node {
namespace {

constexpr auto kFirstRetry = std::chrono::milliseconds(250);
constexpr auto kMaxRetry = std::chrono::milliseconds(30000);
// A lookup is fresh for half the recipient's window (SignalBook::kNoticeWindow).
constexpr int64_t kLookupFreshMs = std::chrono::milliseconds(SignalBook::kNoticeWindow).count() / 2;
constexpr auto kLookupWithin = std::chrono::seconds(10);

int64_t NowMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock().time_since_epoch()).count();
}

// The contact as a recipient's edge accepts it (one line, no control
// characters). A contact stored before that rule may hold a CR from CRLF
// input: it goes as printable ASCII rather than being refused for good.
std::string SendableContact(const std::string& contact) {
  if (CheckText(contact, "contact", 256, TextLines::kNone, /*optional=*/true).ok()) return contact;
  std::string out;
  for (char c : contact.substr(0, 256)) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    if (c >= 0x20 && c < 0x7f) out.push_back(c);
  }
  return out;
}

}  // namespace

v1::MatchNotice SentNotice(const v1::PendingNotice& pending, const v1::SignalMatch& theirs,
                           const network::ManifestNode& to) {
  v1::MatchNotice notice;
  notice.set_notice_id(pending.notice_id());
  notice.set_sent(true);
  *notice.mutable_other() = theirs;
  notice.mutable_other()->set_org(to.org);  // the recipient speaks for itself only
  notice.mutable_other()->set_role(to.role);
  notice.add_signal_ids(pending.signal_id());
  notice.set_time_ms(pending.from().since_ms());
  notice.set_expires_at_ms(pending.expires_at_ms());
  return notice;
}

Notifier::Notifier(const network::Network& network, PeerClient& peers, SignalBook& book, Clock clock)
    : network_(network), peers_(peers), book_(book), clock_(std::move(clock)), loop_([this] { return DeliverDue(); }) {}

Notifier::~Notifier() { Stop(); }

std::chrono::milliseconds Notifier::DeliverDue() {
  auto outbox = book_.Outbox();
  if (!outbox.ok()) {
    Log(LogLevel::kError, "signal.outbox_unreadable", {{"reason", ReasonName(ReasonOf(outbox.status()))}});
    return kMaxRetry;
  }
  // Forget the schedule of notices no longer in the outbox.
  std::erase_if(schedule_, [&](const auto& entry) {
    return std::none_of(outbox->begin(), outbox->end(),
                        [&](const v1::PendingNotice& p) { return p.notice_id() == entry.first; });
  });
  std::chrono::milliseconds next = kMaxRetry;
  std::vector<std::string> failing;  // recipients that failed in this pass: their other notices wait too
  for (v1::PendingNotice& pending : *outbox) {
    if (loop_.stopping()) return next;
    const int64_t now = NowMs(clock_);
    Attempts& tried = schedule_[pending.notice_id()];
    if (tried.next_ms > now) {
      next = std::min(next, std::chrono::milliseconds(tried.next_ms - now));
      continue;
    }
    SubjectHandle handle;
    std::copy_n(pending.subject_handle().begin(), std::min<size_t>(pending.subject_handle().size(), handle.size()),
                handle.begin());
    const auto manifest = network_.manifest();
    const network::ManifestNode* to = manifest->FindOrg(pending.to_org());
    absl::Status status;
    if (to == nullptr) {
      status = Error(Reason::kUnknownOrg, "the recipient left the network");
    } else if (std::find(failing.begin(), failing.end(), pending.to_org()) != failing.end()) {
      status = absl::UnavailableError("the recipient failed earlier in this pass");
    } else if (!book_.StillPending(pending.notice_id())) {
      continue;  // withdrawn since this pass read the outbox
    } else {
      // The recipient keeps a notice only shortly after its matched answer to
      // this node's own lookup: look up again first unless that is recent.
      // The lookup is also how this node learns the recipient's side.
      const int64_t looked_up = std::max(tried.looked_up_ms, pending.looked_up_at_ms());
      const bool fresh = looked_up > 0 && now - looked_up < kLookupFreshMs;
      std::optional<bool> held;  // set when this pass looked up
      if (!fresh) {
        v1::LookupSignalRequest lookup;
        lookup.set_subject(pending.subject());
        lookup.set_purpose(pending.purpose());
        lookup.set_legal_basis(pending.legal_basis());
        auto replies = peers_.LookupSignal({to}, lookup, std::string(),
                                           std::chrono::system_clock::now() + kLookupWithin);
        status = replies.front().status;
        if (status.ok()) {
          held = !replies.front().response.matches().empty();
          if (!book_.StillPending(pending.notice_id())) continue;  // withdrawn during the lookup
          if (*held) {
            v1::MatchNotice notice = SentNotice(pending, replies.front().response.matches(0), *to);
            status = book_.PutNotice(handle, notice);
            tried.looked_up_ms = now;
          }
        }
      }
      if (held == false) {
        // The recipient holds no signal on the child (any more): nothing to tell.
        absl::Status kept = book_.DeleteNotice(handle, pending.notice_id());
        if (kept.ok()) kept = book_.Dequeue(pending.notice_id());
        schedule_.erase(pending.notice_id());
        Log(LogLevel::kInfo, "signal.notice_dropped", {{"to_org", pending.to_org()}, {"recorded", kept.ok()}});
        continue;
      }
      if (status.ok()) {
        v1::NotifySignalRequest request;
        request.set_subject(pending.subject());
        request.set_purpose(pending.purpose());
        request.set_legal_basis(pending.legal_basis());
        request.set_notice_id(pending.notice_id());
        *request.mutable_from() = pending.from();
        request.mutable_from()->set_contact(SendableContact(pending.from().contact()));
        status = peers_.NotifySignal(*to, request, std::string()).status;
      }
    }
    if (status.ok()) {
      // Delivered. The answer says nothing (no oracle); the inbox entry
      // shows the recipient's side as this node's own lookup found it.
      absl::Status kept = book_.MarkDelivered(handle, pending.notice_id());
      if (kept.ok()) kept = book_.Dequeue(pending.notice_id());
      schedule_.erase(pending.notice_id());
      Log(LogLevel::kInfo, "signal.notice_delivered", {{"to_org", pending.to_org()}, {"recorded", kept.ok()}});
      continue;
    }
    // A rate limit or quota spent at the recipient passes: try again later.
    const bool limited = ReasonOf(status) == Reason::kRateLimited || ReasonOf(status) == Reason::kQuotaExhausted;
    if (to == nullptr || (AnsweredByPolicy(status) && !limited) || ReasonOf(status) == Reason::kMalformedRequest) {
      // Refused for good (or the recipient left): say so, stop trying.
      if (auto marked = book_.MarkRefused(handle, pending.notice_id()); !marked.ok()) continue;
      (void)book_.Dequeue(pending.notice_id());
      schedule_.erase(pending.notice_id());
      Log(LogLevel::kWarn, "signal.notice_refused",
          {{"to_org", pending.to_org()}, {"reason", ReasonName(ReasonOf(status))}});
      continue;
    }
    // Only the schedule changes, in memory: the outbox entry stays as written
    // (a withdrawal may delete it meanwhile, and must not see it come back).
    failing.push_back(pending.to_org());
    tried.count += 1;
    const auto backoff =
        std::min<std::chrono::milliseconds>(kMaxRetry, kFirstRetry * (int64_t{1} << std::min(tried.count - 1, 10)));
    tried.next_ms = NowMs(clock_) + backoff.count();
    next = std::min(next, backoff);
    Log(LogLevel::kWarn, "signal.notice_pending",
        {{"to_org", pending.to_org()},
         {"attempts", static_cast<int64_t>(tried.count)},
         {"reason", ReasonName(ReasonOf(status))},
         {"status", absl::StatusCodeToString(status.code())}});
  }
  return next;
}

}  // namespace casenode::node
