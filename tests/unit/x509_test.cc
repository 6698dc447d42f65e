#include <catch2/catch.hpp>

#include "keys/network_operator.h"
#include "keys/x509.h"
#include "tests/support/temp_dir.h"

using namespace casenode;
using namespace casenode::keys;

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
