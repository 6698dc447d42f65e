// The vocabulary the code relies on (node/vocabulary): the shipped policy
// knows every name, and a policy that lacks one does not load, naming it.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "base/reason.h"
#include "node/node.h"
#include "node/prepare.h"
#include "node/vocabulary/vocabulary.h"
#include "policy/policy.h"

namespace {

using casenode::Reason;
using casenode::ReasonOf;
using casenode::policy::Policy;
using casenode::policy::Source;

// Every name the code uses, but `missing`, in a policy with one rule.
std::string VocabularyWithout(std::string_view missing) {
  auto list = [&](std::initializer_list<std::string_view> names) {
    std::string out = "[";
    for (std::string_view n : names) {
      if (n == missing) continue;
      if (out.size() > 1) out += ", ";
      out += "\"" + std::string(n) + "\"";
    }
    return out + "]";
  };
  namespace v = casenode::node::vocab;
  return "[vocabulary]\nroles = [\"school\"]\nactions = " +
         list({v::kNodePing, v::kConsentStatus, v::kPseudonymEvaluate, v::kSignalLookup, v::kSignalNotify,
               v::kCaseConvene, v::kCaseInvite, v::kCaseJoin, v::kCaseContribute, v::kCaseRead, v::kCaseClose,
               v::kCaseDestroy, v::kAuditRead, v::kAuditCosign, v::kAuditAlarm}) +
         "\npurposes = " + list({v::kNetwerkbeheer, v::kCasusoverleg, v::kVerantwoording, v::kInzage}) +
         "\ncategories = " + list({v::kSignaal, v::kContact, v::kAfspraken, v::kLogmetadata}) +
         "\nlegal_bases = " + list({v::kLegalDuty, v::kPublicTask}) +
         "\n\n[[rule]]\nid = \"ping\"\neffect = \"allow\"\nroles = [\"school\"]\nactions = [\"node.ping\"]\n"
         "purposes = [\"netwerkbeheer\"]\n";
}

}  // namespace

TEST_CASE("the shipped network policy knows every name the code uses", "[vocabulary]") {
  auto policy = Policy::Load(CASENODE_SOURCE_DIR "/policy/network");
  REQUIRE(policy.ok());
  CHECK(casenode::node::vocab::CheckVocabulary(**policy).ok());
}

TEST_CASE("a policy that lacks a name the code uses is refused, naming the name and its kind", "[vocabulary]") {
  struct Case {
    std::string_view missing;
    std::string_view kind;
  };
  namespace v = casenode::node::vocab;
  for (const Case& c : {Case{v::kAuditCosign, "action"}, Case{v::kAuditAlarm, "action"}, Case{v::kInzage, "purpose"},
                        Case{v::kAfspraken, "data category"}, Case{v::kPublicTask, "legal basis"}}) {
    INFO(c.missing);
    auto policy = Policy::FromSources({Source{"vocab.toml", VocabularyWithout(c.missing)}});
    REQUIRE(policy.ok());  // a valid policy in itself
    absl::Status lacks = casenode::node::vocab::CheckVocabulary(**policy);
    CHECK(ReasonOf(lacks) == Reason::kPolicyLacksVocabulary);
    CHECK(lacks.code() == absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(std::string(lacks.message()),
               Catch::Contains(std::string(c.kind) + " \"" + std::string(c.missing) + "\""));
  }
  auto complete = Policy::FromSources({Source{"vocab.toml", VocabularyWithout("")}});
  REQUIRE(complete.ok());
  CHECK(casenode::node::vocab::CheckVocabulary(**complete).ok());
}

TEST_CASE("a node does not load a policy that lacks an action the code uses", "[vocabulary]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("casenode-vocabulary-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "00-vocabulary.toml") << VocabularyWithout(casenode::node::vocab::kCaseRead);
  casenode::node::NodeConfig config;
  config.policy_network = dir.string();
  // Refused before its hash is compared with the manifest's.
  auto loaded = casenode::node::LoadPolicy(config, "no hash");
  fs::remove_all(dir);
  REQUIRE_FALSE(loaded.ok());
  CHECK(ReasonOf(loaded.status()) == Reason::kPolicyLacksVocabulary);
  CHECK_THAT(std::string(loaded.status().message()), Catch::Contains("policy.network"));
  CHECK_THAT(std::string(loaded.status().message()), Catch::Contains("action \"case.read\""));
}
