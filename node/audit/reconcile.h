// The auditor's reconciliation: both sides of every Peer call, paired across
// the network's logs by W3C trace id and span id. The caller logs what it
// sent (PeerCallSent, with the outcome it got); the callee's gate logs its
// decision. A call the callee answered (OK, or refused by its policy or rate
// limit) must appear in both logs; a call that never reached it (unavailable,
// deadline) only in the caller's. The caller's entry carries the time the
// call started. A side younger than the cut-off is not judged: its call may
// not have ended before the logs were read (the cut-off must lie at least
// the longest call duration, the nodes' peer timeout, before the reading).
//
// Consent answers are paired too: every answer of another issuer that a
// decision names (v1::ConsentCheck: receipt, state, the ConsentStatus call's
// trace and span) must be an answer that issuer logged giving (a
// STATUS_ANSWERED in the issuer's own log, on that call, to the deciding
// node, with that state, logged within `skew_ms` of when the decider says it
// asked), if the issuer's log was read. What the issuer answered is in turn
// checked against its own consent events by its replay.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "casenode/v1/local.pb.h"

namespace casenode::node {

class Reconciler {
 public:
  // Sides logged after `cutoff_ms`, and calls of trace `skip_trace` (the
  // reconciliation's own reads), are not judged.
  Reconciler(int64_t cutoff_ms, std::string skip_trace, int64_t skew_ms)
      : cutoff_ms_(cutoff_ms), skip_trace_(std::move(skip_trace)), skew_ms_(skew_ms) {}

  // One verified entry of `org`'s log.
  void Add(const std::string& org, uint64_t seq, std::string_view leaf);
  // Pairs what was added; `read` are the nodes whose logs were read in full.
  v1::AuditReconcileReport Finish(const std::set<std::string>& read);

 private:
  struct Side {
    std::string org;  // whose log
    uint64_t seq = 0;
    std::string method;
    std::string other_org;
    std::string outcome;
    int64_t time_ms = 0;
  };
  using Key = std::pair<std::string, std::string>;  // trace id, span id
  const int64_t cutoff_ms_;
  const std::string skip_trace_;
  const int64_t skew_ms_;
  std::map<Key, Side> sent_;
  std::map<Key, Side> received_;
  struct Relied {
    v1::UnbackedConsent decision;  // state_answered and why set by Finish
    std::string trace_id;          // of the ConsentStatus call it names
    std::string span_id;
    int64_t asked_ms = 0;
  };
  std::vector<Relied> relied_;
  struct Answered {
    std::string asker;
    v1::ConsentState state = v1::CONSENT_STATE_UNSPECIFIED;
    int64_t time_ms = 0;
  };
  // (issuer = the log's org, trace id, span id, receipt id) -> the answer it logged
  std::map<std::tuple<std::string, std::string, std::string, std::string>, Answered> answered_;
  uint64_t in_flight_ = 0;
};

}  // namespace casenode::node
