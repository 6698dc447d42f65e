#include <catch2/catch.hpp>
#include <array>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "base/file.h"
#include "base/sha256.h"
#include "policy/policy.h"
#include "policy/test_suite.h"

using namespace casenode::policy;
using casenode::Reason;
using casenode::ReasonName;

namespace {

const std::string kNetworkDir = CASENODE_SOURCE_DIR "/policy/network";

const Source kVocab{"vocab.toml", R"(
[vocabulary]
roles = ["school", "gemeente"]
actions = ["signal.lookup", "case.read"]
purposes = ["vroegsignalering", "casusoverleg"]
categories = ["signaal", "zorg"]
legal_bases = ["consent", "public_task"]
)"};

const Source kRules{"rules.toml", R"(
[[rule]]
id = "lookup"
effect = "allow"
roles = ["school", "gemeente"]
actions = ["signal.lookup"]
purposes = ["vroegsignalering"]
categories = ["signaal"]
legal_bases = ["public_task"]
rate_limit_per_minute = 60

[[rule]]
id = "read-zorg"
effect = "allow"
roles = ["gemeente"]
actions = ["case.read"]
purposes = ["casusoverleg"]
categories = ["zorg"]
legal_bases = ["consent"]
conditions = ["case_member"]
)"};

Request Lookup(const std::string& role = "school") {
  Request r;
  r.requester_org = role;
  r.requester_role = role;
  r.action = "signal.lookup";
  r.purpose = "vroegsignalering";
  r.categories = {"signaal"};
  r.legal_basis = "public_task";
  return r;
}

// The gemeente reading a child's health data in a case, on consent.
Request ConsentRead() {
  Request r;
  r.subject = kThisChild;
  r.requester_org = r.requester_role = "gemeente";
  r.action = "case.read";
  r.purpose = "casusoverleg";
  r.categories = {"zorg"};
  r.legal_basis = "consent";
  r.case_member = true;
  return r;
}

std::string LoadError(const std::vector<Source>& network, const std::vector<Source>& local = {}) {
  auto p = Policy::FromSources(network, local);
  REQUIRE_FALSE(p.ok());
  REQUIRE(p.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(p.status().message());
}

// The default network policy's files, as Policy::Load reads them.
std::vector<Source> NetworkSources() {
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(kNetworkDir)) {
    if (e.is_regular_file() && e.path().extension() == ".toml") paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<Source> out;
  for (const auto& p : paths) {
    auto text = casenode::ReadFile(p);
    REQUIRE(text.ok());
    out.push_back({p, *text});
  }
  return out;
}

Source& FindSource(std::vector<Source>& sources, std::string_view file) {
  auto it = std::find_if(sources.begin(), sources.end(), [&](const Source& s) { return s.name.ends_with(file); });
  REQUIRE(it != sources.end());
  return *it;
}

// Replaces the [[rule]] table with id `id` (up to the next [[rule]]) by `with`.
void ReplaceRule(Source& s, const std::string& id, const std::string& with) {
  const size_t at = s.text.find("id = \"" + id + "\"\n");
  REQUIRE(at != std::string::npos);
  const size_t begin = s.text.rfind("[[rule]]", at);
  REQUIRE(begin != std::string::npos);
  size_t end = s.text.find("\n[[rule]]", at);
  end = end == std::string::npos ? s.text.size() : end + 1;
  s.text.replace(begin, end - begin, with);
}

}  // namespace

TEST_CASE("every test case of the default network policy passes", "[policy]") {
  auto policy = Policy::Load(kNetworkDir);
  REQUIRE(policy.ok());
  auto tests = LoadPolicyTests(kNetworkDir + "/tests");
  REQUIRE(tests.ok());
  REQUIRE(tests->size() >= 50);
  for (const auto& r : RunPolicyTests(**policy, *tests)) {
    INFO(r.test->name << ": got " << r.decision.rule_id << " " << ReasonName(r.decision.reason));
    CHECK(r.passed);
  }
}

TEST_CASE("every rule of the default network policy decides at least one test case", "[policy]") {
  auto policy = Policy::Load(kNetworkDir);
  auto tests = LoadPolicyTests(kNetworkDir + "/tests");
  std::set<std::string> decided;
  for (const auto& t : *tests) decided.insert(t.rule);
  const std::string canonical = (*policy)->CanonicalText();
  for (size_t at = canonical.find("rule id="); at != std::string::npos; at = canonical.find("rule id=", at + 1)) {
    const std::string id = canonical.substr(at + 8, canonical.find(' ', at + 8) - at - 8);
    INFO("rule " << id << " has no test case that it decides");
    CHECK(decided.contains(id));
  }
}

TEST_CASE("a request is denied by default when no rule applies", "[policy]") {
  auto p = Policy::FromSources({kVocab, kRules});
  REQUIRE(p.ok());
  Request r = Lookup();
  r.action = "case.read";
  r.purpose = "casusoverleg";
  const Decision d = (*p)->Evaluate(r);
  REQUIRE_FALSE(d.allowed());
  REQUIRE(d.rule_id == "default-deny");
  REQUIRE(d.reason == Reason::kNoMatchingRule);
}

TEST_CASE("a decision names its rule, policy hash, request digest and rate limit", "[policy]") {
  auto p = Policy::FromSources({kVocab, kRules});
  const Decision d = (*p)->Evaluate(Lookup());
  REQUIRE(d.allowed());
  REQUIRE(d.rule_id == "lookup");
  REQUIRE(d.reason == Reason::kAllowed);
  REQUIRE(d.policy_hash == (*p)->hash());
  REQUIRE(d.request_digest == RequestDigest(Lookup()));
  REQUIRE(d.canonical_request == CanonicalRequest(Lookup()));
  REQUIRE(d.rate_limit_per_minute == 60);
}

TEST_CASE("a consent-based allow names the receipt it relied on", "[policy]") {
  auto p = Policy::FromSources({kVocab, kRules});
  Request r = ConsentRead();
  r.consents = {{"bad", ConsentStatus::kRevoked, {"casusoverleg"}, {"zorg"}, {"gemeente"}, {}, kThisChild},
                {"good", ConsentStatus::kValid, {"casusoverleg"}, {"zorg"}, {}, {"gemeente"}, kThisChild}};
  Decision d = (*p)->Evaluate(r);
  REQUIRE(d.allowed());
  REQUIRE(d.consent_receipt_ids == std::vector<std::string>{"good"});
  r.consents.pop_back();
  d = (*p)->Evaluate(r);
  REQUIRE(d.reason == Reason::kConsentRevoked);
  REQUIRE(d.rule_id == "read-zorg");
}

TEST_CASE("a valid receipt about another child does not cover the request", "[policy]") {
  auto p = Policy::FromSources({kVocab, kRules});
  Request r = ConsentRead();
  r.subject = "handle-of-child-b";
  r.consents = {{"for-a", ConsentStatus::kValid, {"casusoverleg"}, {"zorg"}, {"gemeente"}, {}, "handle-of-child-a"}};
  Decision d = (*p)->Evaluate(r);
  REQUIRE_FALSE(d.allowed());
  REQUIRE(d.reason == Reason::kConsentOutOfScope);
  r.consents[0].subject = r.subject;
  REQUIRE((*p)->Evaluate(r).allowed());
  // A request about no child is covered by no receipt, not even one naming no child.
  r.subject = "";
  r.consents[0].subject = "";
  REQUIRE((*p)->Evaluate(r).reason == Reason::kConsentOutOfScope);
}

TEST_CASE("the consent failure reason does not depend on the order of receipts", "[policy]") {
  auto p = Policy::FromSources({kVocab, kRules});
  Request r = ConsentRead();
  const ConsentFact expired{"a", ConsentStatus::kExpired, {"casusoverleg"}, {"zorg"}, {"gemeente"}, {}, kThisChild};
  const ConsentFact forged{"b", ConsentStatus::kForged, {"casusoverleg"}, {"zorg"}, {"gemeente"}, {}, kThisChild};
  r.consents = {expired, forged};
  const Decision one = (*p)->Evaluate(r);
  r.consents = {forged, expired};
  const Decision two = (*p)->Evaluate(r);
  REQUIRE(one.reason == Reason::kConsentForged);
  REQUIRE(two == one);
}

TEST_CASE("the same request gives the same decision every time and after reloading", "[policy]") {
  auto first = Policy::Load(kNetworkDir);
  auto second = Policy::Load(kNetworkDir);
  REQUIRE((*first)->hash() == (*second)->hash());
  Request r = Lookup();
  const Decision d = (*first)->Evaluate(r);
  for (int i = 0; i < 1000; ++i) REQUIRE((*first)->Evaluate(r) == d);
  REQUIRE((*second)->Evaluate(r) == d);
}

TEST_CASE("the request digest ignores list order and covers every field", "[policy]") {
  Request a = Lookup();
  a.categories = {"signaal", "contact"};
  Request b = a;
  b.categories = {"contact", "signaal"};
  REQUIRE(RequestDigest(a) == RequestDigest(b));
  b.case_active = true;
  REQUIRE(RequestDigest(a) != RequestDigest(b));
  b = a;
  b.requester_org = "other";
  REQUIRE(RequestDigest(a) != RequestDigest(b));
}

TEST_CASE("the policy hash ignores comments and file layout but not rules", "[policy]") {
  auto p = Policy::FromSources({kVocab, kRules});
  Source commented = kRules;
  commented.text = "# a comment\n" + commented.text;
  auto q = Policy::FromSources({commented, kVocab});
  REQUIRE((*p)->hash() == (*q)->hash());
  Source changed = kRules;
  changed.text.replace(changed.text.find("rate_limit_per_minute = 60"), 26, "rate_limit_per_minute = 61");
  REQUIRE((*Policy::FromSources({kVocab, changed}))->hash() != (*p)->hash());
}

TEST_CASE("the canonical policy bytes and text are pinned", "[policy][golden]") {
  auto p = Policy::FromSources({kVocab, kRules});
  // Domain tag, then the name ("" here), each as u32be length || bytes.
  using namespace std::string_literals;
  REQUIRE((*p)->CanonicalBytes().starts_with("\0\0\0\x12"s "casenode-policy/v7" "\0\0\0\0"s));
  // Cross-checked with the independent encoder: python3 tests/golden/policy_hash.py
  // on these two files.
  REQUIRE((*p)->hash() == "b0220d2f0b3992747c6cdf749751e90ac2035ca9cd9a5afb4e677a9cf99ef2e6");
  REQUIRE((*p)->CanonicalText() ==
          "casenode-policy/v7\n"
          "policy name=\n"
          "vocabulary roles=gemeente,school\n"
          "vocabulary actions=case.read,signal.lookup\n"
          "vocabulary purposes=casusoverleg,vroegsignalering\n"
          "vocabulary categories=signaal,zorg\n"
          "vocabulary legal_bases=consent,public_task\n"
          "consent status_cache_seconds=60 on_issuer_unreachable=deny max_stale_seconds=3600\n"
          "signals retention_seconds=63072000\n"
          "cases retention_seconds=63072000 member_contributions=200 member_agreements=50 member_bytes=1048576\n"
          "audit witnesses=2\n"
          "rule id=lookup effect=allow local=0 roles=gemeente,school orgs= actions=signal.lookup "
          "purposes=vroegsignalering categories=signaal legal_bases=public_task consent=not_required conditions= "
          "rate_limit_per_minute=60\n"
          "rule id=read-zorg effect=allow local=0 roles=gemeente orgs= actions=case.read purposes=casusoverleg "
          "categories=zorg legal_bases=consent consent=not_required conditions=case_member rate_limit_per_minute=0\n");
}

TEST_CASE("consent settings come from the network policy and are part of its hash", "[policy]") {
  auto defaults = Policy::FromSources({kVocab, kRules});
  REQUIRE((*defaults)->consent_settings() == ConsentSettings{60, false, 3600});
  const Source settings{"consent.toml",
                        "[consent]\nstatus_cache_seconds = 5\non_issuer_unreachable = \"allow_stale\"\n"
                        "max_stale_seconds = 900\n"};
  auto custom = Policy::FromSources({kVocab, kRules, settings});
  REQUIRE(custom.ok());
  REQUIRE((*custom)->consent_settings() == ConsentSettings{5, true, 900});
  REQUIRE((*custom)->hash() != (*defaults)->hash());
  CHECK(LoadError({kVocab, kRules, Source{"c.toml", "[consent]\non_issuer_unreachable = \"shrug\"\n"}})
            .find("c.toml:2: [consent] on_issuer_unreachable") == 0);
  CHECK(LoadError({kVocab, kRules}, {settings}).find("unknown key \"consent\"") != std::string::npos);
  CHECK(LoadError({kVocab, kRules, Source{"c.toml", "consent = 60\n"}}).find("c.toml:1: [consent]: expected a table") ==
        0);
}

TEST_CASE("signal retention comes from the network policy and is part of its hash", "[policy]") {
  auto signals = [](const std::string& name, const std::string& body) { return Source{name, "[signals]\n" + body}; };
  // Absent: two years (730 days) after registration.
  auto defaults = Policy::FromSources({kVocab, kRules});
  REQUIRE((*defaults)->signal_settings() == SignalSettings{63072000});
  REQUIRE(SignalSettings{}.retention_seconds == 730 * 86400);
  // Naming the default changes nothing, not even the hash.
  auto explicit_default = Policy::FromSources({kVocab, kRules, signals("s.toml", "retention_seconds = 63072000\n")});
  REQUIRE(explicit_default.ok());
  REQUIRE((*explicit_default)->hash() == (*defaults)->hash());
  auto year = Policy::FromSources({kVocab, kRules, signals("s.toml", "retention_seconds = 31536000 # 365 days\n")});
  REQUIRE(year.ok());
  REQUIRE((*year)->signal_settings() == SignalSettings{31536000});
  // The same rules otherwise, but another retention: another policy.
  REQUIRE((*year)->hash() != (*defaults)->hash());
  REQUIRE((*year)->rule_count() == (*defaults)->rule_count());
  REQUIRE((*year)->CanonicalText().find("signals retention_seconds=31536000\n") != std::string::npos);
  const Decision before = (*defaults)->Evaluate(Lookup()), after = (*year)->Evaluate(Lookup());
  CHECK((after.rule_id == before.rule_id && after.reason == before.reason && after.policy_hash == (*year)->hash()));
  // The bounds: 1 day and 3650 days.
  REQUIRE(Policy::FromSources({kVocab, kRules, signals("s.toml", "retention_seconds = 1\n")}).ok());
  REQUIRE(Policy::FromSources({kVocab, kRules, signals("s.toml", "retention_seconds = 315360000\n")}).ok());
  for (const std::string& bad : std::vector<std::string>{"0", "-1", "315360001", "9223372036854775807",
                                                         "\"63072000\"", "6.3e7", "true", "[63072000]"}) {
    INFO(bad);
    CHECK(LoadError({kVocab, kRules, signals("s.toml", "retention_seconds = " + bad + "\n")})
              .find("s.toml:2: [signals] retention_seconds: expected an integer from 1 to 315360000") == 0);
  }
  CHECK(LoadError({kVocab, kRules, signals("s.toml", "retention_days = 730\n")})
            .find("s.toml:2: [signals] unknown key \"retention_days\"") == 0);
  CHECK(LoadError({kVocab, kRules, Source{"s.toml", "signals = 63072000\n"}})
            .find("s.toml:1: [signals]: expected a table") == 0);
  // Network files only, and declared once.
  CHECK(LoadError({kVocab, kRules}, {signals("local.toml", "retention_seconds = 31536000\n")})
            .find("local.toml:1: unknown key \"signals\"") == 0);
  CHECK(LoadError({kVocab, kRules, signals("a.toml", "retention_seconds = 31536000\n"),
                   signals("b.toml", "retention_seconds = 31536000\n")})
            .find("b.toml:1: [signals] is already declared in a.toml") == 0);
}

TEST_CASE("each member's share of a case comes from the network policy and is part of its hash", "[policy]") {
  auto cases = [](const std::string& body) { return Source{"c.toml", "[cases]\n" + body}; };
  auto defaults = Policy::FromSources({kVocab, kRules});
  REQUIRE((*defaults)->case_settings() == CaseSettings{63072000, 200, 50, 1048576});
  auto same = Policy::FromSources(
      {kVocab, kRules, cases("member_contributions = 200\nmember_agreements = 50\nmember_bytes = 1048576\n")});
  REQUIRE((*same)->hash() == (*defaults)->hash());
  for (const auto& [body, want] : std::vector<std::pair<std::string, CaseSettings>>{
           {"member_contributions = 1000\n", {63072000, 1000, 50, 1048576}},
           {"member_agreements = 1\n", {63072000, 200, 1, 1048576}},
           {"member_bytes = 3145728\n", {63072000, 200, 50, 3145728}}}) {
    INFO(body);
    auto p = Policy::FromSources({kVocab, kRules, cases(body)});
    REQUIRE(p.ok());
    CHECK((*p)->case_settings() == want);
    CHECK((*p)->hash() != (*defaults)->hash());
  }
  for (const auto& [body, error] : std::vector<std::pair<std::string, std::string>>{
           {"member_contributions = 0\n", "c.toml:2: [cases] member_contributions: expected an integer from 1 to 1000"},
           {"member_contributions = 1001\n", "c.toml:2: [cases] member_contributions: expected an integer from 1 to 1000"},
           {"member_agreements = \"5\"\n", "c.toml:2: [cases] member_agreements: expected an integer from 1 to 200"},
           {"member_bytes = 32767\n", "c.toml:2: [cases] member_bytes: expected an integer from 32768 to 3145728"},
           {"member_bytes = 3145729\n", "c.toml:2: [cases] member_bytes: expected an integer from 32768 to 3145728"},
           {"members = 3\n", "c.toml:2: [cases] unknown key \"members\""}}) {
    INFO(body);
    CHECK(LoadError({kVocab, kRules, cases(body)}).find(error) == 0);
  }
}

TEST_CASE("the witnesses an auditor requires come from the network policy and are part of its hash", "[policy]") {
  auto audit = [](const std::string& name, const std::string& body) { return Source{name, "[audit]\n" + body}; };
  auto defaults = Policy::FromSources({kVocab, kRules});
  REQUIRE((*defaults)->audit_settings() == AuditSettings{2});
  auto same = Policy::FromSources({kVocab, kRules, audit("a.toml", "witnesses = 2\n")});
  REQUIRE((*same)->hash() == (*defaults)->hash());
  auto three = Policy::FromSources({kVocab, kRules, audit("a.toml", "witnesses = 3\n")});
  REQUIRE(three.ok());
  REQUIRE((*three)->audit_settings().witnesses == 3);
  REQUIRE((*three)->hash() != (*defaults)->hash());
  REQUIRE((*three)->CanonicalText().find("audit witnesses=3\n") != std::string::npos);
  for (const std::string& bad : std::vector<std::string>{"0", "17", "-1", "\"2\"", "2.0", "true"}) {
    INFO(bad);
    CHECK(LoadError({kVocab, kRules, audit("a.toml", "witnesses = " + bad + "\n")})
              .find("a.toml:2: [audit] witnesses: expected an integer from 1 to 16") == 0);
  }
  CHECK(LoadError({kVocab, kRules, audit("a.toml", "cosigners = 2\n")})
            .find("a.toml:2: [audit] unknown key \"cosigners\"") == 0);
  CHECK(LoadError({kVocab, kRules, Source{"a.toml", "audit = 2\n"}}).find("a.toml:1: [audit]: expected a table") == 0);
  CHECK(LoadError({kVocab, kRules}, {audit("local.toml", "witnesses = 1\n")})
            .find("local.toml:1: unknown key \"audit\"") == 0);
  CHECK(LoadError({kVocab, kRules, audit("a.toml", "witnesses = 2\n"), audit("b.toml", "witnesses = 3\n")})
            .find("b.toml:1: [audit] is already declared in a.toml") == 0);
}

TEST_CASE("the network hash of a policy with local rules is the network policy's own hash", "[policy]") {
  // What a node compares with the manifest comes from the same compile as the
  // policy it enforces (no second read of the files).
  const Source local{"local.toml", "[[rule]]\nid = \"lokaal\"\neffect = \"deny\"\nroles = [\"school\"]\n"
                                   "actions = [\"case.read\"]\npurposes = [\"casusoverleg\"]\n"};
  auto network_only = Policy::FromSources({kVocab, kRules});
  auto with_local = Policy::FromSources({kVocab, kRules}, {local});
  REQUIRE(with_local.ok());
  REQUIRE((*with_local)->hash() != (*network_only)->hash());
  REQUIRE((*with_local)->network_hash() == (*network_only)->hash());
  REQUIRE((*network_only)->network_hash() == (*network_only)->hash());
}

TEST_CASE("a local rule that would widen access is rejected naming file and line", "[policy]") {
  const Source widening{"local.toml", R"(
[[rule]]
id = "local-extra"
effect = "allow"
roles = ["school"]
actions = ["case.read"]
purposes = ["casusoverleg"]
)"};
  const std::string msg = LoadError({kVocab, kRules}, {widening});
  REQUIRE(msg.find("local.toml:4:") == 0);
  REQUIRE(msg.find("a local rule may only deny") != std::string::npos);
}

TEST_CASE("a local deny rule restricts what the network policy allows", "[policy]") {
  const Source restrict{"local.toml", R"(
[[rule]]
id = "local-no-gemeente-lookups"
effect = "deny"
roles = ["gemeente"]
actions = ["signal.lookup"]
purposes = ["vroegsignalering"]
)"};
  auto base = Policy::FromSources({kVocab, kRules});
  auto local = Policy::FromSources({kVocab, kRules}, {restrict});
  REQUIRE(local.ok());
  REQUIRE((*base)->Evaluate(Lookup("gemeente")).allowed());
  const Decision d = (*local)->Evaluate(Lookup("gemeente"));
  REQUIRE(d.rule_id == "local-no-gemeente-lookups");
  REQUIRE(d.reason == Reason::kDeniedByRule);
  REQUIRE((*local)->Evaluate(Lookup("school")).allowed());
  REQUIRE((*local)->hash() != (*base)->hash());
}

TEST_CASE("names outside the vocabulary are load errors with file and line", "[policy]") {
  Source typo = kRules;
  typo.text.replace(typo.text.find("\"vroegsignalering\"]\ncategories = [\"signaal\"]"), 18, "\"vroegsignalring\"");
  const std::string msg = LoadError({kVocab, typo});
  REQUIRE(msg == "rules.toml:7: rule \"lookup\": purpose \"vroegsignalring\" is not in the vocabulary");
}

TEST_CASE("malformed rules are load errors naming the problem", "[policy]") {
  auto with = [&](const std::string& extra) { return LoadError({kVocab, Source{"r.toml", extra}}); };
  CHECK(with("[[rule]]\nid = \"x\"\neffect = \"maybe\"\nroles=[\"school\"]\nactions=[\"case.read\"]\npurposes=[\"casusoverleg\"]\n")
            .find("effect: expected \"allow\" or \"deny\"") != std::string::npos);
  CHECK(with("[[rule]]\nid = \"x\"\neffect = \"allow\"\nactions=[\"case.read\"]\npurposes=[\"casusoverleg\"]\n")
            .find("names no requester") != std::string::npos);
  CHECK(with("[[rule]]\nid = \"x\"\neffect = \"deny\"\nroles=[\"school\"]\nactions=[\"case.read\"]\npurposes=[\"casusoverleg\"]\n"
             "conditions=[\"case_member\"]\n")
            .find("a deny rule takes no") != std::string::npos);
  CHECK(with("[[rule]]\nid = \"lookup\"\neffect = \"deny\"\nroles=[\"school\"]\nactions=[\"case.read\"]\npurposes=[\"casusoverleg\"]\n"
             "[[rule]]\nid = \"lookup\"\neffect = \"deny\"\nroles=[\"school\"]\nactions=[\"case.read\"]\npurposes=[\"casusoverleg\"]\n")
            .find("id is used twice") != std::string::npos);
  CHECK(with("[[rule]]\nid = \"x\"\neffect = \"allow\"\nroles=[\"school\"]\nactions=[\"case.read\"]\npurposes=[\"casusoverleg\"]\n"
             "colour = \"red\"\n")
            .find("r.toml:7: rule: unknown key \"colour\"") != std::string::npos);
  CHECK(LoadError({kRules}).find("no [vocabulary]") != std::string::npos);
  CHECK(LoadError({kVocab, kVocab}).find("already declared") != std::string::npos);
  CHECK(with("[[rule]\n").find("r.toml:1:") == 0);
}

TEST_CASE("requests naming anything outside the vocabulary are denied with a specific reason", "[policy]") {
  auto p = Policy::FromSources({kVocab, kRules});
  auto reason = [&](auto mutate) {
    Request r = Lookup();
    mutate(r);
    const Decision d = (*p)->Evaluate(r);
    REQUIRE_FALSE(d.allowed());
    REQUIRE(d.rule_id == "vocabulary");
    return d.reason;
  };
  CHECK(reason([](Request& r) { r.requester_role = "ministerie"; }) == Reason::kUnknownRole);
  CHECK(reason([](Request& r) { r.action = "signal.delete"; }) == Reason::kUnknownAction);
  CHECK(reason([](Request& r) { r.purpose = "marketing"; }) == Reason::kUnknownPurpose);
  CHECK(reason([](Request& r) { r.categories = {"financieel"}; }) == Reason::kUnknownCategory);
  CHECK(reason([](Request& r) { r.legal_basis = "contract"; }) == Reason::kUnknownLegalBasis);
}

TEST_CASE("explain marks the deciding rule and says why the others did not apply", "[policy]") {
  auto p = Policy::FromSources({kVocab, kRules});
  const Explanation e = (*p)->Explain(Lookup());
  REQUIRE(e.decision.rule_id == "lookup");
  REQUIRE(e.rules.size() == 2);
  REQUIRE(e.rules[0].rule_id == "lookup");
  REQUIRE(e.rules[0].decided);
  REQUIRE(e.rules[0].origin == "rules.toml:2");
  REQUIRE(e.rules[1].why == "action signal.lookup is not in [case.read]");
}

// ---- The policy hash cannot be forged (issue 7, A1) ----

// The reproduced forgery: in the v1 hash (SHA-256 of one text line per rule,
// list items joined by ",") an org value could hold a newline and the text of
// the next rule, which was then deleted. The forged policy lets a school read
// criminal-law data with no legal basis, and had the default policy's hash.
TEST_CASE("an org id cannot smuggle another rule into the policy hash", "[policy][hash]") {
  std::vector<Source> sources = NetworkSources();
  auto original = Policy::FromSources(sources);
  REQUIRE(original.ok());
  // The v1 text of the rest of the pseudoniem-afleiden line and the start of
  // the school-geen-justitieel line; the forged rule's own fields then spell
  // out the rest of the deny rule's line.
  const std::string smuggled =
      " actions=pseudonym.evaluate purposes=casusoverleg,vroegsignalering categories= "
      "legal_bases=legal_duty,public_task consent=not_required conditions= rate_limit_per_minute=600\\n"
      "rule id=school-geen-justitieel effect=deny local=0 roles=school orgs=";
  ReplaceRule(FindSource(sources, "10-netwerk.toml"), "pseudoniem-afleiden",
              "[[rule]]\n"
              "id = \"pseudoniem-afleiden\"\n"
              "effect = \"allow\"\n"
              "roles = [\"school\", \"jeugdhulp\", \"politie\", \"gemeente\"]\n"
              "orgs = [\"" + smuggled + "\"]\n"
              "actions = [\"case.read\", \"case.contribute\"]\n"
              "purposes = [\"casusoverleg\"]\n"
              "categories = [\"justitieel\"]\n\n");
  ReplaceRule(FindSource(sources, "30-casusoverleg.toml"), "school-geen-justitieel", "");

  auto forged = Policy::FromSources(sources);
  if (forged.ok()) {
    // Never loaded by a node comparing hashes: it must not pass for the default.
    REQUIRE((*forged)->hash() != (*original)->hash());
  } else {
    const std::string msg(forged.status().message());
    CHECK(msg.find("10-netwerk.toml:") != std::string::npos);
    CHECK(msg.find("rule \"pseudoniem-afleiden\": orgs: ") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
}

TEST_CASE("orgs in a rule must be manifest org ids, and errors name file, line and orgs", "[policy][hash]") {
  auto rule_with_org = [](const std::string& org) {
    return Source{"orgs.toml", "[[rule]]\nid = \"x\"\neffect = \"deny\"\nroles = [\"school\"]\norgs = [\"zorg-a\", \"" + org +
                                   "\"]\nactions = [\"case.read\"]\npurposes = [\"casusoverleg\"]\n"};
  };
  for (const std::string& bad : std::vector<std::string>{"zorg-b\\nrule id=y", "zorg b", "Zorg-b", "", std::string(64, 'a'),
                                                         "zorg-a,zorg-b", "zorg_b"}) {
    const std::string msg = LoadError({kVocab, rule_with_org(bad)});
    INFO(msg);
    CHECK(msg.find("orgs.toml:5: rule \"x\": orgs: ") == 0);
    CHECK(msg.find("is not an organisation id (1 to 63 characters of a-z, 0-9 and -)") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
  // The line is the offending item's, in a list over several lines.
  const std::string multiline = LoadError(
      {kVocab, Source{"orgs.toml", "[[rule]]\nid = \"x\"\neffect = \"deny\"\norgs = [\n  \"zorg-a\",\n  \"zorg b\",\n]\n"
                                   "actions = [\"case.read\"]\npurposes = [\"casusoverleg\"]\n"}});
  CHECK(multiline.find("orgs.toml:6: rule \"x\": orgs: \"zorg b\"") == 0);
  REQUIRE(Policy::FromSources({kVocab, rule_with_org(std::string(63, 'a'))}).ok());
  REQUIRE(Policy::FromSources({kVocab, rule_with_org("ggz-flevoland-2")}).ok());
}

TEST_CASE("the policy name is validated, declared once and part of the hash", "[policy][hash]") {
  auto named = [](const std::string& toml_value) { return Source{"name.toml", "[policy]\nname = " + toml_value + "\n"}; };
  auto plain = Policy::FromSources({kVocab, kRules});
  auto a = Policy::FromSources({kVocab, kRules, named("\"net-a\"")});
  auto b = Policy::FromSources({kVocab, kRules, named("\"net-b\"")});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK((*a)->name() == "net-a");
  CHECK((*a)->hash() != (*b)->hash());
  CHECK((*a)->hash() != (*plain)->hash());
  for (const std::string& bad :
       std::vector<std::string>{"\"net\\nrule id=x\"", "\"\"", "\"tab\\there\"", "42", "\"" + std::string(101, 'n') + "\""}) {
    INFO(bad);
    CHECK(LoadError({kVocab, kRules, named(bad)}).find("name.toml:2: [policy] name: expected") == 0);
  }
  CHECK(LoadError({kVocab, kRules, named("\"net-a\""), Source{"z.toml", "[policy]\nname = \"net-b\"\n"}})
            .find("z.toml:2: [policy] name is already declared in name.toml") == 0);
  // A local file's [policy] is documentation only, as before.
  REQUIRE(Policy::FromSources({kVocab, kRules}, {named("\"local\"")}).ok());
}

TEST_CASE("the hash of the default network policy is pinned", "[policy][hash][golden]") {
  auto p = Policy::Load(kNetworkDir);
  REQUIRE(p.ok());
  // Cross-checked by tests/golden/policy_hash.py, an independent encoder that
  // reads the same files: python3 tests/golden/policy_hash.py policy/network
  REQUIRE((*p)->hash() == "9da47bed5ad85f9534cfa6d4dd29acb9b69218a50058ab03cd0212614c9b601e");
}

namespace {

// A small random policy, as its meaning: what the engine compiles it to.
// Two policies with equal models must hash equal; two with equal hashes must
// have equal models and decide every request alike.
struct RuleModel {
  bool allow = false;
  bool local = false;
  std::set<std::string> roles, orgs, actions, purposes, categories, bases, conditions;
  bool consent_required = false;
  uint32_t rate_limit = 0;
  auto operator<=>(const RuleModel&) const = default;
};

struct PolicyModel {
  std::string name;
  uint32_t cache_seconds = 60;
  bool allow_stale = false;
  uint64_t retention_seconds = 63072000;
  std::map<std::string, RuleModel> rules;  // by id
  auto operator<=>(const PolicyModel&) const = default;
};

const std::vector<std::string> kPropRoles = {"school", "gemeente"};
const std::vector<std::string> kPropActions = {"case.read", "signal.lookup"};
const std::vector<std::string> kPropPurposes = {"casusoverleg", "vroegsignalering"};
const std::vector<std::string> kPropCategories = {"signaal", "zorg"};
const std::vector<std::string> kPropBases = {"consent", "public_task"};
const std::vector<std::string> kPropConditions = {"case_member", "case_active", "within_retention"};
const std::vector<std::string> kPropOrgs = {"zorg-a", "zorg-b", "gemeente"};
// What the v1 text made of orgs = ["zorg-a", "zorg-b"]; an invalid org id now.
const std::string kJoinedOrgs = "zorg-a,zorg-b";

// Portable across standard libraries: mt19937's output is specified, the distributions are not.
struct Rng {
  std::mt19937 gen{20260701};
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(gen() % n); }
  bool Coin() { return Below(2) == 0; }
  std::set<std::string> Subset(const std::vector<std::string>& pool, bool nonempty) {
    std::set<std::string> out;
    for (const auto& x : pool) {
      if (Coin()) out.insert(x);
    }
    if (nonempty && out.empty()) out.insert(pool[Below(static_cast<uint32_t>(pool.size()))]);
    return out;
  }
  template <typename T>
  void Shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[Below(static_cast<uint32_t>(i))]);
  }
};

RuleModel RandomRule(Rng& rng) {
  RuleModel r;
  r.allow = rng.Coin();
  r.local = !r.allow && rng.Below(3) == 0;
  r.roles = rng.Subset(kPropRoles, false);
  r.orgs = rng.Below(3) == 0 ? rng.Subset(kPropOrgs, false) : std::set<std::string>{};
  if (r.roles.empty() && r.orgs.empty()) r.roles.insert(kPropRoles[rng.Below(2)]);
  r.actions = rng.Subset(kPropActions, true);
  r.purposes = rng.Subset(kPropPurposes, true);
  r.categories = rng.Subset(kPropCategories, false);
  if (r.allow) {
    r.bases = rng.Subset(kPropBases, false);
    r.consent_required = rng.Below(3) == 0;
    r.conditions = rng.Subset(kPropConditions, false);
    r.rate_limit = std::array<uint32_t, 3>{0, 60, 61}[rng.Below(3)];
  }
  return r;
}

PolicyModel RandomPolicy(Rng& rng) {
  PolicyModel p;
  p.name = std::array<const char*, 3>{"", "net-a", "net-b"}[rng.Below(3)];
  p.cache_seconds = rng.Coin() ? 60 : 5;
  p.allow_stale = rng.Below(3) == 0;
  p.retention_seconds = rng.Below(3) == 0 ? 31536000 : 63072000;
  std::vector<std::string> ids = {"r1", "r2", "r3", "r4"};
  rng.Shuffle(ids);
  const uint32_t n = 1 + rng.Below(3);
  for (uint32_t i = 0; i < n; ++i) p.rules[ids[i]] = RandomRule(rng);
  return p;
}

// One small change to the meaning.
PolicyModel Mutate(PolicyModel p, Rng& rng) {
  auto it = p.rules.begin();
  std::advance(it, rng.Below(static_cast<uint32_t>(p.rules.size())));
  RuleModel& r = it->second;
  auto toggle = [&](std::set<std::string>& s, const std::vector<std::string>& pool, bool keep_nonempty) {
    const std::string& x = pool[rng.Below(static_cast<uint32_t>(pool.size()))];
    if (s.erase(x) == 0) {
      s.insert(x);
    } else if (keep_nonempty && s.empty()) {
      s.insert(x == pool[0] ? pool[1] : pool[0]);
    }
  };
  switch (rng.Below(8)) {
    case 0: toggle(r.roles, kPropRoles, r.orgs.empty()); break;
    case 1: toggle(r.orgs, kPropOrgs, r.roles.empty()); break;
    case 2: toggle(r.actions, kPropActions, true); break;
    case 3: toggle(r.purposes, kPropPurposes, true); break;
    case 4: toggle(r.categories, kPropCategories, false); break;
    case 5:
      if (r.allow && rng.Coin()) {
        toggle(r.bases, kPropBases, false);
      } else if (r.allow) {
        toggle(r.conditions, kPropConditions, false);
      } else {
        r.local = !r.local;
      }
      break;
    case 6:
      if (r.allow) {
        r.consent_required = !r.consent_required;
        r.rate_limit = r.rate_limit == 60 ? 61 : 60;
      } else {
        r.allow = true;
      }
      break;
    default:
      switch (rng.Below(3)) {
        case 0:
          p.name = p.name == "net-a" ? "net-b" : "net-a";
          break;
        case 1:
          p.allow_stale = !p.allow_stale;
          break;
        default:
          p.retention_seconds = p.retention_seconds == 63072000 ? 31536000 : 63072000;
          break;
      }
      break;
  }
  if (r.allow) r.local = false;  // only deny rules may be local
  return p;
}

std::string TomlList(std::set<std::string> s, Rng& rng) {
  std::vector<std::string> v(s.begin(), s.end());
  rng.Shuffle(v);
  std::string out = "[";
  for (const auto& x : v) out += (out.size() > 1 ? ", \"" : "\"") + x + "\"";
  return out + "]";
}

// The model as policy files, laid out at random: file split, rule and list
// order, comments and descriptions, optional keys written or left out.
std::pair<std::vector<Source>, std::vector<Source>> Render(const PolicyModel& p, Rng& rng) {
  auto list = [&](const std::vector<std::string>& v) { return TomlList({v.begin(), v.end()}, rng); };
  std::string vocab = "# vocabulary\n";
  if (!p.name.empty()) vocab += "[policy]\nname = \"" + p.name + "\"\nversion = \"" + std::to_string(rng.Below(9)) + "\"\n";
  vocab += "[vocabulary]\nroles = " + list(kPropRoles) + "\nactions = " + list(kPropActions) + "\npurposes = " +
           list(kPropPurposes) + "\ncategories = " + list(kPropCategories) + "\nlegal_bases = " + list(kPropBases) + "\n";
  if (p.cache_seconds != 60 || p.allow_stale || rng.Coin()) {
    vocab += "[consent]\nstatus_cache_seconds = " + std::to_string(p.cache_seconds) + "\non_issuer_unreachable = \"" +
             (p.allow_stale ? "allow_stale" : "deny") + "\"\n";
  }
  std::vector<Source> network = {{"00-vocab.toml", vocab}, {"10-a.toml", ""}, {"20-b.toml", ""}};
  if (p.retention_seconds != 63072000 || rng.Coin()) {
    network[rng.Below(3)].text += "[signals]\nretention_seconds = " + std::to_string(p.retention_seconds) + "\n";
  }
  std::vector<Source> local = {{"local.toml", ""}};
  std::vector<std::pair<std::string, RuleModel>> rules(p.rules.begin(), p.rules.end());
  rng.Shuffle(rules);
  for (const auto& [id, r] : rules) {
    std::string t = "[[rule]]\nid = \"" + id + "\"\neffect = \"" + (r.allow ? "allow" : "deny") + "\"\n";
    if (rng.Coin()) t += "description = \"rule " + std::to_string(rng.Below(100)) + "\" # says nothing\n";
    if (!r.roles.empty() || rng.Coin()) t += "roles = " + TomlList(r.roles, rng) + "\n";
    if (!r.orgs.empty() || rng.Coin()) t += "orgs = " + TomlList(r.orgs, rng) + "\n";
    t += "actions = " + TomlList(r.actions, rng) + "\npurposes = " + TomlList(r.purposes, rng) + "\n";
    if (!r.categories.empty() || rng.Coin()) t += "categories = " + TomlList(r.categories, rng) + "\n";
    if (r.allow) {
      if (!r.bases.empty() || rng.Coin()) t += "legal_bases = " + TomlList(r.bases, rng) + "\n";
      if (r.consent_required || rng.Coin()) t += std::string("consent = \"") + (r.consent_required ? "" : "not_") + "required\"\n";
      if (!r.conditions.empty() || rng.Coin()) t += "conditions = " + TomlList(r.conditions, rng) + "\n";
      if (r.rate_limit != 0) t += "rate_limit_per_minute = " + std::to_string(r.rate_limit) + "\n";
    }
    (r.local ? local[0] : network[1 + rng.Below(2)]).text += t + "\n";
  }
  if (local[0].text.empty() && rng.Coin()) local.clear();
  return {network, local};
}

// Every request over the small vocabulary, with every consent state that
// matters and each case condition failing on its own (enough to tell any two
// condition sets apart; more would only slow the test down).
std::vector<Request> AllRequests() {
  std::vector<Request> out;
  std::vector<std::vector<std::string>> category_sets = {{}, {"signaal"}, {"zorg"}, {"signaal", "zorg"}};
  for (const auto& role : kPropRoles) {
    for (const std::string org : {"zorg-a", "zorg-b", "gemeente", "elders"}) {
      for (const auto& action : kPropActions) {
        for (const auto& purpose : kPropPurposes) {
          for (const auto& cats : category_sets) {
            for (const std::string basis : {"", "consent", "public_task"}) {
              for (int consent = 0; consent < 3; ++consent) {
                for (int failing = 0; failing < 4; ++failing) {
                  Request r;
                  r.requester_org = org;
                  r.requester_role = role;
                  r.action = action;
                  r.purpose = purpose;
                  r.categories = cats;
                  r.legal_basis = basis;
                  if (consent > 0) {
                    r.subject = kThisChild;
                    r.consents = {{"c", consent == 1 ? ConsentStatus::kValid : ConsentStatus::kRevoked,
                                   kPropPurposes, kPropCategories, {role}, {}, kThisChild}};
                  }
                  r.case_member = failing != 1;
                  r.case_active = failing != 2;
                  r.within_retention = failing != 3;
                  out.push_back(std::move(r));
                }
              }
            }
          }
        }
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("random policies: equal hashes mean equal meaning and equal decisions", "[policy][hash][property]") {
  Rng rng;
  struct Loaded {
    PolicyModel model;
    std::shared_ptr<const Policy> policy;
  };
  std::vector<Loaded> loaded;
  size_t refused = 0;
  auto add = [&](const PolicyModel& m) {
    auto [network, local] = Render(m, rng);
    auto p = Policy::FromSources(network, local);
    bool joined = false;
    for (const auto& [id, r] : m.rules) joined = joined || r.orgs.contains(kJoinedOrgs);
    if (joined && !p.ok()) {
      // Not an org id: refused, naming the field, never hashed.
      CHECK(std::string(p.status().message()).find("orgs: \"zorg-a,zorg-b\" is not an organisation id") !=
            std::string::npos);
      ++refused;
      return;
    }
    INFO(p.status().message());
    REQUIRE(p.ok());
    loaded.push_back({m, *p});
  };
  constexpr int kPolicies = 150;
  for (int i = 0; i < kPolicies; ++i) {
    const PolicyModel m = RandomPolicy(rng);
    add(m);
    // Laid out differently, for a quarter of them: comparing all decisions of a
    // pair takes most of this test's time.
    if (i % 4 == 1) add(m);
    const PolicyModel mutant = Mutate(m, rng);
    add(mutant);
    add(Mutate(mutant, rng));
    if (i % 4 == 0) {
      // Two orgs, and one "org" that the v1 text wrote the same way.
      PolicyModel split = m, joined = m;
      split.rules.begin()->second.orgs = {"zorg-a", "zorg-b"};
      joined.rules.begin()->second.orgs = {kJoinedOrgs};
      add(split);
      add(joined);
    }
  }

  const std::vector<Request> requests = AllRequests();
  std::map<std::string, std::vector<const Loaded*>> by_hash;
  std::map<PolicyModel, std::string> hash_of;
  for (const Loaded& l : loaded) {
    by_hash[l.policy->hash()].push_back(&l);
    const auto it = hash_of.emplace(l.model, l.policy->hash()).first;
    INFO("the same policy, laid out differently, got another hash");
    CHECK(it->second == l.policy->hash());
  }
  size_t compared = 0;
  for (const auto& [hash, group] : by_hash) {
    if (group.size() < 2) continue;
    const Loaded& first = *group.front();
    for (const Loaded* other : group) {
      if (other == &first) continue;
      INFO("policies with hash " << hash << " differ");
      CHECK(other->model == first.model);
      // The hash is what a node compares: a policy that decides any request
      // otherwise must never share it.
      for (const Request& r : requests) {
        const Decision a = first.policy->Evaluate(r);
        const Decision b = other->policy->Evaluate(r);
        if (!(a == b)) {
          FAIL_CHECK("request " << r.requester_org << "/" << r.requester_role << " " << r.action << " " << r.purpose
                                << ": " << a.rule_id << " " << a.reason << " vs " << b.rule_id << " " << b.reason);
          break;
        }
      }
      ++compared;
    }
  }
  CHECK(refused == (kPolicies + 3) / 4);  // every joined "org"
  CHECK(compared >= kPolicies / 4);      // those laid out a second way
  CHECK(by_hash.size() >= 2 * kPolicies);
}

TEST_CASE("a canonical request parses back into the request it encodes, and nothing else does", "[policy][replay]") {
  Request q;
  q.subject = kThisChild;
  q.requester_org = "school";
  q.requester_role = "school";
  q.action = "signal.lookup";
  q.purpose = "vroegsignalering";
  q.categories = {"zorg", "onderwijs"};
  q.legal_basis = "consent";
  ConsentFact f;
  f.receipt_id = "r-1";
  f.status = ConsentStatus::kRevoked;
  f.purposes = {"vroegsignalering"};
  f.categories = {"zorg"};
  f.recipient_roles = {"school"};
  f.recipient_orgs = {"school", "gemeente"};
  f.subject = kThisChild;
  q.consents = {f, f};
  q.consents[1].receipt_id = "r-2";
  q.consents[1].status = ConsentStatus::kValid;
  q.case_member = true;
  q.within_retention = false;
  const std::string bytes = CanonicalRequest(q);
  auto back = ParseCanonicalRequest(bytes);
  REQUIRE(back.ok());
  REQUIRE(CanonicalRequest(*back) == bytes);
  REQUIRE(back->consents.size() == 2);
  REQUIRE(back->case_member);
  REQUIRE_FALSE(back->within_retention);
  for (size_t cut = 0; cut < bytes.size(); ++cut) REQUIRE_FALSE(ParseCanonicalRequest(bytes.substr(0, cut)).ok());
  REQUIRE_FALSE(ParseCanonicalRequest(bytes + "x").ok());
  std::string flipped = bytes;
  flipped.back() = 2;  // a bool that is neither 0 nor 1
  REQUIRE_FALSE(ParseCanonicalRequest(flipped).ok());
}

TEST_CASE("a request's digest is the SHA-256 of its bytes, remembered or not", "[policy]") {
  // Each thread remembers the digests of its last few short requests without
  // consent facts. Requests asked twice in a row (the second from the memo),
  // six at a time (all fit) and then all of them (slots are reused); one too
  // long to be kept; and requests with consent facts (never remembered). The
  // digests from RequestDigest and Evaluate (through the memo) agree with the
  // fresh ones from CanonicalRequestDigest, and all are SHA-256 of the bytes.
  auto p = Policy::FromSources({kVocab, kRules});
  REQUIRE(p.ok());
  std::vector<Request> requests;
  for (int i = 0; i < 12; ++i) {
    requests.push_back(Lookup());
    requests.back().requester_org = "org-" + std::to_string(i);
  }
  requests.push_back(Lookup());
  requests.back().categories.assign(50, std::string(50, 'c'));
  REQUIRE(CanonicalRequest(requests.back()).size() > 2000);
  for (const char* receipt : {"receipt-1", "receipt-2"}) {
    requests.push_back(ConsentRead());
    requests.back().consents = {
        {receipt, ConsentStatus::kValid, {"casusoverleg"}, {"zorg"}, {"gemeente"}, {}, kThisChild}};
  }
  for (size_t n : {size_t{6}, requests.size()}) {
    for (int round = 0; round < 3; ++round) {
      for (size_t i = 0; i < n; ++i) {
        const std::string bytes = CanonicalRequest(requests[i]);
        const std::string expected = casenode::Sha256Hex(bytes);
        REQUIRE(CanonicalRequestDigest(bytes) == expected);
        REQUIRE(RequestDigest(requests[i]) == expected);
        REQUIRE(RequestDigest(requests[i]) == expected);
        REQUIRE((*p)->Evaluate(requests[i]).request_digest == expected);
      }
    }
  }
  // Well-known values, so the digests cannot agree on a wrong hash.
  REQUIRE(CanonicalRequestDigest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  REQUIRE(CanonicalRequestDigest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("[quota] sets a durable bound per action and role, and is part of the hash", "[policy][quota]") {
  const Source quotas{"quota.toml", R"(
[quota."signal.lookup"]
alarm_percent = 75
school = { per_minute = 20, per_day = 200 }
gemeente = { per_minute = 30, per_day = 400 }
)"};
  auto p = Policy::FromSources({kVocab, kRules, quotas});
  REQUIRE(p.ok());
  const Quota* school = (*p)->quota("signal.lookup", "school");
  REQUIRE(school != nullptr);
  CHECK(*school == Quota{20, 200, 75});
  CHECK(*(*p)->quota("signal.lookup", "gemeente") == Quota{30, 400, 75});
  CHECK((*p)->quota("case.read", "school") == nullptr);
  CHECK((*Policy::FromSources({kVocab, kRules}))->quota("signal.lookup", "school") == nullptr);
  // alarm_percent defaults to 80.
  auto defaulted = Policy::FromSources(
      {kVocab, kRules, Source{"q.toml", "[quota.\"signal.lookup\"]\nschool = { per_minute = 1, per_day = 1 }\n"}});
  REQUIRE(defaulted.ok());
  CHECK((*defaulted)->quota("signal.lookup", "school")->alarm_percent == 80);

  // Every number is part of the hash.
  const std::string base = (*p)->hash();
  CHECK(base != (*Policy::FromSources({kVocab, kRules}))->hash());
  for (const auto& [from, to] : {std::pair{"alarm_percent = 75", "alarm_percent = 76"},
                                 std::pair{"per_minute = 20", "per_minute = 21"},
                                 std::pair{"per_day = 200", "per_day = 201"}}) {
    Source changed = quotas;
    changed.text.replace(changed.text.find(from), std::string(from).size(), to);
    auto q = Policy::FromSources({kVocab, kRules, changed});
    REQUIRE(q.ok());
    CHECK(q.value()->hash() != base);
  }
  CHECK((*p)->CanonicalText().find("quota action=signal.lookup role=school per_minute=20 per_day=200 alarm_percent=75\n") !=
        std::string::npos);
}

TEST_CASE("a bad [quota] table is refused, naming the file, line and field", "[policy][quota]") {
  auto err = [](const std::string& text) { return LoadError({kVocab, kRules, Source{"q.toml", text}}); };
  CHECK(err("[quota.\"case.write\"]\nschool = { per_minute = 1, per_day = 1 }\n")
            .find("q.toml:1: [quota.\"case.write\"] names an action the vocabulary lacks") == 0);
  CHECK(err("[quota.\"signal.lookup\"]\npolitie = { per_minute = 1, per_day = 1 }\n")
            .find("\"politie\": expected alarm_percent or a role of the vocabulary") != std::string::npos);
  CHECK(err("[quota.\"signal.lookup\"]\nschool = { per_minute = 0, per_day = 1 }\n")
            .find("school.per_minute: expected an integer from 1 to 1000000") != std::string::npos);
  CHECK(err("[quota.\"signal.lookup\"]\nschool = { per_minute = 5, per_day = 4 }\n")
            .find("school.per_day: expected an integer from per_minute to 1000000000") != std::string::npos);
  CHECK(err("[quota.\"signal.lookup\"]\nschool = { per_minute = 5 }\n").find("school.per_day") != std::string::npos);
  CHECK(err("[quota.\"signal.lookup\"]\nschool = { per_minute = 5, per_day = 9, burst = 2 }\n")
            .find("burst") != std::string::npos);
  CHECK(err("[quota.\"signal.lookup\"]\nalarm_percent = 101\nschool = { per_minute = 5, per_day = 9 }\n")
            .find("alarm_percent: expected an integer from 1 to 100") != std::string::npos);
  CHECK(err("[quota.\"signal.lookup\"]\nalarm_percent = 50\n").find("expected a quota for at least one role") !=
        std::string::npos);
  // One file declares an action's quota; a local file declares none.
  const Source one{"a.toml", "[quota.\"signal.lookup\"]\nschool = { per_minute = 1, per_day = 1 }\n"};
  const Source two{"b.toml", "[quota.\"signal.lookup\"]\ngemeente = { per_minute = 1, per_day = 1 }\n"};
  CHECK(LoadError({kVocab, kRules, one, two}).find("b.toml:1: [quota.\"signal.lookup\"] is already declared in a.toml") ==
        0);
  CHECK(LoadError({kVocab, kRules}, {one}).find("quota") != std::string::npos);
}

TEST_CASE("the shipped policy bounds pseudonym derivation for every role that may derive", "[policy][quota]") {
  auto p = Policy::Load(kNetworkDir);
  REQUIRE(p.ok());
  for (const std::string role : {"school", "jeugdhulp", "politie", "gemeente", "auditor"}) {
    INFO(role);
    const Quota* q = (*p)->quota("pseudonym.evaluate", role);
    REQUIRE(q != nullptr);
    CHECK(q->per_day <= 600);
    CHECK(q->per_minute <= 30);
  }
  CHECK(*(*p)->quota("pseudonym.evaluate", "school") == Quota{20, 200, 80});
}

TEST_CASE("[signals.categories] names what each role's signals may be about, and is part of the hash",
          "[policy][signals]") {
  const Source vocab{"vocab.toml", R"(
[vocabulary]
roles = ["school", "gemeente"]
actions = ["signal.lookup"]
purposes = ["vroegsignalering"]
categories = ["onderwijs", "zorg", "justitieel"]
legal_bases = ["public_task"]
)"};
  const Source signals{"s.toml", "[signals]\n[signals.categories]\nschool = [\"onderwijs\", \"zorg\"]\n"};
  auto p = Policy::FromSources({vocab, signals});
  REQUIRE(p.ok());
  CHECK((*p)->SignalCategoryAllowed("school", "zorg"));
  CHECK_FALSE((*p)->SignalCategoryAllowed("school", "justitieel"));
  CHECK_FALSE((*p)->SignalCategoryAllowed("gemeente", "zorg"));  // a role not listed registers none
  auto open = Policy::FromSources({vocab});
  CHECK((*open)->SignalCategoryAllowed("gemeente", "justitieel"));  // no table: any category
  CHECK((*open)->hash() != (*p)->hash());
  Source more = signals;
  more.text += "gemeente = [\"zorg\"]\n";
  CHECK((*Policy::FromSources({vocab, more}))->hash() != (*p)->hash());
  CHECK(LoadError({vocab, Source{"s.toml", "[signals]\n[signals.categories]\nschool = [\"reclame\"]\n"}})
            .find("s.toml:3: [signals.categories] school: expected data categories of the vocabulary") == 0);
  CHECK(LoadError({vocab, Source{"s.toml", "[signals]\n[signals.categories]\npolitie = [\"zorg\"]\n"}})
            .find("not a role of the vocabulary") != std::string::npos);
  CHECK(LoadError({vocab, Source{"s.toml", "[signals]\n[signals.categories]\nschool = []\n"}})
            .find("expected a non-empty list") != std::string::npos);
  // An empty table would read as "any category": refused, leave it out instead.
  CHECK(LoadError({vocab, Source{"s.toml", "[signals]\n[signals.categories]\n"}})
            .find("expected a table of roles") != std::string::npos);
  // The shipped policy: no organisation's signal is about criminal law.
  auto shipped = Policy::Load(kNetworkDir);
  REQUIRE(shipped.ok());
  for (const std::string role : {"school", "jeugdhulp", "gemeente"}) {
    CHECK((*shipped)->SignalCategoryAllowed(role, "zorg"));
    CHECK_FALSE((*shipped)->SignalCategoryAllowed(role, "justitieel"));
  }
  CHECK_FALSE((*shipped)->SignalCategoryAllowed("politie", "zorg"));
}
