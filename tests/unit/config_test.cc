#include <catch2/catch.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "node/config/config.h"

using casenode::node::NodeConfig;

namespace {

const std::string kValid = R"(
[node]
org = "school"
data_dir = "data"
[network]
manifest = "../network/manifest.json"
operator_key = "../network/operator.pub"
ca_cert = "/etc/casenode/ca.pem"
[keys]
master_key = "file:master.key"
identity = "identity.sealed"
tls_cert = "cert.pem"
[peer]
listen = "127.0.0.1:7101"
[policy]
network = "../network/policy"
local = ["local-policy.toml"]
[local]
socket = "local.sock"
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

std::string ErrorOf(const std::string& text) {
  auto c = NodeConfig::Parse(text, "/srv/school", "casenode.toml");
  REQUIRE_FALSE(c.ok());
  REQUIRE(c.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(c.status().message());
}

}  // namespace

TEST_CASE("a valid config resolves relative paths against its directory", "[config]") {
  auto c = NodeConfig::Parse(kValid, "/srv/school", "casenode.toml");
  REQUIRE(c.ok());
  REQUIRE(c->org == "school");
  REQUIRE(c->data_dir == "/srv/school/data");
  REQUIRE(c->manifest == "/srv/network/manifest.json");
  REQUIRE(c->ca_cert == "/etc/casenode/ca.pem");
  REQUIRE(c->master_key == "file:/srv/school/master.key");
  REQUIRE(c->peer_timeout == std::chrono::milliseconds(2000));
  REQUIRE(c->log_level == "info");
  REQUIRE(c->policy_network == "/srv/network/policy");
  REQUIRE(c->policy_local == std::vector<std::string>{"/srv/school/local-policy.toml"});
}

TEST_CASE("a config round-trips through ToToml", "[config]") {
  auto c = NodeConfig::Parse(kValid, "/srv/school", "casenode.toml");
  auto again = NodeConfig::Parse(c->ToToml(), "/elsewhere", "x.toml");
  REQUIRE(again.ok());
  REQUIRE(again->manifest == c->manifest);
  REQUIRE(again->peer_listen == c->peer_listen);
  REQUIRE(again->policy_local == c->policy_local);
}

TEST_CASE("a missing config file is NotFound naming the path", "[config]") {
  auto c = NodeConfig::Load("/nonexistent/casenode.toml");
  REQUIRE(c.status().code() == absl::StatusCode::kNotFound);
  REQUIRE(c.status().message().find("/nonexistent/casenode.toml") != std::string::npos);
}

TEST_CASE("an unknown key is refused naming key, table and line", "[config]") {
  const std::string msg = ErrorOf(Replace(kValid, "[peer]\n", "[peer]\nlisen = \"x\"\n"));
  REQUIRE(msg == "casenode.toml:14: unknown key \"lisen\" in [peer]");
}

TEST_CASE("an unknown table is refused", "[config]") {
  REQUIRE(ErrorOf(kValid + "[tracing]\nport = 9\n").find("unknown table [tracing]") != std::string::npos);
}

TEST_CASE("the metrics listener is optional, and only on a loopback address", "[config]") {
  auto none = NodeConfig::Parse(kValid, "/etc/casenode", "casenode.toml");
  REQUIRE(none.ok());
  REQUIRE(none->metrics_listen.empty());
  for (const std::string listen : {"127.0.0.1:9464", "[::1]:9464", "localhost:9464", "127.0.0.2:1"}) {
    auto c = NodeConfig::Parse(kValid + "[metrics]\nlisten = \"" + listen + "\"\n", "/etc/casenode", "casenode.toml");
    INFO(listen);
    REQUIRE(c.ok());
    REQUIRE(c->metrics_listen == listen);
    // And it survives a round trip through ToToml.
    auto again = NodeConfig::Parse(c->ToToml(), "/etc/casenode", "casenode.toml");
    REQUIRE(again.ok());
    REQUIRE(again->metrics_listen == listen);
  }
  REQUIRE(ErrorOf(kValid + "[metrics]\nlisten = \"0.0.0.0:9464\"\n").find("metrics.listen: \"0.0.0.0\" is not a loopback") !=
          std::string::npos);
  for (const std::string bad : {"127.0.0.1.example.org", "127.0.0.1.2", "127.999.1.1", "128.0.0.1"}) {
    INFO(bad);
    REQUIRE(ErrorOf(kValid + "[metrics]\nlisten = \"" + bad + ":9464\"\n").find("not a loopback") !=
            std::string::npos);
  }
  REQUIRE(ErrorOf(kValid + "[metrics]\nlisten = \"127.0.0.1:70000\"\n").find("metrics.listen: port") !=
          std::string::npos);
}

TEST_CASE("a bad port is refused naming the field", "[config]") {
  REQUIRE(ErrorOf(Replace(kValid, "7101", "99999")).find("peer.listen: port \"99999\"") != std::string::npos);
  REQUIRE(ErrorOf(Replace(kValid, "127.0.0.1:7101", "localhost")).find("peer.listen: expected host:port") !=
          std::string::npos);
  REQUIRE(ErrorOf(Replace(kValid, "7101", "0")).find("peer.listen") != std::string::npos);
}

TEST_CASE("a missing required key is refused naming it", "[config]") {
  REQUIRE(ErrorOf(Replace(kValid, "tls_cert = \"cert.pem\"\n", "")).find("missing required key keys.tls_cert") !=
          std::string::npos);
}

TEST_CASE("a master key reference without a known scheme is refused", "[config]") {
  REQUIRE(ErrorOf(Replace(kValid, "file:master.key", "master.key")).find("keys.master_key") != std::string::npos);
}

TEST_CASE("a value of the wrong type is refused", "[config]") {
  REQUIRE(ErrorOf(Replace(kValid, "org = \"school\"", "org = 3")).find("node.org: expected a string") !=
          std::string::npos);
  REQUIRE(ErrorOf(kValid + "[log]\nlevel = \"loud\"\n").find("log.level") != std::string::npos);
}

TEST_CASE("TOML syntax errors name the line", "[config]") {
  REQUIRE(ErrorOf("[node]\norg = \n").find("casenode.toml:2:") != std::string::npos);
}

namespace {

const std::string kStaff = R"(
[staff]
issuer = "https://login.school.example/realms/staf"
client_id = "casenode-school"
client_secret = "sealed:oidc-secret.sealed"
redirect_uri = "https://casenode.school.example/aanmelden/terug"
[staff.roles]
"zorgteam" = "zorgcoordinator"
"cn=mentoren,ou=groepen" = "mentor"
)";

}  // namespace

TEST_CASE("staff sign-in is configured in [staff], with defaults, and round-trips", "[config]") {
  auto none = NodeConfig::Parse(kValid, "/srv/school", "casenode.toml");
  REQUIRE(none.ok());
  CHECK_FALSE(none->staff.has_value());
  auto c = NodeConfig::Parse(kValid + kStaff, "/srv/school", "casenode.toml");
  INFO(c.status());
  REQUIRE(c.ok());
  REQUIRE(c->staff.has_value());
  CHECK(c->staff->client_secret == "sealed:/srv/school/oidc-secret.sealed");
  CHECK(c->staff->roles_claim == "groups");
  CHECK(c->staff->roles.at("cn=mentoren,ou=groepen") == "mentor");
  CHECK(c->staff->algorithms == std::vector<std::string>{"RS256"});
  CHECK(c->staff->skew == std::chrono::seconds(60));
  CHECK(c->staff->idle == std::chrono::minutes(15));
  CHECK(c->staff->absolute == std::chrono::hours(8));
  auto again = NodeConfig::Parse(c->ToToml(), "/elsewhere", "x.toml");
  INFO(again.status());
  REQUIRE(again.ok());
  REQUIRE(again->staff.has_value());
  CHECK(again->staff->roles == c->staff->roles);
  CHECK(again->staff->client_secret == c->staff->client_secret);
  CHECK(again->staff->issuer == c->staff->issuer);
  // A systemd credential, and a test provider on loopback.
  auto cred = NodeConfig::Parse(
      kValid + Replace(Replace(kStaff, "sealed:oidc-secret.sealed", "credential:oidc-client-secret"),
                       "https://login.school.example/realms/staf", "http://127.0.0.1:7400"),
      "/srv/school", "casenode.toml");
  INFO(cred.status());
  REQUIRE(cred.ok());
  CHECK(cred->staff->client_secret == "credential:oidc-client-secret");
}

TEST_CASE("a bad [staff] is refused naming the key, and never echoes a secret", "[config]") {
  const std::vector<std::tuple<std::string, std::string, std::string>> bad = {
      {"https://login.school.example/realms/staf", "http://login.school.example", "staff.issuer: expected an https URL"},
      {"client_id = \"casenode-school\"", "client_id = \"\"", "staff.client_id: expected 1 to 255"},
      {"sealed:oidc-secret.sealed", "CanarySecret-s3cr3t", "staff.client_secret: expected sealed:PATH or credential:NAME"},
      {"sealed:oidc-secret.sealed", "credential:../etc/x", "staff.client_secret: expected"},
      {"https://casenode.school.example/aanmelden/terug", "https://x.example/a#frag", "staff.redirect_uri: expected"},
      {"\"zorgteam\" = \"zorgcoordinator\"", "\"zorgteam\" = \"Zorg Coordinator\"", "staff.roles: each value"},
      {"[staff.roles]\n\"zorgteam\" = \"zorgcoordinator\"\n\"cn=mentoren,ou=groepen\" = \"mentor\"\n", "",
       "staff.roles: map at least one"},
      {"[staff.roles]", "algorithms = [\"HS256\"]\n[staff.roles]", "staff.algorithms: expected a list of RS256"},
      {"[staff.roles]", "algorithms = []\n[staff.roles]", "staff.algorithms: expected a list"},
      {"[staff.roles]", "skew_seconds = 301\n[staff.roles]", "staff.skew_seconds: expected an integer from 0 to 300"},
      {"[staff.roles]", "idle_minutes = 0\n[staff.roles]", "staff.idle_minutes: expected an integer from 1 to 120"},
      {"[staff.roles]", "absolute_hours = 25\n[staff.roles]", "staff.absolute_hours: expected an integer from 1 to 24"},
      {"[staff.roles]", "roles_map = 1\n[staff.roles]", "unknown key \"roles_map\" in [staff]"},
  };
  for (const auto& [from, to, want] : bad) {
    INFO(to);
    const std::string error = ErrorOf(kValid + Replace(kStaff, from, to));
    CHECK(error.find(want) != std::string::npos);
    CHECK(error.find("CanarySecret") == std::string::npos);
  }
  CHECK(ErrorOf(kValid + Replace(kStaff, "issuer = \"https://login.school.example/realms/staf\"\n", ""))
            .find("missing required key staff.issuer") != std::string::npos);
}
