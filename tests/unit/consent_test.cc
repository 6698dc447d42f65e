#include <openssl/evp.h>

#include <catch2/catch.hpp>

#include "base/encoding.h"
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
  return r;
}

std::string Sha256Hex(const std::string& bytes) {
  uint8_t md[32];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return HexEncode({md, len});
}

}  // namespace

TEST_CASE("the consent receipt encoding is pinned", "[consent][golden]") {
  // Cross-checked with an independent encoder (Python, struct + hashlib).
  const std::string bytes = CanonicalBytes(Sample());
  REQUIRE(bytes.size() == 272);
  REQUIRE(Sha256Hex(bytes) == "67a8ac5adbfb78b686b92c62779110f6048050dc40d3905dbdcc0b8a41df256e");
}

TEST_CASE("the policy request encoding is pinned", "[policy][golden]") {
  policy::Request q;
  q.requester_org = q.requester_role = "school";
  q.action = "signal.lookup";
  q.purpose = "vroegsignalering";
  q.categories = {"signaal"};
  q.legal_basis = "public_task";
  q.consents = {{"r1", ConsentStatus::kValid, {"vroegsignalering"}, {"signaal"}, {"school"}, {}}};
  q.case_active = true;
  REQUIRE(policy::RequestDigest(q) == "b07c254932cd3cce55428d0a02d38f42fe3c779c15b37a3a0547dd3beb8602de");
}

TEST_CASE("a receipt signed by its issuer verifies as valid", "[consent]") {
  const keys::SigningKey issuer = keys::SigningKey::Generate();
  ConsentReceipt r = Sample();
  REQUIRE(Validate(r).ok());
  Sign(r, issuer);
  REQUIRE(Verify(r, issuer.public_key(), kFrom + std::chrono::days(1)) == ConsentStatus::kValid);
  const policy::ConsentFact f = ToFact(r, ConsentStatus::kValid);
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
