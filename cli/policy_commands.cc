// casectl policy test DIR | explain REQUEST.json: offline tools for policy
// authors (like `opa test` and `opa eval --explain`). They read policy files,
// not a node.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/file.h"
#include "cli/commands.h"
#include "policy/policy.h"
#include "policy/test_suite.h"

namespace casenode::cli {
namespace {

struct PolicyArgs {
  std::string network_dir;
  std::vector<std::string> local_files;
};

absl::StatusOr<std::shared_ptr<const policy::Policy>> LoadPolicy(const PolicyArgs& a) {
  return policy::Policy::Load(a.network_dir, a.local_files);
}

std::string Describe(std::string_view effect, std::string_view rule, std::string_view reason) {
  return std::string(effect) + " by " + std::string(rule) + (reason.empty() ? "" : " (" + std::string(reason) + ")");
}

int Test(const Globals& g, const std::string& dir, PolicyArgs args) {
  if (args.network_dir.empty()) args.network_dir = std::filesystem::path(dir).parent_path().string();
  auto pol = LoadPolicy(args);
  if (!pol.ok()) return Fail(absl::InvalidArgumentError(pol.status().message()));
  auto tests = policy::LoadPolicyTests(dir);
  if (!tests.ok()) return Fail(absl::InvalidArgumentError(tests.status().message()));
  const auto results = policy::RunPolicyTests(**pol, *tests);
  size_t passed = 0;
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& r : results) {
    passed += r.passed ? 1 : 0;
    const std::string got = Describe(r.decision.allowed() ? "allow" : "deny", r.decision.rule_id, ReasonName(r.decision.reason));
    const std::string want = Describe(r.test->effect, r.test->rule, r.test->reason);
    if (g.json()) {
      list.push_back({{"name", r.test->name}, {"file", r.test->source}, {"passed", r.passed}, {"expected", want}, {"got", got}});
    } else if (r.passed) {
      std::cout << "ok    " << r.test->name << "\n";
    } else {
      std::cout << "FAIL  " << r.test->name << " (" << r.test->source << ")\n      expected " << want << "\n      got      "
                << got << "\n";
    }
  }
  const size_t failed = results.size() - passed;
  if (g.json()) {
    PrintJson({{"policy_hash", (*pol)->hash()}, {"passed", passed}, {"failed", failed}, {"results", list}});
  } else {
    std::cout << "policy " << (*pol)->hash().substr(0, 16) << "...: " << passed << " passed, " << failed << " failed\n";
  }
  return failed == 0 ? kOk : kFailed;
}

int Explain(const Globals& g, const std::string& request_file, const PolicyArgs& args) {
  auto pol = LoadPolicy(args);
  if (!pol.ok()) return Fail(absl::InvalidArgumentError(pol.status().message()));
  auto text = ReadFile(request_file);
  if (!text.ok()) return Fail(text.status());
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Fail(absl::InvalidArgumentError(request_file + ": not valid JSON"));
  auto req = policy::RequestFromJson(j);
  if (!req.ok()) return Fail(req.status());
  const policy::Explanation e = (*pol)->Explain(*req);
  if (g.json()) {
    nlohmann::ordered_json rules = nlohmann::ordered_json::array();
    for (const auto& t : e.rules) {
      rules.push_back({{"rule", t.rule_id}, {"effect", t.effect}, {"origin", t.origin}, {"applies", t.applies},
                       {"decided", t.decided}, {"why", t.why}});
    }
    auto out = policy::DecisionToJson(e.decision);
    out["rules"] = rules;
    PrintJson(out);
  } else {
    const auto& d = e.decision;
    std::cout << (d.allowed() ? "ALLOW" : "DENY") << " by " << d.rule_id << " (" << ReasonName(d.reason) << ")\n"
              << "policy " << d.policy_hash << "\nrequest digest " << d.request_digest << "\n";
    if (!d.consent_receipt_ids.empty()) {
      std::cout << "consent receipts used:";
      for (const auto& id : d.consent_receipt_ids) std::cout << " " << id;
      std::cout << "\n";
    }
    std::cout << "\nrules:\n";
    for (const auto& t : e.rules) {
      std::cout << (t.decided ? "  => " : "     ") << t.effect << " " << t.rule_id << " (" << t.origin << "): " << t.why
                << "\n";
    }
  }
  return kOk;
}

}  // namespace

void AddPolicyCommands(CLI::App& app, const Globals& g, int* exit_code) {
  CLI::App* pol = app.add_subcommand("policy", "Purpose-binding policy: test, explain, show, reload");
  pol->require_subcommand(1);
  AddNodePolicyCommands(*pol, g, exit_code);

  static PolicyArgs test_args;
  static std::string test_dir;
  CLI::App* test = pol->add_subcommand(
      "test", "Run policy test files (request + consent state -> expected decision and rule)\n"
              "Example: casectl policy test policy/network/tests");
  test->add_option("DIR", test_dir, "Directory of *.toml test files")->required()->check(CLI::ExistingDirectory);
  test->add_option("--policy", test_args.network_dir, "Network policy directory (default: the parent of DIR)");
  test->add_option("--local", test_args.local_files, "Local rule file (deny rules only), repeatable");
  test->callback([&g, exit_code] { *exit_code = Test(g, test_dir, test_args); });

  static PolicyArgs explain_args;
  static std::string request_file;
  CLI::App* explain = pol->add_subcommand(
      "explain", "Show the decision for a request and why each rule did or did not apply\n"
                 "Example: casectl policy explain request.json --policy policy/network");
  explain->add_option("REQUEST", request_file, "Request as JSON (fields as in policy/README.md)")->required();
  explain->add_option("--policy", explain_args.network_dir, "Network policy directory")->required();
  explain->add_option("--local", explain_args.local_files, "Local rule file (deny rules only), repeatable");
  explain->callback([&g, exit_code] { *exit_code = Explain(g, request_file, explain_args); });
}

}  // namespace casenode::cli
