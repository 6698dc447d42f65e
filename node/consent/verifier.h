// ConsentVerifier: what a responder knows about a receipt a requester attached.
//
// Checks, in order: the issuer is in the manifest (else unknown_issuer); the
// signature verifies with the issuer's manifest key (else forged); the
// validity window and the age rule; then asks the issuer (Peer
// ConsentStatus) whether it was revoked. An issuer's answer is reused for the
// policy's consent.status_cache_seconds. An issuer that cannot be reached
// gives issuer_unreachable, which the policy denies (fail closed), unless the
// policy says on_issuer_unreachable = "allow_stale" and an answer no older
// than consent.max_stale_seconds is cached. Answers are cached per issuer,
// receipt id and signature, so a receipt forged under a known id never
// inherits another's answer. Times come from the injected clock. This node
// answers for its own receipts without a network call, through `own` (which
// logs the answer like a Peer ConsentStatus answer). Every answer used comes
// back as a v1::ConsentCheck for the decision's log entry. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "base/time.h"
#include "casenode/v1/peer.pb.h"
#include "network/manifest.h"
#include "node/consent/consent_book.h"
#include "node/consent/receipt.h"
#include "policy/policy.h"

namespace casenode::consent {

// Asks `issuer` for the state of a receipt by `deadline`: the answer with
// receipt_id, issuer_org, state, trace_id and span_id set; an error if it
// cannot be reached.
using Deadline = std::chrono::system_clock::time_point;
using StatusQuery = std::function<absl::StatusOr<v1::ConsentCheck>(const network::ManifestNode& issuer,
                                                                  const std::string& receipt_id, Deadline deadline)>;
// This node's own answer about its receipt to a call in trace `trace_id`,
// span `span_id`: as StatusQuery, and logged.
using OwnAnswer = std::function<absl::StatusOr<v1::ConsentCheck>(const std::string& receipt_id,
                                                                const std::string& trace_id,
                                                                const std::string& span_id)>;

// A receipt's status and, if it rests on one, the issuer's answer used.
struct Verified {
  policy::ConsentStatus status = policy::ConsentStatus::kUnspecified;
  std::optional<v1::ConsentCheck> check;
};

// The call a verification serves (its answers about own receipts are logged in it).
struct CallTrace {
  std::string trace_id;
  std::string span_id;
};

class ConsentVerifier {
 public:
  ConsentVerifier(const ConsentBook& own, std::string self_org, StatusQuery query, OwnAnswer own_answer, Clock clock)
      : own_(own),
        self_org_(std::move(self_org)),
        query_(std::move(query)),
        own_answer_(std::move(own_answer)),
        clock_(std::move(clock)) {}

  // `deadline` bounds the call to the issuer: pass less than what is left of
  // the call being answered, so the answer is not too late. With `call`, an
  // answer about an own receipt is logged in that call (a decision rests on
  // it); without, it is only read (staff checking a receipt).
  Verified Verify(const ConsentReceipt& receipt, const network::Manifest& manifest,
                  const policy::ConsentSettings& settings, Deadline deadline, const CallTrace* call = nullptr) const;

 private:
  [[nodiscard]] absl::StatusOr<v1::ConsentCheck> IssuerAnswer(const network::ManifestNode& issuer,
                                                              const ConsentReceipt& receipt,
                                                              const policy::ConsentSettings& settings,
                                                              Deadline deadline) const;
  struct Cached {
    v1::ConsentCheck answer;
    SystemTime at;
  };
  static constexpr size_t kMaxCached = 100000;
  mutable std::mutex mu_;
  // issuer '\0' receipt id '\0' signature -> the issuer's last answer
  mutable std::unordered_map<std::string, Cached> cache_;
  const ConsentBook& own_;
  const std::string self_org_;
  const StatusQuery query_;
  const OwnAnswer own_answer_;
  const Clock clock_;
};

}  // namespace casenode::consent
