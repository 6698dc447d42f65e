#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "base/file.h"
#include "policy/policy.h"
#include "policy/test_suite.h"

using namespace casenode::policy;

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
    INFO(r.test->name << ": got " << r.decision.rule_id << " " << r.decision.reason);
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
  REQUIRE(d.reason == "NO_MATCHING_RULE");
}

TEST_CASE("a decision names its rule, policy hash, request digest and rate limit", "[policy]") {
  auto p = Policy::FromSources({kVocab, kRules});
  const Decision d = (*p)->Evaluate(Lookup());
  REQUIRE(d.allowed());
  REQUIRE(d.rule_id == "lookup");
  REQUIRE(d.reason == "ALLOWED");
  REQUIRE(d.policy_hash == (*p)->hash());
  REQUIRE(d.request_digest == RequestDigest(Lookup()));
  REQUIRE(d.rate_limit_per_minute == 60);
}

TEST_CASE("a consent-based allow names the receipt it relied on", "[policy]") {
  auto p = Policy::FromSources({kVocab, kRules});
  Request r;
  r.requester_org = "gemeente";
  r.requester_role = "gemeente";
  r.action = "case.read";
  r.purpose = "casusoverleg";
  r.categories = {"zorg"};
  r.legal_basis = "consent";
  r.case_member = true;
  r.consents = {{"bad", ConsentStatus::kRevoked, {"casusoverleg"}, {"zorg"}, {"gemeente"}, {}},
                {"good", ConsentStatus::kValid, {"casusoverleg"}, {"zorg"}, {}, {"gemeente"}}};
  Decision d = (*p)->Evaluate(r);
  REQUIRE(d.allowed());
  REQUIRE(d.consent_receipt_ids == std::vector<std::string>{"good"});
  r.consents.pop_back();
  d = (*p)->Evaluate(r);
  REQUIRE(d.reason == "CONSENT_REVOKED");
  REQUIRE(d.rule_id == "read-zorg");
}

TEST_CASE("the consent failure reason does not depend on the order of receipts", "[policy]") {
  auto p = Policy::FromSources({kVocab, kRules});
  Request r;
  r.requester_org = r.requester_role = "gemeente";
  r.action = "case.read";
  r.purpose = "casusoverleg";
  r.categories = {"zorg"};
  r.legal_basis = "consent";
  r.case_member = true;
  const ConsentFact expired{"a", ConsentStatus::kExpired, {"casusoverleg"}, {"zorg"}, {"gemeente"}, {}};
  const ConsentFact forged{"b", ConsentStatus::kForged, {"casusoverleg"}, {"zorg"}, {"gemeente"}, {}};
  r.consents = {expired, forged};
  const Decision one = (*p)->Evaluate(r);
  r.consents = {forged, expired};
  const Decision two = (*p)->Evaluate(r);
  REQUIRE(one.reason == "CONSENT_FORGED");
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

TEST_CASE("the canonical policy text is pinned", "[policy][golden]") {
  auto p = Policy::FromSources({kVocab, kRules});
  REQUIRE((*p)->CanonicalText() ==
          "casenode-policy/v1\n"
          "vocabulary roles=gemeente,school\n"
          "vocabulary actions=case.read,signal.lookup\n"
          "vocabulary purposes=casusoverleg,vroegsignalering\n"
          "vocabulary categories=signaal,zorg\n"
          "vocabulary legal_bases=consent,public_task\n"
          "consent status_cache_seconds=60 on_issuer_unreachable=deny\n"
          "rule id=lookup effect=allow local=0 roles=gemeente,school orgs= actions=signal.lookup "
          "purposes=vroegsignalering categories=signaal legal_bases=public_task consent=not_required conditions= "
          "rate_limit_per_minute=60\n"
          "rule id=read-zorg effect=allow local=0 roles=gemeente orgs= actions=case.read purposes=casusoverleg "
          "categories=zorg legal_bases=consent consent=not_required conditions=case_member rate_limit_per_minute=0\n");
  REQUIRE((*p)->hash() == "7bb0576eaad1b3770b6fa3b2d6d63c3c8a40800b4861711c71e1531a029330e6");
}

TEST_CASE("consent settings come from the network policy and are part of its hash", "[policy]") {
  auto defaults = Policy::FromSources({kVocab, kRules});
  REQUIRE((*defaults)->consent_settings() == ConsentSettings{60, false});
  const Source settings{"consent.toml", "[consent]\nstatus_cache_seconds = 5\non_issuer_unreachable = \"allow_stale\"\n"};
  auto custom = Policy::FromSources({kVocab, kRules, settings});
  REQUIRE(custom.ok());
  REQUIRE((*custom)->consent_settings() == ConsentSettings{5, true});
  REQUIRE((*custom)->hash() != (*defaults)->hash());
  CHECK(LoadError({kVocab, kRules, Source{"c.toml", "[consent]\non_issuer_unreachable = \"shrug\"\n"}})
            .find("c.toml:2: [consent] on_issuer_unreachable") == 0);
  CHECK(LoadError({kVocab, kRules}, {settings}).find("unknown key \"consent\"") != std::string::npos);
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
  REQUIRE(d.reason == "DENIED_BY_RULE");
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
  CHECK(reason([](Request& r) { r.requester_role = "ministerie"; }) == "UNKNOWN_ROLE");
  CHECK(reason([](Request& r) { r.action = "signal.delete"; }) == "UNKNOWN_ACTION");
  CHECK(reason([](Request& r) { r.purpose = "marketing"; }) == "UNKNOWN_PURPOSE");
  CHECK(reason([](Request& r) { r.categories = {"financieel"}; }) == "UNKNOWN_CATEGORY");
  CHECK(reason([](Request& r) { r.legal_basis = "contract"; }) == "UNKNOWN_LEGAL_BASIS");
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

TEST_CASE("orgs in a rule must be manifest org ids; errors name file, line and orgs", "[policy][hash]") {
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
