#include "node/audit/decision_log.h"

#include <chrono>

#include "base/encoding.h"
#include "base/log.h"
#include "keys/nonce.h"

namespace casenode::node {
namespace {

// How long buffered records wait for company before they are written. Each
// wake-up of this thread costs a context switch that, on 2 virtual cores,
// shows in peer_ping (0.76 of the echo at 2 ms, 0.85 at 50 ms). Only
// decisions about no personal data wait; a crash loses at most this window.
constexpr auto kBufferedDelay = std::chrono::milliseconds(50);

}  // namespace

// Fields are assigned in place (not set from temporaries) so a reused record
// keeps its strings' capacity.
void EncodeDecision(const DecisionEvent& e, int64_t now_ms, v1::DecisionRecord& rec) {
  const policy::Request& q = *e.request;
  const policy::Decision& d = *e.decision;
  rec.set_time_unix_ms(now_ms);
  rec.mutable_trace_id()->assign(e.trace_id);
  rec.mutable_method()->assign(e.method);
  rec.set_requester_org(q.requester_org);
  rec.set_requester_role(e.requester_role);
  rec.set_action(q.action);
  rec.set_purpose(q.purpose);
  for (const auto& c : q.categories) rec.add_categories(c);
  rec.set_legal_basis(q.legal_basis);
  rec.set_allowed(d.allowed());
  rec.set_rule_id(d.rule_id);
  rec.mutable_reason()->assign(ReasonName(d.reason));
  rec.set_policy_hash(d.policy_hash);
  for (const auto& id : d.consent_receipt_ids) rec.add_consent_receipt_ids(id);
  rec.set_request_digest(d.request_digest);
  // The whole request as decided (the bytes of its digest), so an auditor can decide it again.
  rec.set_canonical_request(d.canonical_request);
}

int64_t DecisionLog::SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

DecisionLog::DecisionLog(store::Store& store, MsClock clock_ms)
    : store_(store), clock_ms_(std::move(clock_ms)), writer_([this] { Run(); }) {}

DecisionLog::~DecisionLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_.notify_one();
  writer_.join();
}

absl::Status DecisionLog::Append(const DecisionEvent& event, store::Durability durability) {
  const int64_t ms = clock_ms_();
  // One DecisionBatch of one record; serialized batches concatenate into one.
  // The message is reused per thread: Clear() keeps its strings' capacity, so
  // encoding a decision allocates nothing once a thread has encoded a few.
  thread_local v1::DecisionBatch one;
  thread_local std::string bytes;
  one.Clear();
  EncodeDecision(event, ms, *one.add_records());
  bytes.clear();
  one.AppendToString(&bytes);
  std::unique_lock<std::mutex> lock(mu_);
  if (stop_) return absl::UnavailableError("decision log is shutting down");
  std::shared_ptr<Batch> batch = open_;
  if (batch->count == 0) batch->first_ms = ms;
  batch->payload += bytes;
  ++batch->count;
  const bool durable = durability == store::Durability::kSynced;
  batch->durable = batch->durable || durable;
  // The writer waits for a first record, or (with buffered ones) for a durable
  // one; later buffered records just join the batch without a wake-up.
  if (batch->count == 1 || durable) work_.notify_one();
  if (!durable) return absl::OkStatus();
  done_.wait(lock, [&] { return batch->done; });
  return batch->status;
}

void DecisionLog::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_.wait(lock, [&] { return stop_ || open_->count > 0; });
    if (open_->count == 0) return;  // stopping, nothing left
    if (!open_->durable && !stop_) {
      work_.wait_for(lock, kBufferedDelay, [&] { return stop_ || open_->durable; });
    }
    std::shared_ptr<Batch> batch = std::move(open_);
    open_ = std::make_shared<Batch>();
    lock.unlock();
    // While this batch is written (and fsynced), new appends gather in the
    // next one. The whole batch is one sealed value: one seal and one put per
    // group commit, not per decision.
    std::string key;
    AppendU64(key, static_cast<uint64_t>(batch->first_ms));
    key.resize(16);
    keys::FillRandomNonce(reinterpret_cast<uint8_t*>(key.data()) + 8, 8);
    const store::Record record{store::Family::kDecisions, std::move(key),
                               keys::DataKeyRef{keys::DataKeyKind::kNode, {}}, std::move(batch->payload), std::nullopt};
    absl::Status status =
        store_.Put(record, batch->durable ? store::Durability::kSynced : store::Durability::kBuffered);
    if (!status.ok()) {
      Log(LogLevel::kError, "decisions.write_failed",
          {{"records", static_cast<int64_t>(batch->count)}, {"status", absl::StatusCodeToString(status.code())}});
    }
    lock.lock();
    batch->done = true;
    batch->status = std::move(status);
    done_.notify_all();
  }
}

}  // namespace casenode::node
