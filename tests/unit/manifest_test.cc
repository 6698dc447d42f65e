#include "network/manifest.h"

#include <sodium.h>

#include <catch2/catch.hpp>

using namespace casenode;
using namespace casenode::keys;
using namespace casenode::network;

namespace {

const SystemTime kIssued = *ParseRfc3339("2026-11-01T00:00:00Z", "t");
const SystemTime kNow = *ParseRfc3339("2026-11-28T00:00:00Z", "t");

OprfHolder Holder(std::string org, uint32_t index) {
  OprfHolder h{std::move(org), index, {}};
  crypto_core_ristretto255_random(h.commitment.data());
  return h;
}

Manifest TwoNodes() {
  Manifest m;
  m.network = "flevoland";
  m.version = 1;
  m.issued_at = kIssued;
  m.expires_at = kIssued + std::chrono::days(365);
  m.oprf_threshold = 2;
  m.oprf_holders = {Holder("gemeente", 1), Holder("school", 2)};
  crypto_core_ristretto255_random(m.oprf_public_key.data());
  m.nodes.push_back({"school", "OBS De Regenboog", Role::ROLE_SCHOOL, "127.0.0.1:7101", std::string(64, 'a'), {}, {}});
  m.nodes.push_back(
      {"gemeente", "Gemeente Almere", Role::ROLE_GEMEENTE, "127.0.0.1:7104", std::string(64, 'b'), {}, {}});
  return m;
}

}  // namespace

TEST_CASE("a manifest signed by the operator verifies and parses", "[manifest]") {
  const SigningKey op = SigningKey::Generate();
  const std::string text = *EncodeManifest(TwoNodes());
  const std::string sig = SignManifest(op, text);
  auto m = VerifyManifest(text, sig, op.public_key(), kNow, "school");
  REQUIRE(m.ok());
  REQUIRE(m->version == 1);
  REQUIRE(m->FindOrg("gemeente")->role == Role::ROLE_GEMEENTE);
  REQUIRE(m->FindFingerprint(std::string(64, 'a'))->org == "school");
}

TEST_CASE("a tampered manifest is refused", "[manifest]") {
  const SigningKey op = SigningKey::Generate();
  std::string text = *EncodeManifest(TwoNodes());
  const std::string sig = SignManifest(op, text);
  text.replace(text.find("127.0.0.1:7104"), 14, "127.0.0.1:9999");
  auto m = VerifyManifest(text, sig, op.public_key(), kNow, "school");
  REQUIRE(m.status().code() == absl::StatusCode::kPermissionDenied);
  REQUIRE(m.status().message().find("signature") != std::string::npos);
}

TEST_CASE("a manifest signed by another key is refused", "[manifest]") {
  const SigningKey op = SigningKey::Generate();
  const SigningKey other = SigningKey::Generate();
  const std::string text = *EncodeManifest(TwoNodes());
  auto m = VerifyManifest(text, SignManifest(other, text), op.public_key(), kNow, "school");
  REQUIRE(m.status().code() == absl::StatusCode::kPermissionDenied);
}

TEST_CASE("an expired manifest is refused naming its expiry", "[manifest]") {
  const SigningKey op = SigningKey::Generate();
  Manifest old = TwoNodes();
  old.expires_at = kIssued + std::chrono::days(1);
  const std::string text = *EncodeManifest(old);
  auto m = VerifyManifest(text, SignManifest(op, text), op.public_key(), kNow, "school");
  REQUIRE(m.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(m.status().message().find("expired at 2026-11-02T00:00:00Z") != std::string::npos);
}

TEST_CASE("a manifest that does not list this node is refused", "[manifest]") {
  const SigningKey op = SigningKey::Generate();
  const std::string text = *EncodeManifest(TwoNodes());
  auto m = VerifyManifest(text, SignManifest(op, text), op.public_key(), kNow, "politie");
  REQUIRE(m.status().code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(m.status().message().find("does not list this node") != std::string::npos);
}

TEST_CASE("a manifest with an unknown key is refused naming the key", "[manifest]") {
  std::string text = *EncodeManifest(TwoNodes());
  text.insert(text.find("\"network\""), "\"admin\": true, ");
  auto m = ParseManifest(text);
  REQUIRE(m.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(m.status().message().find("unknown key \"admin\"") != std::string::npos);
}

TEST_CASE("a manifest listing an organisation twice is refused", "[manifest]") {
  Manifest m = TwoNodes();
  m.nodes[1].org = "school";
  auto text = EncodeManifest(m);
  REQUIRE(text.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(text.status().message().find("nodes[1].org") != std::string::npos);
}

TEST_CASE("a manifest org id must be 1 to 63 characters of a-z, 0-9 and -", "[manifest]") {
  for (const std::string& bad : std::vector<std::string>{"", "School", "de school", "school\n", std::string(64, 'a')}) {
    Manifest m = TwoNodes();
    m.nodes[0].org = bad;
    auto text = EncodeManifest(m);
    INFO("org id \"" << bad << "\"");
    REQUIRE(text.status().code() == absl::StatusCode::kInvalidArgument);
    REQUIRE(text.status().message().find("nodes[0].org") != std::string::npos);
  }
  Manifest m = TwoNodes();
  m.nodes[0].org = std::string(63, 'a');
  m.oprf_holders[1].org = m.nodes[0].org;
  REQUIRE(EncodeManifest(m).ok());
}

TEST_CASE("a manifest with an unknown role is refused naming the field", "[manifest]") {
  std::string text = *EncodeManifest(TwoNodes());
  text.replace(text.find("\"gemeente\",\n"), 10, "\"ministry\"");
  auto m = ParseManifest(text);
  REQUIRE_FALSE(m.ok());
}

TEST_CASE("an OPRF threshold above the number of holders, or below 2, is refused", "[manifest]") {
  Manifest m = TwoNodes();
  m.oprf_threshold = 3;
  REQUIRE(EncodeManifest(m).status().message().find("oprf.threshold") != std::string::npos);
  // t = 1 would let one holder derive pseudonyms alone.
  m.oprf_threshold = 1;
  REQUIRE(EncodeManifest(m).status().message().find("oprf.threshold: expected at least 2") != std::string::npos);
  // So would a holder whose share is the key itself.
  m = TwoNodes();
  m.oprf_holders[0].commitment = m.oprf_public_key;
  REQUIRE(EncodeManifest(m).status().message().find("oprf.holders[0].commitment") != std::string::npos);
}

TEST_CASE("pseudonym key holders: each an org in nodes, with its own index and a valid commitment", "[manifest]") {
  Manifest m = TwoNodes();
  m.oprf_holders = {Holder("gemeente", 3), Holder("school", 1)};
  auto text = EncodeManifest(m);
  REQUIRE(text.ok());
  auto parsed = ParseManifest(*text);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->oprf_holders.size() == 2);
  CHECK(parsed->FindOprfHolder("gemeente")->index == 3);
  CHECK(parsed->FindOprfHolder("gemeente")->commitment == m.oprf_holders[0].commitment);
  CHECK(parsed->FindOprfHolder("politie") == nullptr);

  auto refused = [](Manifest bad, std::string_view field) {
    auto encoded = EncodeManifest(bad);
    REQUIRE_FALSE(encoded.ok());
    CHECK(std::string(encoded.status().message()).find(field) != std::string::npos);
  };
  Manifest same_index = m;
  same_index.oprf_holders[1].index = 3;
  refused(same_index, "oprf.holders[1].index");
  Manifest zero = m;
  zero.oprf_holders[0].index = 0;
  refused(zero, "oprf.holders[0].index");
  Manifest twice = m;
  twice.oprf_holders[1].org = "gemeente";
  refused(twice, "oprf.holders[1].org");
  Manifest stranger = m;
  stranger.oprf_holders[0].org = "politie";
  refused(stranger, "oprf.holders[0].org");
  Manifest no_key = m;
  no_key.oprf_public_key.fill(0);
  refused(no_key, "oprf.public_key");
  Manifest not_a_point = m;
  not_a_point.oprf_holders[0].commitment.fill(0xff);
  refused(not_a_point, "oprf.holders[0].commitment");
  // A real point with the encoding's top bit set (libsodium 1.0.18 ignores
  // that bit; RFC 9496 refuses it), as a commitment and as the public key.
  Manifest top_commitment = m;
  top_commitment.oprf_holders[0].commitment[31] |= 0x80;
  refused(top_commitment, "oprf.holders[0].commitment");
  Manifest top_key = m;
  top_key.oprf_public_key[31] |= 0x80;
  refused(top_key, "oprf.public_key");

  // And in the JSON: an index out of range or an unknown key names the field.
  std::string big = *text;
  const std::string three = "\"index\": 3";
  REQUIRE(big.find(three) != std::string::npos);
  big.replace(big.find(three), three.size(), "\"index\": 300");
  CHECK(ParseManifest(big).status().message().find("index") != std::string::npos);
}

TEST_CASE("a node's second certificate (a renewal under way) round-trips and identifies the node", "[manifest]") {
  Manifest m = TwoNodes();
  m.nodes[1].tls_cert_sha256_also = std::string(64, 'c');
  const std::string text = *EncodeManifest(m);
  REQUIRE(text.find("\"tls_cert_sha256_also\": \"" + std::string(64, 'c') + "\"") != std::string::npos);
  auto back = ParseManifest(text);
  REQUIRE(back.ok());
  REQUIRE(*EncodeManifest(*back) == text);
  REQUIRE(back->FindFingerprint(std::string(64, 'c'))->org == "gemeente");
  REQUIRE(back->FindFingerprint(std::string(64, 'b'))->org == "gemeente");
  REQUIRE(back->FindOrg("gemeente")->HasCertificate(std::string(64, 'c')));
  REQUIRE_FALSE(back->FindOrg("school")->HasCertificate(""));  // none is not a certificate
  // Without one, the key is left out: manifests made before renewal existed read the same.
  REQUIRE(EncodeManifest(TwoNodes())->find("tls_cert_sha256_also") == std::string::npos);
}

TEST_CASE("a second certificate that is malformed or another's is refused, naming the field", "[manifest]") {
  for (const std::string& bad : {std::string(64, 'b'), std::string(64, 'a'), std::string(63, 'c'), std::string(64, 'C')}) {
    Manifest m = TwoNodes();
    m.nodes[1].tls_cert_sha256_also = bad;
    auto text = EncodeManifest(m);
    INFO(bad);
    REQUIRE(text.status().code() == absl::StatusCode::kInvalidArgument);
    REQUIRE(text.status().message().find("nodes[1].tls_cert_sha256_also") != std::string::npos);
  }
  std::string text = *EncodeManifest(TwoNodes());
  text.replace(text.find("\"tls_cert_sha256\": \"" + std::string(64, 'b') + "\""), 0, "\"tls_cert_sha256_also\": \"\", ");
  auto empty = ParseManifest(text);
  REQUIRE(empty.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(empty.status().message().find("tls_cert_sha256_also") != std::string::npos);
}
