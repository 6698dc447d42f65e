// bench policy_decide: Policy::Evaluate on realistic requests against a policy
// of 20, 200 and 2000 synthetic rules, vs the baseline: looking up a
// precomputed answer in a hash map (the cheapest possible "decision").
// Single thread; reports median and p99 per decision.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <unordered_map>

#include "base/strings.h"
#include "policy/policy.h"
#include "tests/bench/harness.h"

using namespace casenode;
using namespace casenode::policy;

namespace {

struct Synthetic {
  std::vector<Source> sources;
  std::vector<Request> requests;
};

std::string List(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + v[i] + "\"";
  return s + "]";
}

Synthetic Make(size_t rules, std::mt19937& rng) {
  const std::vector<std::string> roles = {"school", "jeugdhulp", "politie", "gemeente", "auditor"};
  const std::vector<std::string> bases = {"consent", "legal_duty", "vital_interest", "public_task"};
  std::vector<std::string> actions, purposes, categories;
  for (size_t i = 0; i < std::max<size_t>(10, rules / 20); ++i) actions.push_back(StrCat("action.", i));
  for (size_t i = 0; i < std::max<size_t>(5, rules / 40); ++i) purposes.push_back(StrCat("purpose-", i));
  for (size_t i = 0; i < 20; ++i) categories.push_back(StrCat("category-", i));
  Synthetic s;
  s.sources.push_back({"vocab.toml", StrCat("[vocabulary]\nroles = ", List(roles), "\nactions = ", List(actions),
                                            "\npurposes = ", List(purposes), "\ncategories = ", List(categories),
                                            "\nlegal_bases = ", List(bases), "\n")});
  auto pick = [&](const std::vector<std::string>& from, size_t n) {
    std::vector<std::string> out = from;
    std::shuffle(out.begin(), out.end(), rng);
    out.resize(std::min(n, out.size()));
    return out;
  };
  std::string text;
  for (size_t i = 0; i < rules; ++i) {
    const bool deny = rng() % 10 == 0;
    const auto r = pick(roles, 1 + rng() % 3);
    const auto a = pick(actions, 1);
    const auto p = pick(purposes, 1 + rng() % 2);
    const auto c = pick(categories, 1 + rng() % 4);
    const auto b = pick(bases, 1 + rng() % 2);
    text += StrCat("[[rule]]\nid = \"r", i, "\"\neffect = \"", deny ? "deny" : "allow", "\"\nroles = ", List(r),
                   "\nactions = ", List(a), "\npurposes = ", List(p), "\ncategories = ", List(c), "\n");
    if (!deny) {
      text += StrCat("legal_bases = ", List(b), "\n");
      if (rng() % 3 == 0) text += "conditions = [\"case_member\", \"case_active\"]\n";
    }
    // A realistic request aimed at this rule: sometimes within it, sometimes just outside.
    Request q;
    q.requester_role = r[rng() % r.size()];
    q.requester_org = q.requester_role + "-org";
    q.action = a[0];
    q.purpose = p[rng() % p.size()];
    q.categories = pick(c, 1 + rng() % c.size());
    if (rng() % 4 == 0) q.categories.push_back(categories[rng() % categories.size()]);
    q.legal_basis = b[rng() % b.size()];
    q.case_member = rng() % 2;
    q.case_active = true;
    if (q.legal_basis == "consent") {
      q.subject = casenode::policy::kThisChild;
      q.consents.push_back({"receipt-1", ConsentStatus::kValid, {q.purpose}, q.categories, {q.requester_role}, {},
                            casenode::policy::kThisChild});
    }
    s.requests.push_back(std::move(q));
  }
  s.sources.push_back({"rules.toml", text});
  return s;
}

std::string BaselineKey(const Request& r) {
  std::string k = r.requester_role + '|' + r.action + '|' + r.purpose + '|' + r.legal_basis;
  for (const auto& c : r.categories) k += '|' + c;
  return k + (r.case_member ? "|m" : "|-");
}

}  // namespace

int main() {
  std::mt19937 rng(7);
  for (size_t rules : {size_t{20}, size_t{200}, size_t{2000}}) {
    Synthetic s = Make(rules, rng);
    auto policy = Policy::FromSources(s.sources);
    if (!policy.ok()) {
      std::fprintf(stderr, "bench policy_decide: %s\n", std::string(policy.status().message()).c_str());
      return 1;
    }
    std::unordered_map<std::string, Decision> precomputed;
    size_t allowed = 0;
    for (const auto& q : s.requests) {
      precomputed[BaselineKey(q)] = (*policy)->Evaluate(q);
      allowed += precomputed[BaselineKey(q)].allowed() ? 1 : 0;
    }
    constexpr size_t kOps = 200000;
    auto measure = [&](auto&& op) {
      std::vector<float> lat(kOps);
      const auto start = std::chrono::steady_clock::now();
      for (size_t i = 0; i < kOps; ++i) {
        const auto a = std::chrono::steady_clock::now();
        op(s.requests[i % s.requests.size()]);
        lat[i] = std::chrono::duration<float, std::micro>(std::chrono::steady_clock::now() - a).count();
      }
      bench::Result r;
      r.n = kOps;
      r.ops_per_s = kOps / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::sort(lat.begin(), lat.end());
      r.p50_us = lat[kOps / 2];
      r.p99_us = lat[kOps * 99 / 100];
      return r;
    };
    volatile size_t sink = 0;
    const bench::Comparison decide = bench::Compare(
        3, [&] { return measure([&](const Request& q) { sink = sink + (*policy)->Evaluate(q).rule_id.size(); }); },
        [&] {
          return measure([&](const Request& q) {
            Decision d = precomputed.find(BaselineKey(q))->second;
            sink = sink + d.rule_id.size();
          });
        });
    bench::Report("policy_decide", decide,
                  StrCat("rules=", rules, " allowed_share=", allowed * 100 / s.requests.size(), "%"));
  }
  return 0;
}
