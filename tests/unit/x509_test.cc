#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "network/operator.h"
#include "keys/x509.h"
#include "tests/support/temp_dir.h"

using namespace casenode;
using namespace casenode::keys;
using namespace casenode::network;

TEST_CASE("a node certificate binds organisation and role", "[x509]") {
  TempDir dir;
  const SystemTime now = SystemNow();
  auto op = NetworkOperator::Create(dir.path("network"), "flevoland", "", now);
  REQUIRE(op.ok());
  auto key = NewTlsKeyPem();
  REQUIRE(key.ok());
  auto cert = op->IssueCertificate(*key, "school", "school", now, now + std::chrono::days(30));
  REQUIRE(cert.ok());
  auto subject = ReadCertificateSubject(*cert);
  REQUIRE(subject.ok());
  REQUIRE(subject->org == "school");
  REQUIRE(subject->role == "school");
  auto fp = CertificateFingerprint(*cert);
  REQUIRE(fp.ok());
  REQUIRE(fp->size() == 64);
  REQUIRE(*CertificateFingerprint(*cert) == *fp);
}

TEST_CASE("the operator re-opens from its directory and verifies its manifest", "[x509]") {
  TempDir dir;
  const SystemTime now = SystemNow();
  auto op = NetworkOperator::Create(dir.path("network"), "flevoland", "", now);
  REQUIRE(op.ok());
  Manifest m;
  m.network = "flevoland";
  m.version = 1;
  m.issued_at = now;
  m.expires_at = now + std::chrono::days(1);
  m.nodes.push_back({"school", "School", Role::ROLE_SCHOOL, "127.0.0.1:1", std::string(64, 'c'), {}, {}});
  REQUIRE(op->Publish(m).ok());
  auto again = NetworkOperator::Open(dir.path("network"));
  REQUIRE(again.ok());
  REQUIRE(again->public_key() == op->public_key());
  auto current = again->Current();
  REQUIRE(current.ok());
  REQUIRE(current->nodes.size() == 1);
  REQUIRE(NetworkOperator::Create(dir.path("network"), "x", "", now).status().code() ==
          absl::StatusCode::kAlreadyExists);
}

TEST_CASE("a certificate that is not PEM is refused", "[x509]") {
  REQUIRE(CertificateFingerprint("garbage").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("an operator sealed with a passphrase has no master key file and reopens with the passphrase", "[x509]") {
  TempDir dir;
  const SystemTime now = SystemNow();
  const SecretBytes pass = SecretBytes::CopyFrom(std::string_view("operator passphrase"));
  auto master = MasterKey::FromPassphrase(pass, KdfParams::NewArgon2id(1, 8 * 1024));  // fast limits for tests
  REQUIRE(master.ok());
  auto op = NetworkOperator::Create(dir.path("network"), "flevoland", *master, now);
  REQUIRE(op.ok());
  REQUIRE_FALSE(std::filesystem::exists(dir.path("network/operator.master.key")));

  ::setenv("CASENODE_TEST_OPERATOR_PASS", "operator passphrase", 1);
  auto again = NetworkOperator::Open(dir.path("network"), "passphrase-env:CASENODE_TEST_OPERATOR_PASS");
  REQUIRE(again.ok());
  REQUIRE(again->public_key() == op->public_key());
  REQUIRE(again->ca_cert_pem() == op->ca_cert_pem());

  // Neither without the passphrase nor with another one.
  REQUIRE_FALSE(NetworkOperator::Open(dir.path("network")).ok());
  ::setenv("CASENODE_TEST_OPERATOR_PASS", "another passphrase", 1);
  auto wrong = NetworkOperator::Open(dir.path("network"), "passphrase-env:CASENODE_TEST_OPERATOR_PASS");
  REQUIRE(wrong.status().code() == absl::StatusCode::kPermissionDenied);
  REQUIRE(NetworkOperator::Create(dir.path("network"), "x", *master, now).status().code() ==
          absl::StatusCode::kAlreadyExists);
}

TEST_CASE("a renewed certificate binds the same subject and key, and only the CA's own are renewed", "[x509]") {
  TempDir dir;
  const SystemTime now = SystemNow();
  auto op = NetworkOperator::Create(dir.path("network"), "flevoland", "", now);
  REQUIRE(op.ok());
  auto key = NewTlsKeyPem();
  auto cert = op->IssueCertificate(*key, "gemeente", "gemeente", now, now + std::chrono::days(30));
  REQUIRE(cert.ok());
  auto renewed = op->RenewCertificate(*cert, now, now + std::chrono::days(365));
  REQUIRE(renewed.ok());
  REQUIRE(*CertificateFingerprint(*renewed) != *CertificateFingerprint(*cert));
  REQUIRE(ReadCertificateSubject(*renewed)->org == "gemeente");
  REQUIRE(ReadCertificateSubject(*renewed)->role == "gemeente");
  REQUIRE(CertificateMatchesKey(*renewed, *key).ok());
  auto other_key = NewTlsKeyPem();
  REQUIRE(CertificateMatchesKey(*renewed, *other_key).code() == absl::StatusCode::kFailedPrecondition);

  auto rogue = NetworkOperator::Create(dir.path("rogue"), "flevoland", "", now);
  auto foreign = rogue->IssueCertificate(*key, "gemeente", "gemeente", now, now + std::chrono::days(30));
  auto refused = op->RenewCertificate(*foreign, now, now + std::chrono::days(365));
  REQUIRE(refused.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(refused.status().message().find("not issued by this network's CA") != std::string::npos);
}

TEST_CASE("the CA's own certificate is not renewed as a node's", "[x509]") {
  TempDir dir;
  const SystemTime now = SystemNow();
  auto op = NetworkOperator::Create(dir.path("network"), "flevoland", "", now);
  auto refused = op->RenewCertificate(op->ca_cert_pem(), now, now + std::chrono::days(365));
  REQUIRE(refused.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(refused.status().message().find("a CA's") != std::string::npos);
}
