// The case key's seals: the byte encoding of what a text is bound to
// (golden), texts that open only in their own place, and invitations that
// open only for their own network, case and invitee.
#include <sodium.h>

#include <catch2/catch.hpp>

#include "base/reason.h"
#include "keys/identity.h"
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

TEST_CASE("an invitation opens only at its invitee, for its network and case", "[cases]") {
  const keys::NodeIdentity invitee = keys::NodeIdentity::Generate(keys::SecretBytes(1));
  const keys::NodeIdentity other = keys::NodeIdentity::Generate(keys::SecretBytes(1));
  v1::CaseInvitation inv;
  inv.set_domain(std::string(node::kInvitationDomain));
  inv.set_network("regio");
  inv.set_case_id("0123456789abcdef0123456789abcdef");
  inv.set_to_org("school");
  inv.mutable_secrets()->set_case_key(node::NewCaseKey());
  inv.mutable_secrets()->set_subject(std::string(32, 's'));
  inv.mutable_secrets()->set_title("CanaryTitel");
  const std::string sealed = node::SealInvitation(inv, invitee.encryption_public);
  REQUIRE(sealed.find("CanaryTitel") == std::string::npos);
  auto open = [&](const keys::NodeIdentity& who, std::string network, std::string case_id, std::string org) {
    return node::OpenInvitation(sealed, who.encryption_secret, who.encryption_public, network, case_id, org);
  };
  auto ok = open(invitee, "regio", inv.case_id(), "school");
  REQUIRE(ok.ok());
  CHECK(ok->secrets().title() == "CanaryTitel");
  CHECK(ok->secrets().case_key() == inv.secrets().case_key());
  CHECK_FALSE(open(other, "regio", inv.case_id(), "school").ok());       // another node's key
  CHECK_FALSE(open(invitee, "andere-regio", inv.case_id(), "school").ok());
  CHECK_FALSE(open(invitee, "regio", "fedcba9876543210fedcba9876543210", "school").ok());
  CHECK_FALSE(open(invitee, "regio", inv.case_id(), "jeugdhulp").ok());  // forwarded to another org
  auto bad = open(invitee, "regio", inv.case_id(), "jeugdhulp");
  CHECK(std::string(bad.status().message()).find("CanaryTitel") == std::string::npos);
  CHECK(node::OpenInvitation("short", invitee.encryption_secret, invitee.encryption_public, "regio", inv.case_id(),
                             "school")
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("case fields: names, staff ids and texts are checked, and the error names the field", "[cases]") {
  CHECK(node::CheckCaseName("onderwijs", "category").ok());
  for (const std::string& bad : std::vector<std::string>{"", "Zorg", "zorg\n", std::string(65, 'a'), "zorg;drop"}) {
    auto s = node::CheckCaseName(bad, "category");
    CHECK(ReasonOf(s) == Reason::kMalformedRequest);
    CHECK(std::string(s.message()).starts_with("category:"));
  }
  CHECK(node::CheckCaseText("regel een\nregel twee\tmet tab", "text", 100).ok());
  CHECK_FALSE(node::CheckCaseText("", "text", 100).ok());
  CHECK_FALSE(node::CheckCaseText(std::string(101, 'x'), "text", 100).ok());
  CHECK_FALSE(node::CheckCaseText("nul\0byte"s, "text", 100).ok());
  CHECK_FALSE(node::CheckCaseText("escape\x1b[2J", "text", 100).ok());
  CHECK(node::CheckStaffId("rg-01", "regisseur").ok());
  CHECK_FALSE(node::CheckStaffId("Jan de Vries", "regisseur").ok());
  CHECK(node::CaseBook::CheckId("0123456789abcdef0123456789abcdef", "case id").ok());
  CHECK_FALSE(node::CaseBook::CheckId("0123456789ABCDEF0123456789ABCDEF", "case id").ok());
}

}  // namespace
}  // namespace casenode
