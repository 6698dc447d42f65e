// The auditor's replay: every logged decision decided again, with the policy
// the log itself recorded for it. Entries are fed in order (after the
// verifier checked them); a PolicyLoad entry brings a policy's sources, which
// are compiled and must give the recorded hash; a decision names the policy
// hash it was taken under, and its canonical request (with the consent facts
// as verified at that moment) is evaluated again. Any difference in effect,
// rule or reason is reported with the entry's sequence number. Because each
// decision is re-decided under the recorded text, a policy changed after the
// fact produces no false difference. Each disclosure must follow an allowing
// decision on the same call (trace id, span id, method, organisation) that
// covered every category it disclosed.
//
// Consent is replayed from the log too. The node's own receipts go through
// the states its consent events give them (RECORDED: ACTIVE; REVOKED;
// HELD: every ACTIVE one UNCONFIRMED; CONFIRMED: ACTIVE again), and every
// STATUS_ANSWERED it gave must equal that state at that point of the log
// (the consent book orders changes and answers, consent_book.h). A decision's
// valid, revoked or unreachable consent fact is derived again from the
// answer it names (v1::ConsentCheck, by fact index): its state, its age
// against the decision's policy (consent.status_cache_seconds, or
// max_stale_seconds when allow_stale) and against the log's own times (the
// decision's time less the time it was asked, within kClockSlackMs), and,
// for an own receipt, the STATUS_ANSWERED it names, earlier in this log on
// the same call. A fact that differs is reported (CONSENT_STATE_DIFFERS)
// and the decision taken again with the derived facts. Another issuer's
// answer is matched with that issuer's log by `audit reconcile`.
#pragma once


#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "casenode/v1/local.pb.h"
#include "policy/policy.h"

namespace casenode::node {

class Replayer {
 public:
  // Decisions taken in [since_ms, until_ms) by `org` are re-decided (0 = unbounded).
  Replayer(std::string org, int64_t since_ms, int64_t until_ms)
      : org_(std::move(org)), since_ms_(since_ms), until_ms_(until_ms) {}

  // One verified entry; problems go into `report`.
  void Add(uint64_t seq, std::string_view leaf, v1::AuditVerifyReport& report);

  uint64_t decisions_replayed() const { return replayed_; }
  size_t policies_loaded() const { return policies_.size(); }

 private:
  const std::string org_;
  const int64_t since_ms_;
  const int64_t until_ms_;
  std::map<std::string, std::shared_ptr<const policy::Policy>> policies_;  // by hash
  std::string current_;   // the policy in force, by the log
  std::string previous_;  // the one it replaced
  uint64_t replayed_ = 0;
  // Allowed decisions on calls that disclose, by seq, that a disclosure may
  // still name; only the last kDisclosureWindow entries are kept (an answer
  // follows its decision within its call).
  struct Allowed {
    std::string call;  // trace id / span id / method
    std::string org;
    std::vector<std::string> categories;
  };
  static constexpr uint64_t kDisclosureWindow = 1'000'000;
  // How much younger an answer may say it was than the log's times show: the
  // time from asking to logging the decision (an issuer's answer within the
  // peer timeout) and clock jitter.
  static constexpr int64_t kClockSlackMs = 10'000;
  std::map<uint64_t, Allowed> allowed_;
  // Own receipts by id, as the log's consent events leave them.
  struct Receipt {
    bool revoked = false;
    uint64_t hold_generation = 0;
  };
  std::unordered_map<std::string, Receipt> receipts_;
  uint64_t hold_generation_ = 0;  // the last HELD
  v1::ConsentState StateOf(const std::string& receipt_id) const;
  // Own answers (STATUS_ANSWERED to this node) by seq, that a decision on
  // the same call may rest on; the last kDisclosureWindow seqs.
  struct Answer {
    std::string call;  // trace id / span id / receipt id
    v1::ConsentState state = v1::CONSENT_STATE_UNSPECIFIED;
  };
  std::map<uint64_t, Answer> answers_;
  bool InWindow(int64_t time_ms) const {
    return (since_ms_ == 0 || time_ms >= since_ms_) && (until_ms_ == 0 || time_ms < until_ms_);
  }
  void CheckDisclosure(uint64_t seq, const v1::AuditEntry& entry, v1::AuditVerifyReport& report);
  void ApplyConsent(uint64_t seq, const v1::AuditEntry& entry, v1::AuditVerifyReport& report);
  // Derives each consent fact of `request` again; false if any differed.
  bool DeriveConsents(uint64_t seq, const v1::AuditEntry& entry, const policy::ConsentSettings& settings,
                      policy::Request& request, v1::AuditVerifyReport& report);
};

}  // namespace casenode::node
