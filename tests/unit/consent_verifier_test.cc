// ConsentVerifier with an injected clock and a scripted issuer: caching,
// stale answers and their bound, and the cache key.
#include <catch2/catch.hpp>

#include "network/manifest.h"
#include "node/consent/consent_book.h"
#include "node/consent/verifier.h"
#include "tests/support/stores.h"

using namespace casenode;
using namespace casenode::consent;
using casenode::policy::ConsentStatus;
using State = v1::ConsentState;

namespace {

struct Fixture : testing::Stores {
  keys::SigningKey self_key = keys::SigningKey::Generate();
  keys::SigningKey issuer_key = keys::SigningKey::Generate();
  std::unique_ptr<ConsentBook> book;
  network::Manifest manifest;
  // The scripted issuer: its answer, or unreachable; counts the questions.
  absl::StatusOr<State> answer = v1::CONSENT_ACTIVE;
  int asked = 0;
  std::unique_ptr<ConsentVerifier> verifier;
  policy::ConsentSettings settings;

  Fixture() {
    book = std::make_unique<ConsentBook>(*store, *key_store, self_key, "gemeente", clock());
    network::ManifestNode issuer;
    issuer.org = "jeugdhulp";
    issuer.role = v1::ROLE_JEUGDHULP;
    issuer.signing_key = issuer_key.public_key();
    manifest.nodes.push_back(issuer);
    verifier = std::make_unique<ConsentVerifier>(
        *book, "gemeente",
        [this](const network::ManifestNode& asked_issuer, const std::string& id, Deadline) -> absl::StatusOr<v1::ConsentCheck> {
          ++asked;
          if (!answer.ok()) return answer.status();
          v1::ConsentCheck check;
          check.set_receipt_id(id);
          check.set_issuer_org(asked_issuer.org);
          check.set_state(*answer);
          check.set_trace_id("trace-" + std::to_string(asked));
          return check;
        },
        [](const std::string&, const std::string&, const std::string&) -> absl::StatusOr<v1::ConsentCheck> {
          return absl::InternalError("no own receipts here");
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

  Verified Check(const ConsentReceipt& r) {
    return verifier->Verify(r, manifest, settings, std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  ConsentStatus Verify(const ConsentReceipt& r) { return Check(r).status; }
};

}  // namespace

TEST_CASE("an issuer's answer is reused for exactly the policy's cache time", "[consent][verifier]") {
  Fixture f;
  const ConsentReceipt r = f.Receipt();
  REQUIRE(f.Verify(r) == ConsentStatus::kValid);
  REQUIRE(f.asked == 1);
  f.answer = v1::CONSENT_REVOKED;
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
  f.answer = v1::CONSENT_REVOKED;
  REQUIRE(f.Verify(other) == ConsentStatus::kRevoked);
  REQUIRE(f.asked == 2);
}

TEST_CASE("a verification names the answer it rests on, with the call that gave it and its age when used",
          "[consent][verifier]") {
  Fixture f;
  const ConsentReceipt r = f.Receipt();
  const Verified first = f.Check(r);
  REQUIRE(first.status == ConsentStatus::kValid);
  REQUIRE(first.check.has_value());
  CHECK(first.check->receipt_id() == r.receipt_id);
  CHECK(first.check->issuer_org() == "jeugdhulp");
  CHECK(first.check->state() == v1::CONSENT_ACTIVE);
  CHECK(first.check->trace_id() == "trace-1");
  CHECK(first.check->age_ms() == 0);
  f.now += std::chrono::seconds(42);
  const Verified cached = f.Check(r);
  REQUIRE(cached.check.has_value());
  CHECK(cached.check->trace_id() == "trace-1");  // the answer given then
  CHECK(cached.check->age_ms() == 42000);
  CHECK(cached.check->answered_at_unix_ms() == first.check->answered_at_unix_ms());
  // A failure rests on no answer; an expired receipt never asks.
  f.answer = absl::UnavailableError("down");
  f.now += std::chrono::seconds(60);
  const Verified down = f.Check(r);
  CHECK(down.status == ConsentStatus::kIssuerUnreachable);
  CHECK_FALSE(down.check.has_value());
}

TEST_CASE("a clock stepped back reuses no answer from its future", "[consent][verifier]") {
  Fixture f;
  const ConsentReceipt r = f.Receipt();
  REQUIRE(f.Verify(r) == ConsentStatus::kValid);
  f.now -= std::chrono::hours(1);  // NTP stepped the clock back
  const Verified again = f.Check(r);
  CHECK(f.asked == 2);  // asked again, not reused for another hour
  REQUIRE(again.check.has_value());
  CHECK(again.check->age_ms() == 0);
  f.answer = absl::UnavailableError("down");
  f.settings.allow_stale = true;
  f.now += std::chrono::seconds(61);
  REQUIRE(f.Verify(r) == ConsentStatus::kValid);  // the answer asked after the step, 61 s old
  f.now -= std::chrono::hours(2);
  REQUIRE(f.Verify(r) == ConsentStatus::kIssuerUnreachable);  // no stale answer from the future either
}
