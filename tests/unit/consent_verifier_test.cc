// ConsentVerifier with an injected clock and a scripted issuer: caching,
// stale answers and their bound, and the cache key.
#include <catch2/catch.hpp>

#include "keys/manifest.h"
#include "node/consent/consent_book.h"
#include "node/consent/verifier.h"
#include "tests/support/stores.h"

using namespace casenode;
using namespace casenode::consent;
using casenode::policy::ConsentStatus;
using State = v1::ConsentStatusResponse::State;

namespace {

struct Fixture : testing::Stores {
  keys::SigningKey self_key = keys::SigningKey::Generate();
  keys::SigningKey issuer_key = keys::SigningKey::Generate();
  std::unique_ptr<ConsentBook> book;
  keys::Manifest manifest;
  // The scripted issuer: its answer, or unreachable; counts the questions.
  absl::StatusOr<State> answer = State::ConsentStatusResponse_State_STATE_ACTIVE;
  int asked = 0;
  std::unique_ptr<ConsentVerifier> verifier;
  policy::ConsentSettings settings;

  Fixture() {
    book = std::make_unique<ConsentBook>(*store, *key_store, self_key, "gemeente", clock());
    keys::ManifestNode issuer;
    issuer.org = "jeugdhulp";
    issuer.role = v1::ROLE_JEUGDHULP;
    issuer.signing_key = issuer_key.public_key();
    manifest.nodes.push_back(issuer);
    verifier = std::make_unique<ConsentVerifier>(
        *book, "gemeente",
        [this](const keys::ManifestNode&, const std::string&, Deadline) {
          ++asked;
          return answer;
        },
        [this] { return now; });
    settings.status_cache_seconds = 60;
  }

  ConsentReceipt Receipt() const {
    ConsentReceipt r;
    r.receipt_id = "00112233445566778899aabbccddeeff";
    r.issuer_org = "jeugdhulp";
    r.subject.fill(7);
    r.consenters = {"child"};
    r.child_age_years = 16;
    r.purposes = {"casusoverleg"};
    r.categories = {"zorg"};
    r.recipient_roles = {"gemeente"};
    r.valid_from = now - std::chrono::days(1);
    r.valid_until = now + std::chrono::days(365);
    r.recorded_by = "staff-1";
    Sign(r, issuer_key);
    return r;
  }

  ConsentStatus Verify(const ConsentReceipt& r) {
    return verifier->Verify(r, manifest, settings, std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
};

}  // namespace

TEST_CASE("an issuer's answer is reused for exactly the policy's cache time", "[consent][verifier]") {
  Fixture f;
  const ConsentReceipt r = f.Receipt();
  REQUIRE(f.Verify(r) == ConsentStatus::kValid);
  REQUIRE(f.asked == 1);
  f.answer = State::ConsentStatusResponse_State_STATE_REVOKED;
  f.now += std::chrono::seconds(59);
  REQUIRE(f.Verify(r) == ConsentStatus::kValid);  // cached
  REQUIRE(f.asked == 1);
  f.now += std::chrono::seconds(1);
  REQUIRE(f.Verify(r) == ConsentStatus::kRevoked);  // asked again at 60 s
  REQUIRE(f.asked == 2);
}

TEST_CASE("an unreachable issuer fails closed unless stale answers are allowed, and then only while fresh enough",
          "[consent][verifier]") {
  Fixture f;
  const ConsentReceipt r = f.Receipt();
  REQUIRE(f.Verify(r) == ConsentStatus::kValid);
  f.answer = absl::UnavailableError("down");
  f.now += std::chrono::seconds(61);
  REQUIRE(f.Verify(r) == ConsentStatus::kIssuerUnreachable);  // default: deny
  f.settings.allow_stale = true;
  f.settings.max_stale_seconds = 600;
  REQUIRE(f.Verify(r) == ConsentStatus::kValid);  // 61 s old
  f.now += std::chrono::seconds(600 - 61);
  REQUIRE(f.Verify(r) == ConsentStatus::kValid);  // exactly the bound
  f.now += std::chrono::seconds(1);
  REQUIRE(f.Verify(r) == ConsentStatus::kIssuerUnreachable);  // too old to stand in
}

TEST_CASE("a cached answer belongs to one receipt: the same id with another signature asks again",
          "[consent][verifier]") {
  Fixture f;
  const ConsentReceipt original = f.Receipt();
  REQUIRE(f.Verify(original) == ConsentStatus::kValid);
  REQUIRE(f.asked == 1);
  // The issuer signs a second receipt that reuses the id (a bug or a
  // malicious issuer): it must not inherit the first one's cached answer.
  ConsentReceipt other = original;
  other.purposes = {"casusoverleg", "vroegsignalering"};
  Sign(other, f.issuer_key);
  f.answer = State::ConsentStatusResponse_State_STATE_REVOKED;
  REQUIRE(f.Verify(other) == ConsentStatus::kRevoked);
  REQUIRE(f.asked == 2);
}
