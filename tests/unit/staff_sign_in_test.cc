// The authorization code flow's pure steps: discovery checked against the
// configured issuer, PKCE S256 (RFC 7636 appendix B), the authorization URL,
// and the token endpoint's answer.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "base/reason.h"
#include "node/staff/sign_in.h"

using namespace casenode;
using namespace casenode::node::staff;
using Json = nlohmann::json;

namespace {

const std::string kIssuer = "https://login.gemeente.example/realms/staf";

Json GoodDiscovery() {
  return {{"issuer", kIssuer},
          {"authorization_endpoint", kIssuer + "/auth"},
          {"token_endpoint", kIssuer + "/token"},
          {"jwks_uri", kIssuer + "/certs"},
          {"device_authorization_endpoint", kIssuer + "/device"},
          {"response_types_supported", {"code", "id_token"}},
          {"code_challenge_methods_supported", {"plain", "S256"}},
          {"id_token_signing_alg_values_supported", {"RS256", "HS256", "none"}}};
}

const std::set<std::string> kAllowed = {"RS256", "ES256"};

}  // namespace

TEST_CASE("PKCE S256 follows RFC 7636, and each sign-in gets fresh secrets", "[staff]") {
  CHECK(CodeChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  const PendingSignIn a = NewSignIn(), b = NewSignIn();
  for (const std::string* s : {&a.state, &a.nonce, &a.code_verifier}) {
    CHECK(s->size() == 43);  // 32 random bytes in base64url
    CHECK(s->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
  }
  CHECK(std::set<std::string>{a.state, a.nonce, a.code_verifier, b.state, b.nonce, b.code_verifier}.size() == 6);
}

TEST_CASE("discovery is read only for the configured issuer, over https, with code flow, S256 and a pinned algorithm",
          "[staff]") {
  auto d = ParseDiscovery(GoodDiscovery().dump(), kIssuer, kAllowed);
  REQUIRE(d.ok());
  CHECK(d->token_endpoint == kIssuer + "/token");
  CHECK(d->device_authorization_endpoint == kIssuer + "/device");
  CHECK(d->algorithms == std::set<std::string>{"RS256"});  // HS256 and none are never taken

  const std::vector<std::tuple<std::function<void(Json&)>, Reason, std::string>> wrong = {
      {[](Json& j) { j["issuer"] = kIssuer + "/"; }, Reason::kStaffTokenIssuer, "issuer"},
      {[](Json& j) { j.erase("issuer"); }, Reason::kStaffTokenIssuer, "issuer"},
      {[](Json& j) { j["token_endpoint"] = "http://login.gemeente.example/token"; }, Reason::kStaffTokenMalformed,
       "token_endpoint"},
      {[](Json& j) { j["jwks_uri"] = "certs"; }, Reason::kStaffTokenMalformed, "jwks_uri"},
      {[](Json& j) { j["authorization_endpoint"] = kIssuer + "/auth#x"; }, Reason::kStaffTokenMalformed,
       "authorization_endpoint"},
      {[](Json& j) { j.erase("token_endpoint"); }, Reason::kStaffTokenMalformed, "token_endpoint"},
      {[](Json& j) { j["response_types_supported"] = {"id_token"}; }, Reason::kStaffTokenMalformed, "code flow"},
      {[](Json& j) { j["code_challenge_methods_supported"] = {"plain"}; }, Reason::kStaffTokenMalformed, "S256"},
      {[](Json& j) { j.erase("code_challenge_methods_supported"); }, Reason::kStaffTokenMalformed, "S256"},
      {[](Json& j) { j["id_token_signing_alg_values_supported"] = {"HS256", "none"}; }, Reason::kStaffTokenAlgorithm,
       "id_token_signing_alg_values_supported"},
  };
  for (size_t i = 0; i < wrong.size(); ++i) {
    INFO("case " << i);
    Json j = GoodDiscovery();
    std::get<0>(wrong[i])(j);
    auto r = ParseDiscovery(j.dump(), kIssuer, kAllowed);
    REQUIRE_FALSE(r.ok());
    CHECK(ReasonOf(r.status()) == std::get<1>(wrong[i]));
    CHECK(std::string(r.status().message()).find(std::get<2>(wrong[i])) != std::string::npos);
  }
  // Hosts that are not what they seem, and an endpoint already carrying our parameters.
  for (const std::string& url : {std::string("https://user:pw@login.gemeente.example/auth"),
                                 std::string("https://login.gemeente.example\\@evil.example/x"),
                                 std::string("https:///auth"), std::string("https://login.gemeente.example")}) {
    INFO(url);
    Json j = GoodDiscovery();
    j["authorization_endpoint"] = url;
    CHECK(ReasonOf(ParseDiscovery(j.dump(), kIssuer, kAllowed).status()) == Reason::kStaffTokenMalformed);
  }
  Json clash = GoodDiscovery();
  clash["authorization_endpoint"] = kIssuer + "/auth?tenant=1&redirect_uri=https://evil.example";
  CHECK(ReasonOf(ParseDiscovery(clash.dump(), kIssuer, kAllowed).status()) == Reason::kStaffTokenMalformed);
  Json tenant = GoodDiscovery();
  tenant["authorization_endpoint"] = kIssuer + "/auth?tenant=1";
  CHECK(ParseDiscovery(tenant.dump(), kIssuer, kAllowed).ok());
  // Members of the wrong type are refused, never thrown.
  CHECK(ReasonOf(ParseDiscovery(R"({"issuer":1})", kIssuer, kAllowed).status()) == Reason::kStaffTokenIssuer);
  CHECK(ReasonOf(ParseDiscovery(GoodDiscovery().dump(), "", kAllowed).status()) == Reason::kStaffTokenIssuer);
  CHECK_FALSE(ParseDiscovery("[]", kIssuer, kAllowed).ok());
  CHECK_FALSE(ParseDiscovery(std::string(kMaxDiscoveryBytes + 1, ' '), kIssuer, kAllowed).ok());
  // A provider on loopback in tests may use http, when the node is told so.
  Json local = GoodDiscovery();
  local["issuer"] = "http://127.0.0.1:7400";
  local["token_endpoint"] = "http://127.0.0.1:7400/token";
  CHECK_FALSE(ParseDiscovery(local.dump(), "http://127.0.0.1:7400", kAllowed).ok());
  local["authorization_endpoint"] = "http://127.0.0.1:7400/auth";
  local["jwks_uri"] = "http://127.0.0.1:7400/jwks";
  local["device_authorization_endpoint"] = "http://127.0.0.1:7400/device";
  CHECK(ParseDiscovery(local.dump(), "http://127.0.0.1:7400", kAllowed, /*allow_http=*/true).ok());
}

TEST_CASE("the authorization URL carries every parameter, encoded", "[staff]") {
  const Discovery d = *ParseDiscovery(GoodDiscovery().dump(), kIssuer, kAllowed);
  const PendingSignIn s{"state-1", "nonce-1", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"};
  auto url = AuthorizationUrl(d, {"casenode-gemeente", "https://casenode.gemeente.example/aanmelden?x=1&y", ""}, s);
  REQUIRE(url.ok());
  CHECK(url->starts_with(kIssuer + "/auth?response_type=code&client_id=casenode-gemeente&redirect_uri=https"));
  CHECK(url->find("redirect_uri=https%3a%2f%2fcasenode.gemeente.example%2faanmelden%3fx%3d1%26y") != std::string::npos);
  CHECK(url->find("&scope=openid+profile&") != std::string::npos);
  CHECK(url->find("&state=state-1&nonce=nonce-1&") != std::string::npos);
  CHECK(url->find("&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256") !=
        std::string::npos);
  CHECK(url->find("prompt") == std::string::npos);
  auto again = AuthorizationUrl(d, {"casenode-gemeente", "https://x.example/cb", "phone groups", true}, s);
  REQUIRE(again.ok());
  CHECK(again->find("&scope=openid+profile+phone+groups&") != std::string::npos);
  CHECK(again->ends_with("&max_age=0&prompt=login"));
}

TEST_CASE("the token answer gives the ID token, or the issuer's error code and nothing it wrote", "[staff]") {
  auto ok = IdTokenOf(R"({"access_token":"a","token_type":"Bearer","expires_in":300,"id_token":"h.p.s"})");
  REQUIRE(ok.ok());
  CHECK(*ok == "h.p.s");
  auto refused = IdTokenOf(R"({"error":"invalid_grant","error_description":"code CanaryCode used twice"})");
  REQUIRE_FALSE(refused.ok());
  CHECK(std::string(refused.status().message()).find("invalid_grant") != std::string::npos);
  CHECK(std::string(refused.status().message()).find("Canary") == std::string::npos);
  auto odd = IdTokenOf(R"({"error":"<script>CanaryError"})");
  CHECK(std::string(odd.status().message()).find("Canary") == std::string::npos);
  CHECK(IdTokenOf(R"({"token_type":"BEARER","id_token":"h.p.s"})").ok());  // case-insensitive
  CHECK(ReasonOf(IdTokenOf(R"({"token_type":1,"id_token":"x"})").status()) == Reason::kStaffTokenMalformed);
  for (const std::string bad : {R"({"token_type":"Bearer"})", R"({"token_type":"mac","id_token":"h.p.s"})",
                                R"({"token_type":"Bearer","id_token":7})", "[]", "no json"}) {
    INFO(bad);
    CHECK(ReasonOf(IdTokenOf(bad).status()) == Reason::kStaffTokenMalformed);
  }
}
