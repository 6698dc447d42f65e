// The auditor's replay: every logged decision decided again, with the policy
// the log itself recorded for it. Entries are fed in order (after the
// verifier checked them); a PolicyLoad entry brings a policy's sources, which
// are compiled and must give the recorded hash; a decision names the policy
// hash it was taken under, and its canonical request (with the consent facts
// as verified at that moment) is evaluated again. Any difference in effect,
// rule or reason is reported with the entry's sequence number. Because each
// decision is re-decided under the recorded text, a policy changed after the
// fact produces no false difference.
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
};

}  // namespace casenode::node
