#include "node/signals/notifier.h"

#include <algorithm>

#include "base/log.h"
#include "base/reason.h"
#include "node/rpc/context.h"

namespace casenode::node {
namespace {

constexpr auto kFirstRetry = std::chrono::milliseconds(250);
constexpr auto kMaxRetry = std::chrono::milliseconds(30000);

int64_t NowMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock().time_since_epoch()).count();
}

}  // namespace

Notifier::Notifier(const Network& network, PeerClient& peers, SignalBook& book, Clock clock)
    : network_(network), peers_(peers), book_(book), clock_(std::move(clock)) {}

Notifier::~Notifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Notifier::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Notifier::Kick() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    kicked_ = true;
  }
  wake_.notify_one();
}

void Notifier::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    kicked_ = false;
    lock.unlock();
    const std::chrono::milliseconds wait = DeliverDue();
    lock.lock();
    wake_.wait_for(lock, wait, [&] { return stop_ || kicked_; });
  }
}

std::chrono::milliseconds Notifier::DeliverDue() {
  auto outbox = book_.Outbox();
  if (!outbox.ok()) {
    Log(LogLevel::kError, "signal.outbox_unreadable", {{"reason", ReasonName(ReasonOf(outbox.status()))}});
    return kMaxRetry;
  }
  std::chrono::milliseconds next = kMaxRetry;
  for (v1::PendingNotice& pending : *outbox) {
    const int64_t now = NowMs(clock_);
    if (pending.next_attempt_ms() > now) {
      next = std::min(next, std::chrono::milliseconds(pending.next_attempt_ms() - now));
      continue;
    }
    const auto manifest = network_.manifest();
    const keys::ManifestNode* to = manifest->FindOrg(pending.to_org());
    absl::Status status;
    if (to == nullptr) {
      status = Error(Reason::kUnknownOrg, "the recipient left the network");
    } else {
      v1::NotifySignalRequest request;
      request.set_subject(pending.subject());
      request.set_purpose(pending.purpose());
      request.set_legal_basis(pending.legal_basis());
      request.set_notice_id(pending.notice_id());
      *request.mutable_from() = pending.from();
      status = peers_.NotifySignal(*to, request, std::string()).status;
    }
    if (status.ok() || ReasonOf(status) == Reason::kUnknownOrg) {
      // Delivered (or undeliverable for good: the recipient is gone). The
      // inbox entry says which; then the outbox entry goes.
      SubjectHandle handle;
      std::copy(pending.subject_handle().begin(), pending.subject_handle().end(), handle.begin());
      const absl::Status marked = status.ok() ? book_.MarkDelivered(handle, pending.notice_id()) : absl::OkStatus();
      const absl::Status dequeued = book_.Dequeue(pending.notice_id());
      Log(LogLevel::kInfo, "signal.notice_delivered",
          {{"to_org", pending.to_org()}, {"delivered", status.ok()}, {"stored", marked.ok() && dequeued.ok()}});
      continue;
    }
    pending.set_attempts(pending.attempts() + 1);
    const auto backoff = std::min<std::chrono::milliseconds>(
        kMaxRetry, kFirstRetry * (int64_t{1} << std::min(pending.attempts() - 1, 10)));
    pending.set_next_attempt_ms(NowMs(clock_) + backoff.count());
    next = std::min(next, backoff);
    if (!book_.Enqueue(pending).ok()) next = kMaxRetry;
    Log(LogLevel::kWarn, "signal.notice_pending",
        {{"to_org", pending.to_org()},
         {"attempts", static_cast<int64_t>(pending.attempts())},
         {"reason", ReasonName(ReasonOf(status))},
         {"status", absl::StatusCodeToString(status.code())}});
  }
  return next;
}

}  // namespace casenode::node
