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
#pragma once

#include <deque>

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "casenode/v1/local.pb.h"
#include "policy/policy.h"

namespace casenode::node {

class Replayer {
 public:
  // Decisions taken in [since_ms, until_ms) are re-decided (0 = unbounded).
  Replayer(int64_t since_ms, int64_t until_ms) : since_ms_(since_ms), until_ms_(until_ms) {}

  // One verified entry; problems go into `report`.
  void Add(uint64_t seq, std::string_view leaf, v1::AuditVerifyReport& report);

  uint64_t decisions_replayed() const { return replayed_; }
  size_t policies_loaded() const { return policies_.size(); }

 private:
  const int64_t since_ms_;
  const int64_t until_ms_;
  std::map<std::string, std::shared_ptr<const policy::Policy>> policies_;  // by hash
  std::string current_;   // the policy in force, by the log
  std::string previous_;  // the one it replaced
  uint64_t replayed_ = 0;
  // Allowed decisions a disclosure may still refer to, by trace id, span id
  // and method; forgotten once older than kDisclosureWindowMs (a call's
  // answer follows its decision within the call's deadline).
  struct Allowed {
    std::string org;
    std::vector<std::string> categories;
    int64_t time_ms = 0;
  };
  static constexpr int64_t kDisclosureWindowMs = 15 * 60 * 1000;
  std::map<std::string, Allowed> allowed_;
  std::deque<std::pair<int64_t, std::string>> allowed_order_;  // (time, key), oldest first
  void CheckDisclosure(uint64_t seq, const v1::AuditEntry& entry, v1::AuditVerifyReport& report);
};

}  // namespace casenode::node
