// The case key's seals: the byte encoding of what a text is bound to
// (golden), texts that open only in their own place, and invitations that
// open only for their own network, case and invitee.
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <functional>

#include <thread>

#include <google/protobuf/unknown_field_set.h>

#include "base/reason.h"
#include "keys/identity.h"
#include "store/key_store.h"
#include "keys/master_key.h"
#include "store/store.h"
#include "tests/support/temp_dir.h"
#include "node/cases/case_book.h"
#include "node/cases/case_seal.h"

namespace casenode {
namespace {

using namespace std::string_literals;

TEST_CASE("a case text's associated data is length-prefixed and domain-tagged (golden)", "[cases][golden]") {
  const std::string ad = node::TextAd({"action", "c1", "a2", "afspraken", "gemeente"});
  REQUIRE(ad ==
          "\0\0\0\x15"s "casenode/case-text/v1" "\0\0\0\x06"s "action" "\0\0\0\x02"s "c1" "\0\0\0\x02"s "a2"
          "\0\0\0\x09"s "afspraken" "\0\0\0\x08"s "gemeente");
  // No field can run into the next: moving a byte across a boundary changes the bytes.
  REQUIRE(node::TextAd({"action", "c1a", "2", "afspraken", "gemeente"}) != ad);
}

TEST_CASE("a case text opens only with its case key, in its own case, item, category and author", "[cases]") {
  const std::string key = node::NewCaseKey();
  const std::string other_key = node::NewCaseKey();
  REQUIRE(key.size() == 32);
  REQUIRE(key != other_key);
  const node::TextBinding b{"contribution", "case-1", "item-1", "zorg", "jeugdhulp"};
  const v1::SealedText sealed = node::SealText(key, b, "CanaryText in behandeling");
  REQUIRE(sealed.ciphertext().find("CanaryText") == std::string::npos);
  auto opened = node::OpenText(key, b, sealed);
  REQUIRE(opened.ok());
  REQUIRE(*opened == "CanaryText in behandeling");
  CHECK(ReasonOf(node::OpenText(other_key, b, sealed).status()) == Reason::kRecordCorrupt);
  for (const node::TextBinding& moved :
       {node::TextBinding{"action", "case-1", "item-1", "zorg", "jeugdhulp"},
        node::TextBinding{"contribution", "case-2", "item-1", "zorg", "jeugdhulp"},
        node::TextBinding{"contribution", "case-1", "item-2", "zorg", "jeugdhulp"},
        node::TextBinding{"contribution", "case-1", "item-1", "onderwijs", "jeugdhulp"},
        node::TextBinding{"contribution", "case-1", "item-1", "zorg", "school"}}) {
    CHECK_FALSE(node::OpenText(key, moved, sealed).ok());
  }
  v1::SealedText truncated = sealed;
  truncated.mutable_ciphertext()->resize(10);
  CHECK_FALSE(node::OpenText(key, b, truncated).ok());
}

// The convener keeps a member's text only if it opens as readers will open
// it, is plain text, and then only its nonce and ciphertext: padding in
// unknown fields would otherwise ride along, uncounted, into every read.
TEST_CASE("the convener keeps only texts that open, and nothing the sender added", "[cases]") {
  const std::string key = node::NewCaseKey();
  const node::TextBinding b{"contribution", "case-1", "item-1", "zorg", "jeugdhulp"};
  v1::SealedText sealed = node::SealText(key, b, "Gesprek met moeder gepland");
  const size_t honest = sealed.ByteSizeLong();
  sealed.GetReflection()->MutableUnknownFields(&sealed)->AddLengthDelimited(99, std::string(100000, 'p'));
  REQUIRE(sealed.ByteSizeLong() > honest + 100000);
  auto kept = node::KeptText(key, b, sealed, node::kMaxCaseText, "text");
  REQUIRE(kept.ok());
  CHECK(kept->ByteSizeLong() == honest);
  CHECK(kept->GetReflection()->GetUnknownFields(*kept).empty());
  CHECK(*node::OpenText(key, b, *kept) == "Gesprek met moeder gepland");
  // Another author's binding, random bytes, and text that is no plain text.
  for (const v1::SealedText& bad :
       {node::SealText(key, {"contribution", "case-1", "item-1", "zorg", "school"}, "x"), v1::SealedText(),
        node::SealText(key, b, "regel\x1b[2Jwissen"), node::SealText(key, b, std::string(node::kMaxCaseText + 1, 'a'))}) {
    auto refused = node::KeptText(key, b, bad, node::kMaxCaseText, "text");
    CHECK(ReasonOf(refused.status()) == Reason::kCaseTextUnsealed);
    CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(refused.status().message()).starts_with("text: "));
  }
}

TEST_CASE("an invitation opens only at its invitee, for its network and case", "[cases]") {
  const keys::NodeIdentity invitee = keys::NodeIdentity::Generate(keys::SecretBytes(1));
  const keys::NodeIdentity other = keys::NodeIdentity::Generate(keys::SecretBytes(1));
  v1::CaseInvitation inv;
  inv.set_domain(std::string(node::kInvitationDomain));
  inv.set_network("regio");
  inv.set_case_id("0123456789abcdef0123456789abcdef");
  inv.set_to_org("school");
  inv.set_from_org("gemeente");
  v1::CaseSecrets& c = *inv.mutable_secrets();
  c.set_case_key(node::NewCaseKey());
  c.set_subject(std::string(32, 's'));
  c.set_purpose("casusoverleg");
  c.set_legal_basis("public_task");
  c.set_title("CanaryTitel");
  c.set_regisseur("rg-01");
  const std::string sealed = node::SealInvitation(inv, invitee.encryption_public);
  REQUIRE(sealed.find("CanaryTitel") == std::string::npos);
  auto open = [&](const keys::NodeIdentity& who, std::string network, std::string case_id, std::string from,
                  std::string org) {
    return node::OpenInvitation(sealed, who.encryption_secret, who.encryption_public, network, case_id, from, org);
  };
  auto ok = open(invitee, "regio", inv.case_id(), "gemeente", "school");
  REQUIRE(ok.ok());
  CHECK(ok->secrets().title() == "CanaryTitel");
  CHECK(ok->secrets().case_key() == inv.secrets().case_key());
  CHECK_FALSE(open(other, "regio", inv.case_id(), "gemeente", "school").ok());  // another node's key
  CHECK_FALSE(open(invitee, "andere-regio", inv.case_id(), "gemeente", "school").ok());
  CHECK_FALSE(open(invitee, "regio", "fedcba9876543210fedcba9876543210", "gemeente", "school").ok());
  CHECK_FALSE(open(invitee, "regio", inv.case_id(), "gemeente", "jeugdhulp").ok());  // forwarded to another org
  CHECK_FALSE(open(invitee, "regio", inv.case_id(), "gemeente-2", "school").ok());   // sent by another node
  auto bad = open(invitee, "regio", inv.case_id(), "gemeente", "jeugdhulp");
  CHECK(std::string(bad.status().message()).find("CanaryTitel") == std::string::npos);
  CHECK(node::OpenInvitation("short", invitee.encryption_secret, invitee.encryption_public, "regio", inv.case_id(),
                             "gemeente", "school")
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  // What casectl would never send is refused from a convener too.
  for (const auto& spoil : std::vector<std::function<void(v1::CaseSecrets&)>>{
           [](v1::CaseSecrets& x) { x.set_title("\x1b]0;owned\x07"); },
           [](v1::CaseSecrets& x) { x.set_title("twee\nregels"); },
           [](v1::CaseSecrets& x) { x.set_regisseur("Jan de Vries"); },
           [](v1::CaseSecrets& x) { x.set_legal_basis(""); },
           [](v1::CaseSecrets& x) {
             for (int i = 0; i < 17; ++i) x.add_receipts();
           }}) {
    v1::CaseInvitation worse = inv;
    spoil(*worse.mutable_secrets());
    const std::string s2 = node::SealInvitation(worse, invitee.encryption_public);
    CHECK_FALSE(node::OpenInvitation(s2, invitee.encryption_secret, invitee.encryption_public, "regio", inv.case_id(),
                                     "gemeente", "school")
                    .ok());
  }
}

TEST_CASE("case fields: names, staff ids and texts are checked, and the error names the field", "[cases]") {
  CHECK(CheckName("onderwijs", "category").ok());
  for (const std::string& bad : std::vector<std::string>{"", "Zorg", "zorg\n", std::string(101, 'a'), "zorg;drop"}) {
    auto s = CheckName(bad, "category");
    CHECK(ReasonOf(s) == Reason::kMalformedRequest);
    CHECK(std::string(s.message()).starts_with("category:"));
  }
  CHECK(CheckText("regel een\nregel twee\tmet tab", "text", 100).ok());
  CHECK_FALSE(CheckText("", "text", 100).ok());
  CHECK_FALSE(CheckText(std::string(101, 'x'), "text", 100).ok());
  CHECK_FALSE(CheckText("nul\0byte"s, "text", 100).ok());
  CHECK_FALSE(CheckText("escape\x1b[2J", "text", 100).ok());
  CHECK_FALSE(CheckText("\xff\xfe", "text", 100).ok());            // not UTF-8
  CHECK_FALSE(CheckText("csi \xc2\x9b 2J", "text", 100).ok());     // C1 control (U+009B)
  CHECK_FALSE(CheckText("rtl \xe2\x80\xae gnp.exe", "text", 100).ok());  // U+202E override
  CHECK(CheckText("Caf\xc3\xa9 \xe2\x82\xac" "5", "text", 100).ok());    // é and € are text
  CHECK_FALSE(CheckText("een\xe2\x80\xa8twee", "text", 100).ok());  // U+2028 line separator
  CHECK_FALSE(CheckText("rlm\xe2\x80\x8f", "text", 100).ok());      // U+200F
  CHECK_FALSE(CheckText("alm\xd8\x9c", "text", 100).ok());           // U+061C
  CHECK(CheckStaffId("rg-01", "regisseur").ok());
  CHECK_FALSE(CheckStaffId("Jan de Vries", "regisseur").ok());
  CHECK(node::CaseBook::CheckId("0123456789abcdef0123456789abcdef", "case id").ok());
  CHECK_FALSE(node::CaseBook::CheckId("0123456789ABCDEF0123456789ABCDEF", "case id").ok());
}

TEST_CASE("an opened text that is not plain text is not shown to staff", "[cases]") {
  CHECK(node::ShownText(std::string("Verzuim 40%\nsinds september")) == "Verzuim 40%\nsinds september");
  CHECK(node::ShownText(std::string("\x1b[2J\x1b[1;1Hniets")) == "(not shown: not plain text)");
  CHECK(node::ShownText(std::string("\xff")) == "(not shown: not plain text)");
  CHECK(node::ShownText(absl::StatusOr<std::string>(absl::DataLossError("x"))) ==
        "(cannot be opened with this case's key)");
}

// A CaseBook on a real store: agreements changed at once lose neither
// change; one unreadable record does not hide the others from the keeper.
struct BookFixture {
  TempDir dir;
  std::unique_ptr<store::KeyStore> key_store;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<node::CaseBook> book;
  BookFixture() {
    REQUIRE(keys::MasterKey::CreateKeyFile(dir.path("master.key")).ok());
    key_store = *store::KeyStore::Open(dir.path("keys"), *keys::MasterKey::FromKeyFile(dir.path("master.key")));
    store = *store::Store::Open(dir.path("records"), *key_store, SystemNow);
    book = std::make_unique<node::CaseBook>(*store, SystemNow);
  }
  std::string OpenCase() {
    v1::CaseIndex index;
    index.set_case_id(node::CaseBook::NewId());
    index.set_convener_org("gemeente");
    index.set_state(v1::CASE_OPEN);
    REQUIRE(book->Create(index, v1::CaseSecrets()).ok());
    return index.case_id();
  }
};

TEST_CASE("contributions get strictly later times and count once per id", "[cases]") {
  BookFixture f;
  const std::string id = f.OpenCase();
  v1::CaseContribution c;
  c.set_author_org("school");
  c.set_time_ms(5000);
  v1::CaseContribution first, second;
  c.set_contribution_id(node::CaseBook::NewId());
  REQUIRE(f.book->PutContribution(id, c, {}, &first).ok());
  c.set_contribution_id(node::CaseBook::NewId());
  c.set_time_ms(4000);  // the clock went back, or the same millisecond
  REQUIRE(f.book->PutContribution(id, c, {}, &second).ok());
  CHECK(first.time_ms() == 5000);
  CHECK(second.time_ms() == 5001);
  // The same id again keeps the first, and counts once.
  v1::CaseContribution again;
  REQUIRE(f.book->PutContribution(id, c, {}, &again).ok());
  CHECK(again.time_ms() == 5001);
  CHECK(f.book->Index(id)->contributions() == 2);
  REQUIRE(f.book->Index(id)->shares_size() == 1);
  CHECK(f.book->Index(id)->shares(0).contributions() == 2);
}

// One member that fills its share leaves every other member its own, for
// contributions, agreements and bytes alike; a change to an agreement is free.
TEST_CASE("each member has its own share of a case", "[cases]") {
  BookFixture f;
  const std::string id = f.OpenCase();
  policy::CaseSettings shares;
  shares.member_contributions = 3;
  shares.member_agreements = 2;
  shares.member_bytes = 64 * 1024;
  auto contribute = [&](std::string_view org, size_t bytes) {
    v1::CaseContribution c, stored;
    c.set_contribution_id(node::CaseBook::NewId());
    c.set_author_org(std::string(org));
    c.mutable_text()->set_ciphertext(std::string(bytes, 'x'));
    return f.book->PutContribution(id, c, shares, &stored);
  };
  auto agree = [&](std::string_view org, const std::string& action_id) {
    return f.book->SetAction(id, action_id, shares, [&](std::optional<v1::CaseAction> a) {
      v1::CaseAction out = a.value_or(v1::CaseAction());
      out.set_action_id(action_id);
      if (!a) out.set_added_by_org(std::string(org));
      out.set_status(a ? v1::ACTION_DONE : v1::ACTION_OPEN);
      return absl::StatusOr<v1::CaseAction>(out);
    }).status();
  };
  for (int i = 0; i < 3; ++i) REQUIRE(contribute("politie", 100).ok());
  const absl::Status full = contribute("politie", 100);
  CHECK(ReasonOf(full) == Reason::kCaseShareExhausted);
  CHECK(full.code() == absl::StatusCode::kResourceExhausted);
  CHECK(contribute("school", 100).ok());
  for (int i = 0; i < 5; ++i) CHECK(contribute("gemeente", 100).ok());  // the convener has no share to fill
  // Bytes: politie's agreements still fit; school's bytes run out before its count.
  REQUIRE(contribute("school", 40 * 1024).ok());
  CHECK(ReasonOf(contribute("school", 30 * 1024)) == Reason::kCaseShareExhausted);
  const std::string a1 = node::CaseBook::NewId(), a2 = node::CaseBook::NewId();
  REQUIRE(agree("politie", a1).ok());
  REQUIRE(agree("politie", a2).ok());
  CHECK(ReasonOf(agree("politie", node::CaseBook::NewId())) == Reason::kCaseShareExhausted);
  CHECK(agree("politie", a1).ok());  // changing one it has costs nothing
  CHECK(agree("jeugdhulp", node::CaseBook::NewId()).ok());
  auto actions = f.book->Actions(id);
  REQUIRE(actions.ok());
  CHECK(actions->size() == 3);
  CHECK(std::is_sorted(actions->begin(), actions->end(),
                       [](const auto& a, const auto& b) { return a.action_id() < b.action_id(); }));
  // A refused one stored nothing.
  CHECK(f.book->Contributions(id)->size() == 10);
  CHECK(f.book->Index(id)->contributions() == 10);
}

TEST_CASE("two changes to one agreement at once both stand", "[cases]") {
  BookFixture f;
  const std::string id = f.OpenCase();
  const std::string action = node::CaseBook::NewId();
  REQUIRE(f.book->SetAction(id, action, {}, [](std::optional<v1::CaseAction>) {
    v1::CaseAction a;
    a.set_status(v1::ACTION_OPEN);
    a.set_due_ms(1000);
    return absl::StatusOr<v1::CaseAction>(a);
  }).ok());
  // Each change reads, waits a moment (a window for the other), and changes one field.
  auto change = [&](bool status) {
    return f.book->SetAction(id, action, {}, [status](std::optional<v1::CaseAction> a) -> absl::StatusOr<v1::CaseAction> {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      status ? a->set_status(v1::ACTION_DONE) : a->set_due_ms(2000);
      return *a;
    });
  };
  std::atomic<bool> owner_ok{false}, regisseur_ok{false};  // Catch asserts on this thread only
  std::thread owner([&] { owner_ok = change(true).ok(); });
  std::thread regisseur([&] { regisseur_ok = change(false).ok(); });
  owner.join();
  regisseur.join();
  REQUIRE(owner_ok);
  REQUIRE(regisseur_ok);
  auto all = f.book->Actions(id);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 1);
  CHECK(all->front().status() == v1::ACTION_DONE);
  CHECK(all->front().due_ms() == 2000);
}

TEST_CASE("nothing is added to a case that is not open, and an unreadable index hides no other case", "[cases]") {
  BookFixture f;
  const std::string id = f.OpenCase();
  REQUIRE(f.book->Change(id, [](v1::CaseIndex& i) {
    i.set_state(v1::CASE_CLOSED);
    return absl::OkStatus();
  }).ok());
  v1::CaseContribution c;
  c.set_contribution_id(node::CaseBook::NewId());
  v1::CaseContribution stored;
  CHECK(ReasonOf(f.book->PutContribution(id, c, {}, &stored)) == Reason::kCaseNotActive);
  CHECK(ReasonOf(f.book->SetAction(id, node::CaseBook::NewId(), {}, [](std::optional<v1::CaseAction>) {
                   return absl::StatusOr<v1::CaseAction>(v1::CaseAction());
                 }).status()) == Reason::kCaseNotActive);
  // A record in the index's place that does not parse.
  const std::string bad = node::CaseBook::NewId();
  REQUIRE(f.store->Put({store::Family::kCases, "X" + bad, keys::DataKeyRef{keys::DataKeyKind::kNode, {}},
                        std::string("\xff\xff\xff garbage"), std::nullopt})
              .ok());
  auto listed = f.book->List();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().case_id() == id);
}

}  // namespace
}  // namespace casenode
