// The gate's parts with injected time: the rate limiter, and the decision
// writer with what it records.
#include <catch2/catch.hpp>

#include "node/audit/audit_log.h"
#include "node/gate/rate_limiter.h"
#include "tests/support/stores.h"

using namespace casenode;
using Steady = std::chrono::steady_clock;

TEST_CASE("a rule's rate limit admits a minute's worth at once, then refills continuously", "[gate]") {
  node::RateLimiter limiter;
  const Steady::time_point t0{};
  for (int i = 0; i < 60; ++i) REQUIRE(limiter.Allow("school", "pseudoniem-afleiden", 60, t0));
  REQUIRE_FALSE(limiter.Allow("school", "pseudoniem-afleiden", 60, t0));
  REQUIRE(limiter.Allow("politie", "pseudoniem-afleiden", 60, t0));  // per organisation
  REQUIRE(limiter.Allow("school", "andere-regel", 60, t0));          // per rule
  REQUIRE_FALSE(limiter.Allow("school", "pseudoniem-afleiden", 60, t0 + std::chrono::milliseconds(999)));
  REQUIRE(limiter.Allow("school", "pseudoniem-afleiden", 60, t0 + std::chrono::milliseconds(1999)));
  REQUIRE_FALSE(limiter.Allow("school", "pseudoniem-afleiden", 60, t0 + std::chrono::milliseconds(1999)));
  // A long pause refills to the bucket size, not beyond.
  const auto later = t0 + std::chrono::hours(1);
  for (int i = 0; i < 60; ++i) REQUIRE(limiter.Allow("school", "pseudoniem-afleiden", 60, later));
  REQUIRE_FALSE(limiter.Allow("school", "pseudoniem-afleiden", 60, later));
}

namespace {

struct Stores : testing::Stores {
  // The decisions of the audit log's entries, in sequence order.
  std::vector<std::pair<std::string, v1::DecisionRecord>> Stored() {
    std::vector<std::pair<std::string, v1::DecisionRecord>> out;
    REQUIRE(store->Scan(store::Family::kAudit, "e", [&](std::string_view key, const absl::StatusOr<std::string>& v) {
      REQUIRE(v.ok());
      v1::AuditEntry entry;
      REQUIRE(entry.ParseFromString(*v));
      REQUIRE(entry.has_decision());
      out.emplace_back(std::string(key), entry.decision());
    }).ok());
    return out;
  }
};

}  // namespace

TEST_CASE("a decision record holds the whole request it decided, at the injected time", "[gate][audit]") {
  Stores s;
  int64_t now_ms = 1'800'000'000'000;
  policy::Request q;
  q.subject = "handle";
  q.requester_org = "school";
  q.requester_role = "school";
  q.action = "signal.lookup";
  q.purpose = "vroegsignalering";
  q.categories = {"signaal"};
  q.legal_basis = "public_task";
  policy::Decision d;
  d.effect = policy::Effect::kAllow;
  d.rule_id = "signaal-opvragen";
  d.reason = Reason::kAllowed;
  d.policy_hash = std::string(64, 'c');
  d.canonical_request = policy::CanonicalRequest(q);
  d.request_digest = policy::RequestDigest(q);
  {
    auto opened = node::AuditLog::Open(*s.store, [&] { return now_ms; });
    REQUIRE(opened.ok());
    node::AuditLog& log = **opened;
    const node::DecisionEvent first{"Peer.LookupSignal", "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331",
                                    v1::ROLE_SCHOOL, &q, &d, ""};
    REQUIRE(log.Append(first, store::Durability::kSynced).ok());
    now_ms += 5;
    q.purpose = "casusoverleg";
    d.canonical_request = policy::CanonicalRequest(q);
    REQUIRE(log.Append(first, store::Durability::kBuffered).ok());  // written at the latest when the log closes
  }
  const auto stored = s.Stored();
  REQUIRE(stored.size() == 2);
  const v1::DecisionRecord& rec = stored[0].second;
  REQUIRE(rec.time_unix_ms() == 1'800'000'000'000);
  REQUIRE(stored[1].second.time_unix_ms() == 1'800'000'000'005);  // in the order appended
  REQUIRE(rec.trace_id() == "0af7651916cd43dd8448eb211c80319c");
  REQUIRE(rec.method() == "Peer.LookupSignal");
  REQUIRE(rec.requester_org() == "school");
  REQUIRE(rec.allowed());
  REQUIRE(rec.reason() == "ALLOWED");
  REQUIRE(rec.rule_id() == "signaal-opvragen");
  // The request can be decided again from the record alone.
  q.purpose = "vroegsignalering";
  REQUIRE(rec.canonical_request() == policy::CanonicalRequest(q));
  REQUIRE(rec.request_digest() == policy::RequestDigest(q));
  REQUIRE(stored[1].second.purpose() == "casusoverleg");
}

TEST_CASE("a decision record carries nothing of the decision encoded before it on the same thread", "[gate][audit]") {
  Stores s;
  policy::Request full;
  full.requester_org = "jeugdhulp";
  full.requester_role = "jeugdhulp";
  full.action = "case.read";
  full.purpose = "casusoverleg";
  full.categories = {"signaal", "zorg"};
  full.legal_basis = "consent";
  policy::Decision allowed;
  allowed.effect = policy::Effect::kAllow;
  allowed.rule_id = "casus-lezen";
  allowed.reason = Reason::kAllowed;
  allowed.consent_receipt_ids = {std::string(32, 'e')};
  allowed.canonical_request = policy::CanonicalRequest(full);
  std::vector<v1::ConsentCheck> checks(1);
  checks[0].set_receipt_id(std::string(32, 'e'));
  policy::Request bare;
  bare.requester_org = "school";
  bare.requester_role = "school";
  bare.action = "node.ping";
  bare.purpose = "netwerkbeheer";
  policy::Decision denied;
  denied.rule_id = "default-deny";
  denied.reason = Reason::kNoMatchingRule;
  {
    auto opened = node::AuditLog::Open(*s.store);
    REQUIRE(opened.ok());
    const std::string trace_a(32, 'a'), span_b(16, 'b'), trace_c(32, 'c');  // the event only views them
    const node::DecisionEvent first{"Peer.ReadCase", trace_a, span_b, v1::ROLE_JEUGDHULP, &full, &allowed,
                                    "sealed subject", &checks};
    const node::DecisionEvent second{"Peer.Ping", trace_c, "", v1::ROLE_SCHOOL, &bare, &denied, ""};
    REQUIRE((*opened)->Append(first, store::Durability::kSynced).ok());
    REQUIRE((*opened)->Append(second, store::Durability::kSynced).ok());
  }
  std::vector<v1::AuditEntry> entries;
  REQUIRE(s.store->Scan(store::Family::kAudit, "e", [&](std::string_view, const absl::StatusOr<std::string>& v) {
    REQUIRE(v.ok());
    REQUIRE(entries.emplace_back().ParseFromString(*v));
  }).ok());
  REQUIRE(entries.size() == 2);
  REQUIRE(entries[0].subject() == "sealed subject");
  REQUIRE(entries[0].decision().consent_checks_size() == 1);
  const v1::AuditEntry& e = entries[1];
  REQUIRE(e.span_id().empty());
  REQUIRE(e.subject().empty());
  REQUIRE(e.decision().categories().empty());
  REQUIRE(e.decision().legal_basis().empty());
  REQUIRE(e.decision().consent_receipt_ids().empty());
  REQUIRE(e.decision().consent_checks().empty());
  REQUIRE_FALSE(e.decision().allowed());
  REQUIRE(e.decision().method() == "Peer.Ping");
}
