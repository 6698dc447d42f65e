// Reason codes: one table names each reason and fixes its canonical code.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "base/reason.h"

using casenode::Reason;

TEST_CASE("every reason has a unique name that parses back to it", "[reason]") {
  std::set<std::string> names;
  for (int v = 1; v < 1000; ++v) {
    const auto r = static_cast<Reason>(v);
    const std::string_view name = casenode::ReasonName(r);
    if (name.empty()) continue;
    REQUIRE(names.insert(std::string(name)).second);
    REQUIRE(casenode::ParseReason(name) == r);
  }
  REQUIRE(names.size() > 30);
  REQUIRE_FALSE(casenode::ParseReason("NOT_A_REASON").has_value());
  REQUIRE(casenode::ReasonName(Reason::kNone).empty());
}

TEST_CASE("an error takes its canonical code from its reason", "[reason]") {
  REQUIRE(casenode::Error(Reason::kShredded, "x").code() == absl::StatusCode::kNotFound);
  REQUIRE(casenode::Error(Reason::kRateLimited, "x").code() == absl::StatusCode::kResourceExhausted);
  REQUIRE(casenode::Error(Reason::kUnknownPurpose, "x").code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(casenode::Error(Reason::kConsentRevoked, "x").code() == absl::StatusCode::kPermissionDenied);
  REQUIRE(casenode::ReasonOf(casenode::Error(Reason::kWrongMasterKey, "x")) == Reason::kWrongMasterKey);
  REQUIRE(casenode::ReasonOf(absl::NotFoundError("x")) == Reason::kNone);
}

TEST_CASE("annotating a status keeps its code and reason", "[reason]") {
  const absl::Status s = casenode::Annotate("keys.master_key", casenode::Error(Reason::kWrongMasterKey, "no"));
  REQUIRE(s.code() == absl::StatusCode::kPermissionDenied);
  REQUIRE(s.message() == "keys.master_key: no");
  REQUIRE(casenode::ReasonOf(s) == Reason::kWrongMasterKey);
}
