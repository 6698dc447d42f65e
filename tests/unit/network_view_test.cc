// Network: the node's view of the manifest — version floor across restarts
// and expiry while running, with an injected clock.

#include <catch2/catch.hpp>

#include "base/file.h"
#include "base/reason.h"
#include "network/manifest.h"
#include "network/network.h"
#include "tests/support/temp_dir.h"

using namespace casenode;

namespace {

struct Published {
  TempDir dir;
  keys::SigningKey op = keys::SigningKey::Generate();
  SystemTime issued = *ParseRfc3339("2026-11-01T00:00:00Z", "t");

  std::string path() const { return dir.path("manifest.json"); }
  void Publish(uint64_t version) {
    network::Manifest m;
    m.network = "flevoland";
    m.version = version;
    m.issued_at = issued;
    m.expires_at = issued + std::chrono::days(30);
    m.nodes.push_back({"school", "School", network::Role::ROLE_SCHOOL, "127.0.0.1:7101", std::string(64, 'a'), {}, {}});
    const std::string text = *network::EncodeManifest(m);
    REQUIRE(WriteFileAtomic(path(), text, 0644).ok());
    REQUIRE(WriteFileAtomic(path() + ".sig", network::SignManifest(op, text), 0644).ok());
  }
};

// A floor kept in memory, as the key store keeps it on disk.
struct MemoryFloor {
  std::optional<uint64_t> value;
  network::Network::VersionFloor Floor() {
    return {[this] { return absl::StatusOr<std::optional<uint64_t>>(value); },
            [this](uint64_t v) {
              if (!value || v > *value) value = v;
              return absl::OkStatus();
            }};
  }
};

}  // namespace

TEST_CASE("a node refuses a manifest older than one it accepted before, across restarts", "[network]") {
  Published pub;
  SystemTime now = pub.issued + std::chrono::days(1);
  MemoryFloor floor;  // survives the "restart": it stands for the key store
  pub.Publish(1);
  auto first = network::Network::Load(pub.path(), pub.op.public_key(), "school", [&] { return now; });
  REQUIRE(first.ok());
  REQUIRE((*first)->SetVersionFloor(floor.Floor()).ok());
  REQUIRE_FALSE(floor.value.has_value());  // checked, not yet accepted (--check-config writes nothing)
  REQUIRE((*first)->CommitVersion().ok());
  REQUIRE(floor.value == 1u);
  pub.Publish(2);
  auto v2 = (*first)->ReadVerified();
  REQUIRE(v2.ok());
  REQUIRE(*(*first)->Install(*std::move(v2)) == 2);
  REQUIRE(floor.value == 2u);

  pub.Publish(1);  // the old, validly signed files come back
  auto restarted = network::Network::Load(pub.path(), pub.op.public_key(), "school", [&] { return now; });
  REQUIRE(restarted.ok());  // signature and dates are fine ...
  const absl::Status s = (*restarted)->SetVersionFloor(floor.Floor());
  REQUIRE(ReasonOf(s) == Reason::kManifestRollback);  // ... but it is older than what was accepted
  REQUIRE(s.code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("a running node stops answering peers when its manifest expires", "[network]") {
  Published pub;
  SystemTime now = pub.issued + std::chrono::days(1);
  pub.Publish(1);
  auto net = network::Network::Load(pub.path(), pub.op.public_key(), "school", [&] { return now; });
  REQUIRE(net.ok());
  REQUIRE((*net)->CheckFresh().ok());
  now = pub.issued + std::chrono::days(30) - std::chrono::seconds(1);
  REQUIRE((*net)->CheckFresh().ok());
  now += std::chrono::seconds(1);
  REQUIRE(ReasonOf((*net)->CheckFresh()) == Reason::kManifestExpired);
}

TEST_CASE("identifying a peer refuses once the manifest has expired, cached answer or not", "[network]") {
  Published pub;
  SystemTime now = pub.issued + std::chrono::days(1);
  pub.Publish(1);
  auto net = network::Network::Load(pub.path(), pub.op.public_key(), "school", [&] { return now; });
  REQUIRE(net.ok());
  const std::string pem = "-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n";
  const absl::StatusOr<network::Caller> fresh = (*net)->Identify(pem);  // answered, and cached
  REQUIRE(!fresh.ok());
  REQUIRE(ReasonOf(fresh.status()) != Reason::kManifestExpired);
  now = pub.issued + std::chrono::days(30);
  const absl::StatusOr<network::Caller> expired = (*net)->Identify(pem);
  REQUIRE(ReasonOf(expired.status()) == Reason::kManifestExpired);
}
