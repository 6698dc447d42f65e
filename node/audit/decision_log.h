// DecisionLog: every policy decision the gate takes, encoded and written to
// the store (family "decisions") by one writer thread with group commit.
// This is the seed of the audit log: a record holds everything needed to
// decide the request again (the canonical request, the policy hash, the
// receipts relied on), and never a BSN, a pseudonym or content.
//
// Append(kSynced) returns once the record is fsynced together with everything
// appended before it — or with the error, and the caller must then not answer
// (fail closed). Append(kBuffered), for decisions about calls that concern no
// one (a ping), returns at once; the record goes out with the next batch,
// within 50 ms, and only a crash in between loses it.
//
// Record format: one store record per group commit. Key = time of its first
// decision (u64be Unix ms) || 8 random bytes, so records sort by time; value
// = casenode.v1.DecisionBatch (the decisions in the order they were taken),
// sealed by the store under the node data key.
// Thread-safe. The destructor writes everything still pending.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "base/time.h"
#include "casenode/v1/types.pb.h"
#include "node/store/store.h"
#include "policy/request.h"

namespace casenode::node {

// One decision as the gate took it.
struct DecisionEvent {
  std::string_view method;  // "Peer.Ping", ...
  std::string_view trace_id;
  v1::Role requester_role = v1::ROLE_UNSPECIFIED;
  const policy::Request* request = nullptr;    // what was decided
  const policy::Decision* decision = nullptr;  // and how
};

// The stored form of a decision taken at `now_ms`, into `record`.
void EncodeDecision(const DecisionEvent& event, int64_t now_ms, v1::DecisionRecord& record);

class DecisionLog {
 public:
  // `clock_ms` gives the time recorded with each decision (Unix ms).
  using MsClock = std::function<int64_t()>;
  explicit DecisionLog(store::Store& store, MsClock clock_ms = SystemNowMs);
  ~DecisionLog();
  DecisionLog(const DecisionLog&) = delete;
  DecisionLog& operator=(const DecisionLog&) = delete;

  // Encodes and appends one decision. REQUIRES: event.request and event.decision set.
  [[nodiscard]] absl::Status Append(const DecisionEvent& event, store::Durability durability);

  static int64_t SystemNowMs();

 private:
  struct Batch {
    std::string payload;  // serialized DecisionBatch
    size_t count = 0;
    int64_t first_ms = 0;
    bool durable = false;
    bool done = false;
    absl::Status status;
  };
  void Run();

  store::Store& store_;
  const MsClock clock_ms_;
  std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable done_;
  std::shared_ptr<Batch> open_ = std::make_shared<Batch>();
  bool stop_ = false;
  std::thread writer_;  // last: starts after every other member is ready
};

}  // namespace casenode::node
