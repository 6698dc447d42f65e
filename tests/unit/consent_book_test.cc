// ConsentBook with an injected clock: what it derives from the date of birth,
// what it refuses at recording, and when revocations happen.
#include <catch2/catch.hpp>

#include "base/strings.h"
#include "node/consent/consent_book.h"
#include "tests/support/stores.h"

using namespace casenode;
using namespace casenode::consent;

namespace {

struct Book : testing::Stores {
  keys::SigningKey signer = keys::SigningKey::Generate();
  std::unique_ptr<ConsentBook> book = std::make_unique<ConsentBook>(*store, *key_store, signer, "jeugdhulp", clock());
  ConsentReceipt Draft(std::vector<std::string> consenters, SystemTime from) const {
    ConsentReceipt r;
    r.subject.fill(9);
    r.consenters = std::move(consenters);
    r.purposes = {"casusoverleg"};
    r.categories = {"zorg"};
    r.recipient_roles = {"gemeente"};
    r.valid_from = from;
    r.valid_until = from + std::chrono::days(6 * 365);
    r.recorded_by = "staff-7f3a";
    return r;
  }
  // What the book asked to log, in order.
  std::vector<std::string> logged;
  absl::Status log_result = absl::OkStatus();
  ConsentBook::Journal Log(std::string what) {
    return [this, what](const v1::ConsentEntry&) {
      if (log_result.ok()) logged.push_back(what);
      return log_result;
    };
  }
};

std::string Message(const absl::StatusOr<v1::ConsentEntry>& e) { return std::string(e.status().message()); }

}  // namespace

TEST_CASE("recording derives the age and signs in the next boundary, keeping no date of birth", "[consent]") {
  Book b;
  auto entry = b.book->Record(b.Draft({"parent"}, b.now), *ParseBirthDate("2015-06-10"), b.Log("recorded"));
  REQUIRE(entry.ok());
  REQUIRE(entry->receipt().child_age_years() == 11);
  REQUIRE(entry->receipt().age_rule_until_unix() == ParseRfc3339("2027-06-10T00:00:00Z", "t")->time_since_epoch().count());
  const std::string stored = entry->SerializeAsString();
  REQUIRE(stored.find("2015") == std::string::npos);
  auto fact = FromProto(entry->receipt());
  REQUIRE(fact.ok());
  REQUIRE(Verify(*fact, b.signer.public_key(), b.now) == policy::ConsentStatus::kValid);
}

TEST_CASE("a receipt that could never stand is refused when it is made", "[consent]") {
  Book b;
  // 13 years old: a parent alone is not enough.
  auto parent_only = b.book->Record(b.Draft({"parent"}, b.now), *ParseBirthDate("2013-05-01"), b.Log("recorded"));
  REQUIRE(parent_only.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(Message(parent_only).find("consenters: at age 13") == 0);
  // Given at 11 (valid_from in the past), but the child turned 12 since.
  auto outgrown = b.book->Record(b.Draft({"parent"}, b.now - std::chrono::days(400)), *ParseBirthDate("2014-06-10"), b.Log("recorded"));
  REQUIRE(Message(outgrown).find("valid_from: the child has since reached an age") == 0);
  // Consent dated before the child was born.
  auto unborn = b.book->Record(b.Draft({"parent"}, b.now), *ParseBirthDate("2027-01-01"), b.Log("recorded"));
  REQUIRE(Message(unborn).find("valid_from: before the child's date of birth") == 0);
  REQUIRE(b.book->List(b.Draft({}, b.now).subject)->empty());  // nothing was stored
}

TEST_CASE("a revocation is stamped with the injected time and the first one stands", "[consent]") {
  Book b;
  auto entry = b.book->Record(b.Draft({"child"}, b.now), *ParseBirthDate("2008-01-01"), b.Log("recorded"));
  REQUIRE(entry.ok());
  const std::string id = entry->receipt().receipt_id();
  b.now += std::chrono::hours(5);
  auto revoked = b.book->Revoke(id, "staff-1", b.Log("revoked"));
  REQUIRE(revoked.ok());
  REQUIRE(revoked->revoked_at_unix() == b.now.time_since_epoch().count());
  b.now += std::chrono::hours(1);
  REQUIRE(b.book->Revoke(id, "staff-2", b.Log("revoked"))->revoked_by() == "staff-1");
}

TEST_CASE("every change and every answer is logged, and an answer whose entry fails is not given", "[consent]") {
  Book b;
  auto entry = b.book->Record(b.Draft({"child"}, b.now), *ParseBirthDate("2008-01-01"), b.Log("recorded"));
  REQUIRE(entry.ok());
  const std::string id = entry->receipt().receipt_id();
  using State = v1::ConsentState;
  auto answer = [&](const std::string& receipt) {
    return b.book->Answer(receipt, [&](State state, const v1::ConsentEntry* e) {
      if (b.log_result.ok()) b.logged.push_back(StrCat("answered ", v1::ConsentState_Name(state), e == nullptr ? " (none)" : ""));
      return b.log_result;
    });
  };
  REQUIRE(*answer(id) == v1::CONSENT_ACTIVE);
  REQUIRE(*answer("ffeeddccbbaa99887766554433221100") == v1::CONSENT_UNKNOWN);
  REQUIRE(b.book->Revoke(id, "staff-1", b.Log("revoked")).ok());
  REQUIRE(*answer(id) == v1::CONSENT_REVOKED);
  REQUIRE(b.book->Revoke(id, "staff-2", b.Log("revoked")).ok());  // logged again
  CHECK(b.logged == std::vector<std::string>{"recorded", "answered CONSENT_ACTIVE", "answered CONSENT_UNKNOWN (none)", "revoked",
                                             "answered CONSENT_REVOKED", "revoked"});
  b.log_result = absl::UnavailableError("log down");
  REQUIRE(answer(id).status().code() == absl::StatusCode::kUnavailable);
  REQUIRE(b.book->Revoke(id, "staff-3", b.Log("revoked")).status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("a restore that lost a revocation logs the hold before it takes effect, and at every start under it",
          "[consent]") {
  Book b;
  auto entry = b.book->Record(b.Draft({"child"}, b.now), *ParseBirthDate("2008-01-01"), b.Log("recorded"));
  REQUIRE(entry.ok());
  const std::string id = entry->receipt().receipt_id();
  std::vector<uint64_t> holds;
  auto log_hold = [&](const v1::ConsentHold& h) {
    holds.push_back(h.generation());
    return b.log_result;
  };
  REQUIRE(b.book->LoadHold(log_hold).ok());
  REQUIRE(holds.empty());  // nothing lost
  // The key store counts a revocation the records do not have (as after a restore).
  REQUIRE(b.key_store->RaiseCounter("consent.revocations", 1).ok());
  b.log_result = absl::UnavailableError("log down");
  REQUIRE_FALSE(b.book->LoadHold(log_hold).ok());  // not logged: no hold, and no start
  REQUIRE(*b.book->State(id) == v1::CONSENT_ACTIVE);
  b.log_result = absl::OkStatus();
  REQUIRE(b.book->LoadHold(log_hold).ok());
  REQUIRE(*b.book->State(id) == v1::CONSENT_UNCONFIRMED);
  REQUIRE(b.book->LoadHold(log_hold).ok());  // held once: the next start logs it, raises nothing
  REQUIRE(*b.book->State(id) == v1::CONSENT_UNCONFIRMED);
  CHECK(holds == std::vector<uint64_t>{1, 1, 1});  // the failed attempt, the raise, the next start
}

TEST_CASE("a receipt whose entry cannot be logged is not issued", "[consent]") {
  Book b;
  b.log_result = absl::UnavailableError("log down");
  auto entry = b.book->Record(b.Draft({"child"}, b.now), *ParseBirthDate("2008-01-01"), b.Log("recorded"));
  REQUIRE(entry.status().code() == absl::StatusCode::kUnavailable);
  REQUIRE(b.book->List(b.Draft({}, b.now).subject)->empty());  // nothing left behind to answer for
}
