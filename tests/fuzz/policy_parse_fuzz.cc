// libFuzzer target: the policy loader and engine on arbitrary rule files.
// Input: bytes taken as a rule file (or, if it has a [vocabulary], the whole
// network policy). Every input must give a policy or a clean error, and an
// accepted policy must evaluate requests without crashing and deterministically,
// and get the same canonical bytes and hash when loaded again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace {

const casenode::policy::Source kVocabulary{"vocab.toml", R"(
[vocabulary]
roles = ["school", "jeugdhulp", "politie", "gemeente", "auditor"]
actions = ["node.ping", "signal.lookup", "case.read", "case.contribute"]
purposes = ["netwerkbeheer", "vroegsignalering", "casusoverleg"]
categories = ["signaal", "zorg", "justitieel", "afspraken"]
legal_bases = ["consent", "legal_duty", "vital_interest", "public_task"]
)"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const casenode::policy::Source input{"fuzz.toml", std::string(reinterpret_cast<const char*>(data), size)};
  const bool has_vocabulary = input.text.find("[vocabulary]") != std::string::npos;
  using Sources = std::vector<casenode::policy::Source>;
  const Sources network = has_vocabulary ? Sources{input} : Sources{kVocabulary, input};
  auto policy = casenode::policy::Policy::FromSources(network);
  auto local = casenode::policy::Policy::FromSources({kVocabulary}, {input});
  for (const auto* p : {&policy, &local}) {
    if (!p->ok()) continue;
    // The hash is a function of the text: a node reloading the same files must
    // find the hash the manifest lists.
    auto again = p == &policy ? casenode::policy::Policy::FromSources(network)
                              : casenode::policy::Policy::FromSources({kVocabulary}, {input});
    if (!again.ok() || (*again)->hash() != (**p)->hash() || (*again)->CanonicalBytes() != (**p)->CanonicalBytes()) {
      std::abort();
    }
    casenode::policy::Request r;
    r.requester_org = "school";
    r.requester_role = "school";
    r.action = "case.read";
    r.purpose = "casusoverleg";
    r.categories = {"zorg", "afspraken"};
    r.legal_basis = "consent";
    r.case_member = r.case_active = true;
    r.subject = casenode::policy::kThisChild;
    r.consents = {{"r1", casenode::policy::ConsentStatus::kValid, {"casusoverleg"}, {"zorg"}, {"school"}, {},
                   casenode::policy::kThisChild}};
    const auto a = (**p)->Evaluate(r);
    const auto b = (**p)->Evaluate(r);
    if (!(a == b)) std::abort();  // decisions must be deterministic
    (void)(**p)->Explain(r);
  }
  return 0;
}
