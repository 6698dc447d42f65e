#include <catch2/catch.hpp>

#include "base/encoding.h"
#include "base/sha256.h"
#include "node/consent/receipt.h"

using namespace casenode;
using namespace casenode::consent;
using casenode::policy::ConsentStatus;

namespace {

const SystemTime kFrom = *ParseRfc3339("2026-11-28T14:00:00Z", "t");

ConsentReceipt Sample() {
  ConsentReceipt r;
  r.receipt_id = "00112233445566778899aabbccddeeff";
  r.issuer_org = "jeugdhulp";
  for (uint8_t i = 0; i < 32; ++i) r.subject[i] = i;
  r.consenters = {"parent", "child"};
  r.child_age_years = 13;
  r.purposes = {"casusoverleg"};
  r.categories = {"zorg", "afspraken"};
  r.recipient_roles = {"gemeente", "jeugdhulp"};
  r.valid_from = kFrom;
  r.valid_until = kFrom + std::chrono::days(365);
  r.recorded_by = "staff-7f3a";
  r.evidence_ref = "DMS-2026-0042";
  r.age_rule_until = *ParseRfc3339("2029-03-01T00:00:00Z", "t");  // the 16th birthday
  return r;
}

}  // namespace

TEST_CASE("the consent receipt encoding is pinned", "[consent][golden]") {
  // Cross-checked with an independent encoder (Python, struct + hashlib).
  const std::string bytes = CanonicalBytes(Sample());
  REQUIRE(bytes.size() == 280);
  REQUIRE(Sha256Hex(bytes) == "3d597bc91cbbcc2684f116cb80327a4654d410abc057645ab805853c88a1ca3f");
}

TEST_CASE("the policy request encoding is pinned", "[policy][golden]") {
  policy::Request q;
  q.requester_org = q.requester_role = "school";
  q.action = "signal.lookup";
  q.purpose = "vroegsignalering";
  q.categories = {"signaal"};
  q.legal_basis = "public_task";
  q.consents = {{"r1", ConsentStatus::kValid, {"vroegsignalering"}, {"signaal"}, {"school"}, {}, ""}};
  q.case_active = true;
  // Cross-checked with an independent encoder (Python, struct + hashlib).
  REQUIRE(policy::RequestDigest(q) == "8726203401c03c4a0e07fdaaa833e30c6be2e3f6b01ab5df3aeee2d78476f63c");
}

TEST_CASE("a receipt signed by its issuer verifies as valid", "[consent]") {
  const keys::SigningKey issuer = keys::SigningKey::Generate();
  ConsentReceipt r = Sample();
  REQUIRE(Validate(r).ok());
  Sign(r, issuer);
  REQUIRE(Verify(r, issuer.public_key(), kFrom + std::chrono::days(1)) == ConsentStatus::kValid);
  const policy::ConsentFact f = ToFact(r, ConsentStatus::kValid, "handle");
  REQUIRE(f.receipt_id == r.receipt_id);
  REQUIRE(f.recipient_roles == r.recipient_roles);
}

TEST_CASE("a receipt with any field changed after signing is forged", "[consent]") {
  const keys::SigningKey issuer = keys::SigningKey::Generate();
  ConsentReceipt r = Sample();
  Sign(r, issuer);
  const SystemTime now = kFrom + std::chrono::days(1);
  ConsentReceipt widened = r;
  widened.categories.push_back("justitieel");
  REQUIRE(Verify(widened, issuer.public_key(), now) == ConsentStatus::kForged);
  ConsentReceipt longer = r;
  longer.valid_until += std::chrono::days(1);
  REQUIRE(Verify(longer, issuer.public_key(), now) == ConsentStatus::kForged);
  ConsentReceipt other_child = r;
  other_child.subject[0] ^= 1;
  REQUIRE(Verify(other_child, issuer.public_key(), now) == ConsentStatus::kForged);
  REQUIRE(Verify(r, keys::SigningKey::Generate().public_key(), now) == ConsentStatus::kForged);
}

TEST_CASE("a receipt outside its validity window is expired", "[consent]") {
  const keys::SigningKey issuer = keys::SigningKey::Generate();
  ConsentReceipt r = Sample();
  Sign(r, issuer);
  REQUIRE(Verify(r, issuer.public_key(), kFrom - std::chrono::seconds(1)) == ConsentStatus::kExpired);
  REQUIRE(Verify(r, issuer.public_key(), r.valid_until) == ConsentStatus::kExpired);
  REQUIRE(Verify(r, issuer.public_key(), r.valid_until - std::chrono::seconds(1)) == ConsentStatus::kValid);
}

TEST_CASE("a receipt does not stand past the day the child reaches the next age boundary", "[consent]") {
  // Recorded at 11 with a parent's consent, valid for six years: at 12 the
  // child must consent too, so the receipt stops on the 12th birthday.
  const keys::SigningKey issuer = keys::SigningKey::Generate();
  const auto birth = *ParseBirthDate("2015-06-10");
  const AgeFacts at_recording = AgeAt(birth, kFrom);
  REQUIRE(at_recording.age_years == 11);
  REQUIRE(at_recording.rule_until == *ParseRfc3339("2027-06-10T00:00:00Z", "t"));
  ConsentReceipt r = Sample();
  r.consenters = {"parent"};
  r.child_age_years = at_recording.age_years;
  r.age_rule_until = at_recording.rule_until;
  r.valid_until = kFrom + std::chrono::days(6 * 365);
  Sign(r, issuer);
  REQUIRE(Verify(r, issuer.public_key(), r.age_rule_until - std::chrono::seconds(1)) == ConsentStatus::kValid);
  REQUIRE(Verify(r, issuer.public_key(), r.age_rule_until) == ConsentStatus::kAgeRule);
  REQUIRE(Verify(r, issuer.public_key(), kFrom + std::chrono::days(5 * 365)) == ConsentStatus::kAgeRule);
  // Moving the boundary later breaks the signature.
  ConsentReceipt later = r;
  later.age_rule_until += std::chrono::days(365 * 4);
  REQUIRE(Verify(later, issuer.public_key(), r.age_rule_until) == ConsentStatus::kForged);
}

TEST_CASE("the age and the next boundary follow from the date of birth", "[consent]") {
  auto at = [](const char* t) { return *ParseRfc3339(t, "t"); };
  const auto birth = *ParseBirthDate("2010-03-15");
  CHECK(AgeAt(birth, at("2022-03-14T23:59:59Z")).age_years == 11);
  CHECK(AgeAt(birth, at("2022-03-14T23:59:59Z")).rule_until == at("2022-03-15T00:00:00Z"));
  CHECK(AgeAt(birth, at("2022-03-15T00:00:00Z")).age_years == 12);
  CHECK(AgeAt(birth, at("2022-03-15T00:00:00Z")).rule_until == at("2026-03-15T00:00:00Z"));
  CHECK(AgeAt(birth, at("2026-03-15T00:00:00Z")).age_years == 16);
  CHECK(AgeAt(birth, at("2026-03-15T00:00:00Z")).rule_until.time_since_epoch().count() == 0);
  // A leap-day birthday counts on 28 February in other years (never later than the rule changes).
  const auto leap = *ParseBirthDate("2012-02-29");
  CHECK(AgeAt(leap, at("2023-02-27T23:59:59Z")).age_years == 10);
  CHECK(AgeAt(leap, at("2023-02-28T00:00:00Z")).age_years == 11);
  CHECK(AgeAt(leap, at("2023-02-28T00:00:00Z")).rule_until == at("2024-02-29T00:00:00Z"));
  CHECK(AgeAt(leap, at("2025-01-01T00:00:00Z")).rule_until == at("2028-02-29T00:00:00Z"));
}

TEST_CASE("a date of birth is checked without echoing it", "[consent]") {
  for (const char* bad : {"2015-13-01", "2015-02-30", "15-06-10", "2015/06/10", "", "1850-01-01", "2015-06-1x"}) {
    auto parsed = ParseBirthDate(bad);
    REQUIRE_FALSE(parsed.ok());
    REQUIRE(parsed.status().message().find("birth_date") != std::string_view::npos);
    if (*bad != '\0') REQUIRE(parsed.status().message().find(bad) == std::string_view::npos);
  }
}

TEST_CASE("the age rule decides who must consent", "[consent]") {
  using V = std::vector<std::string>;
  // Under 12: a parent or guardian; the child alone is not enough.
  CHECK(AgeRuleSatisfied(11, V{"parent"}));
  CHECK(AgeRuleSatisfied(0, V{"guardian"}));
  CHECK_FALSE(AgeRuleSatisfied(11, V{"child"}));
  // 12 to 15: the child and a parent or guardian.
  CHECK(AgeRuleSatisfied(12, V{"child", "parent"}));
  CHECK(AgeRuleSatisfied(15, V{"guardian", "child"}));
  CHECK_FALSE(AgeRuleSatisfied(12, V{"parent"}));
  CHECK_FALSE(AgeRuleSatisfied(15, V{"child"}));
  // 16 and over: the child.
  CHECK(AgeRuleSatisfied(16, V{"child"}));
  CHECK_FALSE(AgeRuleSatisfied(16, V{"parent"}));

  const keys::SigningKey issuer = keys::SigningKey::Generate();
  ConsentReceipt r = Sample();
  r.consenters = {"parent"};  // 13 years old: the child must consent too
  Sign(r, issuer);
  REQUIRE(Verify(r, issuer.public_key(), kFrom + std::chrono::days(1)) == ConsentStatus::kAgeRule);
}

TEST_CASE("an incomplete receipt is refused naming the field", "[consent]") {
  auto error = [](auto mutate) {
    ConsentReceipt r = Sample();
    mutate(r);
    return std::string(Validate(r).message());
  };
  CHECK(error([](ConsentReceipt& r) { r.receipt_id = "x"; }).find("receipt_id") != std::string::npos);
  CHECK(error([](ConsentReceipt& r) { r.consenters = {"neighbour"}; }).find("consenters") != std::string::npos);
  CHECK(error([](ConsentReceipt& r) { r.purposes.clear(); }).find("purposes") != std::string::npos);
  CHECK(error([](ConsentReceipt& r) { r.recipient_roles.clear(); }).find("recipients") != std::string::npos);
  CHECK(error([](ConsentReceipt& r) { r.valid_until = r.valid_from; }).find("valid_until") != std::string::npos);
  CHECK(NewReceiptId().size() == 32);
  CHECK(NewReceiptId() != NewReceiptId());
}
