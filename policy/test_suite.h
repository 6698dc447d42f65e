// Policy tests, as `opa test` does for Rego: files of cases, each a request
// (with its consent state) and the expected decision and rule.
//
// Test file format (TOML), one or more cases per file:
//   [[test]]
//   name = "school may ask whether a signal exists"
//   expect = { effect = "allow", rule = "signaal-opvragen", reason = "ALLOWED" }   # reason optional
//   [test.request]
//   subject = "child-a"   # optional, default "this-child"; "" for a request about no child;
//                         # a receipt covers only a request about its own child
//   org = "school"  role = "school"  action = "signal.lookup"  purpose = "vroegsignalering"
//   categories = ["signaal"]  legal_basis = "public_task"
//   case_member = false  case_active = false  within_retention = true
//   [[test.request.consents]]
//   id = "r1"  status = "valid"  subject = "child-b" (default: the request's)  purposes = [...]  categories = [...]
//   recipient_roles = [...]  recipient_orgs = [...]
//
// The request object has the same fields as the JSON that
// `casectl policy explain REQUEST.json` reads.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "policy/policy.h"

namespace casenode::policy {

// Strict: unknown keys and wrong types are InvalidArgument naming the field.
[[nodiscard]] absl::StatusOr<Request> RequestFromJson(const nlohmann::json& j);
nlohmann::ordered_json DecisionToJson(const Decision& d);

struct PolicyTest {
  std::string name;
  std::string source;  // file
  Request request;
  std::string effect;  // "allow" | "deny"
  std::string rule;
  std::string reason;  // "" = not checked
};

// Reads every *.toml file in `dir` (sorted).
[[nodiscard]] absl::StatusOr<std::vector<PolicyTest>> LoadPolicyTests(const std::string& dir);

struct PolicyTestResult {
  const PolicyTest* test = nullptr;
  bool passed = false;
  Decision decision;
};

std::vector<PolicyTestResult> RunPolicyTests(const Policy& policy, const std::vector<PolicyTest>& tests);

}  // namespace casenode::policy
