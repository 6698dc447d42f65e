#include "policy/test_suite.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "base/file.h"
#include "base/status.h"
#include "base/strings.h"

namespace casenode::policy {
namespace {

using nlohmann::json;

absl::Status Bad(std::string_view field, std::string_view expected) {
  return absl::InvalidArgumentError(StrCat("request.", field, ": expected ", expected));
}

absl::Status GetString(const json& j, const char* key, std::string* out, bool required) {
  auto it = j.find(key);
  if (it == j.end()) return required ? Bad(key, "a string (required)") : absl::OkStatus();
  if (!it->is_string()) return Bad(key, "a string");
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status GetList(const json& j, const char* key, std::vector<std::string>* out, std::string_view where = "") {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_array()) return Bad(StrCat(where, key), "a list of strings");
  for (const auto& v : *it) {
    if (!v.is_string()) return Bad(StrCat(where, key), "a list of strings");
    out->push_back(v.get<std::string>());
  }
  return absl::OkStatus();
}

absl::Status GetBool(const json& j, const char* key, bool* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_boolean()) return Bad(key, "true or false");
  *out = it->get<bool>();
  return absl::OkStatus();
}

absl::Status OnlyKeys(const json& j, std::string_view where, std::initializer_list<std::string_view> keys) {
  for (const auto& [k, v] : j.items()) {
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
      return absl::InvalidArgumentError(StrCat(where, ": unknown key \"", Printable(k), "\""));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Request> RequestFromJson(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("request: expected a JSON object");
  RETURN_IF_ERROR(OnlyKeys(j, "request", {"subject", "org", "role", "action", "purpose", "categories", "legal_basis",
                                          "consents", "case_member", "case_active", "within_retention"}));
  Request r;
  r.subject = kThisChild;  // about one child unless "subject" says otherwise ("" for none)
  RETURN_IF_ERROR(GetString(j, "subject", &r.subject, false));
  RETURN_IF_ERROR(GetString(j, "org", &r.requester_org, true));
  RETURN_IF_ERROR(GetString(j, "role", &r.requester_role, true));
  RETURN_IF_ERROR(GetString(j, "action", &r.action, true));
  RETURN_IF_ERROR(GetString(j, "purpose", &r.purpose, true));
  RETURN_IF_ERROR(GetList(j, "categories", &r.categories));
  RETURN_IF_ERROR(GetString(j, "legal_basis", &r.legal_basis, false));
  RETURN_IF_ERROR(GetBool(j, "case_member", &r.case_member));
  RETURN_IF_ERROR(GetBool(j, "case_active", &r.case_active));
  RETURN_IF_ERROR(GetBool(j, "within_retention", &r.within_retention));
  if (auto it = j.find("consents"); it != j.end()) {
    if (!it->is_array()) return Bad("consents", "a list of receipts");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& c = (*it)[i];
      const std::string where = StrCat("request.consents[", i, "]");
      if (!c.is_object()) return Bad(StrCat("consents[", i, "]"), "an object");
      RETURN_IF_ERROR(
          OnlyKeys(c, where, {"id", "subject", "status", "purposes", "categories", "recipient_roles", "recipient_orgs"}));
      ConsentFact f;
      RETURN_IF_ERROR(GetString(c, "id", &f.receipt_id, true));
      // A receipt is about the request's child unless it names another.
      f.subject = r.subject;
      RETURN_IF_ERROR(GetString(c, "subject", &f.subject, false));
      std::string status;
      RETURN_IF_ERROR(GetString(c, "status", &status, true));
      if (!ParseConsentStatus(status, &f.status)) {
        return Bad(StrCat("consents[", i, "].status"),
                   "valid, forged, expired, revoked, age_rule, issuer_unreachable or unknown_issuer");
      }
      const std::string prefix = StrCat("consents[", i, "].");
      RETURN_IF_ERROR(GetList(c, "purposes", &f.purposes, prefix));
      RETURN_IF_ERROR(GetList(c, "categories", &f.categories, prefix));
      RETURN_IF_ERROR(GetList(c, "recipient_roles", &f.recipient_roles, prefix));
      RETURN_IF_ERROR(GetList(c, "recipient_orgs", &f.recipient_orgs, prefix));
      r.consents.push_back(std::move(f));
    }
  }
  return r;
}

nlohmann::ordered_json DecisionToJson(const Decision& d) {
  return {{"decision", d.allowed() ? "allow" : "deny"},
          {"rule", d.rule_id},
          {"reason", ReasonName(d.reason)},
          {"policy_hash", d.policy_hash},
          {"consent_receipt_ids", d.consent_receipt_ids},
          {"request_digest", d.request_digest},
          {"rate_limit_per_minute", d.rate_limit_per_minute}};
}

absl::StatusOr<std::vector<PolicyTest>> LoadPolicyTests(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> paths;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".toml") paths.push_back(e.path().string());
  }
  if (ec) return absl::NotFoundError(StrCat("policy tests: cannot read ", dir, ": ", ec.message()));
  std::sort(paths.begin(), paths.end());
  std::vector<PolicyTest> tests;
  for (const auto& path : paths) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    toml::table doc;
    try {
      doc = toml::parse(text, path);
    } catch (const toml::parse_error& e) {
      return absl::InvalidArgumentError(StrCat(path, ":", e.source().begin.line, ": ", std::string_view(e.description())));
    }
    const toml::array* cases = doc["test"].as_array();
    if (cases == nullptr) return absl::InvalidArgumentError(StrCat(path, ": expected [[test]] tables"));
    for (const toml::node& n : *cases) {
      const toml::table* t = n.as_table();
      const auto line = n.source().begin.line;
      auto fail = [&](std::string_view problem) {
        return absl::InvalidArgumentError(StrCat(path, ":", line, ": ", problem));
      };
      if (t == nullptr) return fail("expected a [[test]] table");
      // toml++ writes JSON; one request parser serves test files and explain.
      std::ostringstream os;
      os << toml::json_formatter(*t);
      const json j = json::parse(os.str(), nullptr, false);
      if (j.is_discarded()) return fail("cannot read the test");
      PolicyTest test;
      test.source = path;
      if (!j.contains("name") || !j["name"].is_string()) return fail("test: name: expected a string");
      test.name = j["name"];
      if (!j.contains("request")) return fail(StrCat("test \"", test.name, "\": missing [test.request]"));
      auto req = RequestFromJson(j["request"]);
      if (!req.ok()) return fail(StrCat("test \"", test.name, "\": ", std::string_view(req.status().message().data(), req.status().message().size())));
      test.request = *std::move(req);
      if (!j.contains("expect") || !j["expect"].is_object()) return fail(StrCat("test \"", test.name, "\": missing expect"));
      const json& e = j["expect"];
      test.effect = e.value("effect", "");
      test.rule = e.value("rule", "");
      test.reason = e.value("reason", "");
      if (!test.reason.empty() && !ParseReason(test.reason)) {
        return fail(StrCat("test \"", test.name, "\": expect.reason: \"", test.reason, "\" is not a reason code"));
      }
      if (test.effect != "allow" && test.effect != "deny") {
        return fail(StrCat("test \"", test.name, "\": expect.effect: expected \"allow\" or \"deny\""));
      }
      if (test.rule.empty()) return fail(StrCat("test \"", test.name, "\": expect.rule: expected the deciding rule id"));
      tests.push_back(std::move(test));
    }
  }
  return tests;
}

std::vector<PolicyTestResult> RunPolicyTests(const Policy& policy, const std::vector<PolicyTest>& tests) {
  std::vector<PolicyTestResult> results;
  for (const PolicyTest& t : tests) {
    PolicyTestResult r;
    r.test = &t;
    r.decision = policy.Evaluate(t.request);
    r.passed = (r.decision.allowed() ? "allow" : "deny") == t.effect && r.decision.rule_id == t.rule &&
               (t.reason.empty() || ReasonName(r.decision.reason) == t.reason);
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace casenode::policy
