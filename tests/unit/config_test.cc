#include <catch2/catch.hpp>

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
