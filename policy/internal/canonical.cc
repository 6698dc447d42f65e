// The canonical encoding and hashes of a policy: see internal/canonical.h.
#include "policy/internal/canonical.h"

#include <algorithm>

#include "base/canonical.h"
#include "base/sha256.h"
#include "base/strings.h"

namespace casenode::policy::internal {
namespace {

// The policy's canonical bytes; the policy hash is their SHA-256. Every
// field is length-prefixed by CanonicalWriter (base/canonical.h):
//
//   string:  u32be length || bytes
//   list:    u32be count || each string as above, sorted bytewise
//   integer: u64be;  flag: u64be 0 or 1
//
// so no name can run into the next field or rule, whatever it holds. In order:
//
//   "casenode-policy/v7"                        domain tag and format version
//   name                                        [policy] name ("" if none)
//   roles, actions, purposes, categories, legal_bases     the vocabulary (5 lists)
//   status_cache_seconds, allow_stale, max_stale_seconds   [consent] (integer, flag, integer)
//   retention_seconds                           [signals] (integer)
//   signal category roles                       integer, then for each role by name:
//     role, categories (list)                   [signals.categories]
//   retention_seconds, member_contributions,    [cases] (4 integers)
//     member_agreements, member_bytes
//   witnesses                                   [audit] (integer)
//   quota count                                 integer, then for each action by name:
//     action, alarm_percent (integer), role count (integer), then for each
//     role by name: role, per_minute, per_day (integers)
//   rule count                                  integer, then for each rule by id:
//     id, effect ("allow" or "deny"), local (flag),
//     roles, orgs, actions, purposes, categories, legal_bases (6 lists),
//     consent_required (flag), conditions (list), rate_limit_per_minute (integer)
//
// That is everything a decision depends on (the vocabulary's order is not:
// requests are interned by name), and the name shown with the hash;
// descriptions, comments, [policy] version, file names and rule origins are
// left out, as they decide nothing. Two policies with the same bytes therefore
// decide every request identically. A new layout needs a new domain tag
// (v2 had no [signals]; v3 added retention_seconds; v4 [audit] witnesses;
// v5 [cases] retention_seconds; v6 [quota] and [signals.categories]; v7 the
// member shares of [cases]).
// policy/README.md documents the same format; a golden test pins it.
std::string EncodePolicy(const Policy::Compiled& c, bool with_local) {
  CanonicalWriter w("casenode-policy/v7");
  w.String(c.name);
  for (int k = 0; k < kKinds; ++k) w.List(c.vocab.names[k]);
  w.U64(c.consent.status_cache_seconds).Bool(c.consent.allow_stale).U64(c.consent.max_stale_seconds);
  w.U64(c.signals.retention_seconds);
  w.U64(c.signal_categories.size());
  for (const auto& [role, categories] : c.signal_categories) w.String(role).List(categories);
  w.U64(c.cases.retention_seconds).U64(c.cases.member_contributions).U64(c.cases.member_agreements);
  w.U64(c.cases.member_bytes);
  w.U64(c.audit.witnesses);
  w.U64(c.quotas.size());
  for (const auto& [action, roles] : c.quotas) {  // std::map: sorted by name
    w.String(action).U64(roles.empty() ? 80 : roles.begin()->second.alarm_percent).U64(roles.size());
    for (const auto& [role, q] : roles) w.String(role).U64(q.per_minute).U64(q.per_day);
  }
  const auto counted =
      std::count_if(c.rules.begin(), c.rules.end(), [&](const Rule& r) { return with_local || !r.local; });
  w.U64(static_cast<uint64_t>(counted));
  for (const Rule& r : c.rules) {
    if (r.local && !with_local) continue;
    w.String(r.id).String(r.effect == Effect::kAllow ? "allow" : "deny").Bool(r.local);
    w.List(r.lists[kRoles]).List(r.orgs).List(r.lists[kActions]).List(r.lists[kPurposes]);
    w.List(r.lists[kCategories]).List(r.lists[kBases]);
    w.Bool(r.consent_required).List(r.condition_names).U64(r.rate_limit);
  }
  return std::move(w).bytes();
}

}  // namespace

void SetHashes(Policy::Compiled* c) {
  c->canonical_bytes = EncodePolicy(*c, /*with_local=*/true);
  c->hash = Sha256Hex(c->canonical_bytes);
  const bool has_local = std::any_of(c->rules.begin(), c->rules.end(), [](const Rule& r) { return r.local; });
  c->network_hash = has_local ? Sha256Hex(EncodePolicy(*c, /*with_local=*/false)) : c->hash;
}

// The same content as EncodePolicy, one line per item, for people and logs.
// It is not hashed; it stays unambiguous because every name in it is validated
// (ids and vocabulary a-z 0-9 . - _, orgs a-z 0-9 -, the name printable ASCII).
std::string CanonicalText(const Policy::Compiled& c) {
  std::string out = "casenode-policy/v7\n";
  out += StrCat("policy name=", c.name, "\n");
  for (int k = 0; k < kKinds; ++k) {
    std::vector<std::string> names = c.vocab.names[k];
    std::sort(names.begin(), names.end());
    out += StrCat("vocabulary ", kKindKey[k], "=", Join(names), "\n");
  }
  out += StrCat("consent status_cache_seconds=", c.consent.status_cache_seconds,
                " on_issuer_unreachable=", c.consent.allow_stale ? "allow_stale" : "deny",
                " max_stale_seconds=", c.consent.max_stale_seconds, "\n");
  out += StrCat("signals retention_seconds=", c.signals.retention_seconds, "\n");
  for (const auto& [role, categories] : c.signal_categories) {
    out += StrCat("signals role=", role, " categories=", Join(categories), "\n");
  }
  out += StrCat("cases retention_seconds=", c.cases.retention_seconds,
                " member_contributions=", c.cases.member_contributions,
                " member_agreements=", c.cases.member_agreements, " member_bytes=", c.cases.member_bytes, "\n");
  out += StrCat("audit witnesses=", c.audit.witnesses, "\n");
  for (const auto& [action, roles] : c.quotas) {
    for (const auto& [role, q] : roles) {
      out += StrCat("quota action=", action, " role=", role, " per_minute=", q.per_minute, " per_day=", q.per_day,
                    " alarm_percent=", q.alarm_percent, "\n");
    }
  }
  for (const Rule& r : c.rules) {
    out +=
        StrCat("rule id=", r.id, " effect=", r.effect == Effect::kAllow ? "allow" : "deny", " local=", r.local ? 1 : 0,
               " roles=", Join(r.lists[kRoles]), " orgs=", Join(r.orgs), " actions=", Join(r.lists[kActions]),
               " purposes=", Join(r.lists[kPurposes]), " categories=", Join(r.lists[kCategories]),
               " legal_bases=", Join(r.lists[kBases]), " consent=", r.consent_required ? "required" : "not_required",
               " conditions=", Join(r.condition_names), " rate_limit_per_minute=", r.rate_limit, "\n");
  }
  return out;
}

}  // namespace casenode::policy::internal
