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
  // Allowed decisions on calls that disclose, by seq, that a disclosure may
  // still name; only the last kDisclosureWindow entries are kept (an answer
  // follows its decision within its call).
  struct Allowed {
    std::string call;  // trace id / span id / method
    std::string org;
    std::vector<std::string> categories;
  };
  static constexpr uint64_t kDisclosureWindow = 1'000'000;
  std::map<uint64_t, Allowed> allowed_;
  void CheckDisclosure(uint64_t seq, const v1::AuditEntry& entry, v1::AuditVerifyReport& report);
};

}  // namespace casenode::node
