// Staff sign-in's pure room: every way an ID token can be wrong is refused
// with its own reason, and a good one yields the person's claims, roles and
// staff id. Tokens are signed here with libcjose, as an issuer would; the
// attacks are built by hand.
#include <cjose/cjose.h>
#include <sodium.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "base/reason.h"
#include "node/staff/id_token.h"

using namespace casenode;
using namespace casenode::node::staff;
using Json = nlohmann::json;

namespace {

const std::string kIssuer = "https://idp.school.example";
const std::string kClient = "casenode-school";
const SystemTime kNow = SystemTime(std::chrono::seconds(1796000000));

int64_t Secs(SystemTime t) { return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(); }

std::string B64(std::string_view s) {
  return Base64UrlEncode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

// An issuer's key: its private JWK (to sign) and its public JWK set entry.
struct IssuerKey {
  cjose_jwk_t* jwk = nullptr;
  std::string kid;
  IssuerKey(cjose_jwk_t* k, std::string id) : jwk(k), kid(std::move(id)) {
    cjose_err err;
    REQUIRE(jwk != nullptr);
    REQUIRE(cjose_jwk_set_kid(jwk, kid.data(), kid.size(), &err));
  }
  ~IssuerKey() { cjose_jwk_release(jwk); }
  static IssuerKey Rsa(std::string kid) {
    static const uint8_t e[] = {1, 0, 1};
    cjose_err err;
    return IssuerKey(cjose_jwk_create_RSA_random(2048, e, sizeof e, &err), std::move(kid));
  }
  static IssuerKey Ec(std::string kid) {
    cjose_err err;
    return IssuerKey(cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err), std::move(kid));
  }
  IssuerKey(IssuerKey&& o) noexcept : jwk(o.jwk), kid(std::move(o.kid)) { o.jwk = nullptr; }
  Json Public() const {
    cjose_err err;
    char* text = cjose_jwk_to_json(jwk, false, &err);
    Json j = Json::parse(text);
    free(text);
    return j;
  }
  // Signs `claims` with `alg` and a header naming this key (or no kid).
  std::string Sign(const Json& claims, const std::string& alg = "RS256", bool with_kid = true) const {
    cjose_err err;
    cjose_header_t* h = cjose_header_new(&err);
    cjose_header_set(h, CJOSE_HDR_ALG, alg.c_str(), &err);
    if (with_kid) cjose_header_set(h, CJOSE_HDR_KID, kid.c_str(), &err);
    const std::string payload = claims.dump();
    cjose_jws_t* jws = cjose_jws_sign(jwk, h, reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), &err);
    REQUIRE(jws != nullptr);
    const char* compact = nullptr;
    REQUIRE(cjose_jws_export(jws, &compact, &err));
    std::string out(compact);
    cjose_jws_release(jws);
    cjose_header_release(h);
    return out;
  }
};

KeySet SetOf(const std::vector<const IssuerKey*>& keys) {
  Json set = {{"keys", Json::array()}};
  for (const IssuerKey* k : keys) set["keys"].push_back(k->Public());
  auto parsed = KeySet::Parse(set.dump());
  REQUIRE(parsed.ok());
  return *parsed;
}

Json GoodClaims() {
  return {{"iss", kIssuer},
          {"sub", "248289761001"},
          {"aud", kClient},
          {"exp", Secs(kNow) + 300},
          {"iat", Secs(kNow) - 5},
          {"auth_time", Secs(kNow) - 10},
          {"nonce", "n-0S6_WzA2Mj"},
          {"name", "M. de Boer"},
          {"phone_number", "036-7654321"},
          {"groups", {"medewerkers", "zorgteam", "leerlingbegeleiding"}}};
}

Expectations Expect() {
  Expectations e;
  e.issuer = kIssuer;
  e.client_id = kClient;
  e.algorithms = {"RS256", "PS256", "ES256"};
  e.nonce = "n-0S6_WzA2Mj";
  e.now = kNow;
  return e;
}

Reason ReasonFor(const std::string& token, const KeySet& keys, const Expectations& e = Expect()) {
  auto r = ValidateIdToken(token, keys, e);
  if (r.ok()) return Reason::kNone;
  CHECK(r.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(std::string(r.status().message()).starts_with("id_token: "));
  return ReasonOf(r.status());
}

}  // namespace

TEST_CASE("a good ID token gives the person's claims, roles and staff id", "[staff]") {
  const IssuerKey rsa = IssuerKey::Rsa("rsa-1"), ec = IssuerKey::Ec("ec-1");
  const KeySet keys = SetOf({&rsa, &ec});
  REQUIRE(keys.size() == 2);
  for (const auto& [alg, key] : std::vector<std::pair<std::string, const IssuerKey*>>{
           {"RS256", &rsa}, {"PS256", &rsa}, {"ES256", &ec}}) {
    INFO(alg);
    auto claims = ValidateIdToken(key->Sign(GoodClaims(), alg), keys, Expect(), {"groups"});
    REQUIRE(claims.ok());
    CHECK(claims->subject == "248289761001");
    CHECK(claims->name == "M. de Boer");
    CHECK(claims->phone == "036-7654321");
    CHECK(claims->lists.at("groups").size() == 3);
    const auto roles = MapRoles(*claims, "groups", {{"zorgteam", "zorgcoordinator"}, {"mentoren", "mentor"}});
    CHECK(roles == std::vector<std::string>{"zorgcoordinator"});
  }
  // An issuer with one key of the type may leave out the kid.
  const KeySet only_rsa = SetOf({&rsa});
  CHECK(ReasonFor(rsa.Sign(GoodClaims(), "RS256", /*with_kid=*/false), only_rsa) == Reason::kNone);
  // aud as a one-element array, and azp naming the client, are the same.
  Json claims = GoodClaims();
  claims["aud"] = {kClient};
  claims["azp"] = kClient;
  CHECK(ReasonFor(rsa.Sign(claims), keys) == Reason::kNone);
}

TEST_CASE("ID token attacks are refused, each with its reason", "[staff]") {
  const IssuerKey rsa = IssuerKey::Rsa("rsa-1"), other = IssuerKey::Rsa("rsa-1");  // same kid, another key
  const IssuerKey ec = IssuerKey::Ec("ec-1");
  const KeySet keys = SetOf({&rsa, &ec});
  const std::string good = rsa.Sign(GoodClaims());
  const std::string header = good.substr(0, good.find('.'));
  const std::string payload = B64(GoodClaims().dump());

  // alg "none", with and without a signature part.
  const std::string none = B64(R"({"alg":"none","kid":"rsa-1"})");
  CHECK(ReasonFor(none + "." + payload + ".", keys) == Reason::kStaffTokenAlgorithm);
  CHECK(ReasonFor(none + "." + payload + "." + good.substr(good.rfind('.') + 1), keys) == Reason::kStaffTokenAlgorithm);
  // HS256 "signed" with the issuer's public key as the HMAC secret.
  {
    const std::string hs = B64(R"({"alg":"HS256","kid":"rsa-1"})") + "." + payload;
    const std::string secret = rsa.Public().dump();
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, reinterpret_cast<const uint8_t*>(secret.data()), secret.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const uint8_t*>(hs.data()), hs.size());
    crypto_auth_hmacsha256_final(&st, mac);
    CHECK(ReasonFor(hs + "." + Base64UrlEncode(mac), keys) == Reason::kStaffTokenAlgorithm);
  }
  // An allowed algorithm the node did not configure.
  Expectations rs_only = Expect();
  rs_only.algorithms = {"RS256"};
  CHECK(ReasonFor(ec.Sign(GoodClaims(), "ES256"), keys, rs_only) == Reason::kStaffTokenAlgorithm);
  // ES256 in the header, but the kid of an RSA key.
  {
    const std::string es = ec.Sign(GoodClaims(), "ES256");
    const std::string swapped = B64(R"({"alg":"ES256","kid":"rsa-1"})") + es.substr(es.find('.'));
    CHECK(ReasonFor(swapped, keys) == Reason::kStaffTokenAlgorithm);
  }
  // Signed by another key under a kid the issuer uses: the signature fails.
  CHECK(ReasonFor(other.Sign(GoodClaims()), keys) == Reason::kStaffTokenSignature);
  // A claim edited after signing (the role claim, here).
  {
    Json edited = GoodClaims();
    edited["groups"] = {"zorgteam", "beheerders"};
    const std::string forged = header + "." + B64(edited.dump()) + good.substr(good.rfind('.'));
    CHECK(ReasonFor(forged, keys) == Reason::kStaffTokenSignature);
  }
  // A kid the issuer never listed; no kid when it lists several of the type.
  const IssuerKey stranger = IssuerKey::Rsa("rsa-9");
  CHECK(ReasonFor(stranger.Sign(GoodClaims()), keys) == Reason::kStaffTokenUnknownKey);
  const IssuerKey rsa2 = IssuerKey::Rsa("rsa-2");
  CHECK(ReasonFor(rsa.Sign(GoodClaims(), "RS256", false), SetOf({&rsa, &rsa2})) == Reason::kStaffTokenUnknownKey);

  // Claims, each wrong in one way.
  const std::vector<std::pair<std::function<void(Json&)>, Reason>> wrong = {
      {[](Json& c) { c["iss"] = "https://idp.evil.example"; }, Reason::kStaffTokenIssuer},
      {[](Json& c) { c["iss"] = kIssuer + "/"; }, Reason::kStaffTokenIssuer},
      {[](Json& c) { c.erase("iss"); }, Reason::kStaffTokenIssuer},
      {[](Json& c) { c["aud"] = "another-client"; }, Reason::kStaffTokenAudience},
      {[](Json& c) { c["aud"] = {kClient, "another-client"}; }, Reason::kStaffTokenAudience},
      {[](Json& c) { c["azp"] = "another-client"; }, Reason::kStaffTokenAudience},
      {[](Json& c) { c.erase("aud"); }, Reason::kStaffTokenAudience},
      {[](Json& c) { c["exp"] = Secs(kNow) - 61; }, Reason::kStaffTokenExpired},
      {[](Json& c) { c["iat"] = Secs(kNow) - 3600; }, Reason::kStaffTokenExpired},
      {[](Json& c) { c["iat"] = Secs(kNow) + 120; }, Reason::kStaffTokenNotYetValid},
      {[](Json& c) { c["nbf"] = Secs(kNow) + 120; }, Reason::kStaffTokenNotYetValid},
      {[](Json& c) { c["nbf"] = "soon"; }, Reason::kStaffTokenMalformed},
      {[](Json& c) { c["exp"] = "later"; }, Reason::kStaffTokenMalformed},
      {[](Json& c) { c.erase("iat"); }, Reason::kStaffTokenMalformed},
      {[](Json& c) { c["nonce"] = "n-replayed"; }, Reason::kStaffTokenNonce},
      {[](Json& c) { c.erase("nonce"); }, Reason::kStaffTokenNonce},
      {[](Json& c) { c["sub"] = ""; }, Reason::kStaffTokenMalformed},
      {[](Json& c) { c["sub"] = 42; }, Reason::kStaffTokenMalformed},
  };
  for (size_t i = 0; i < wrong.size(); ++i) {
    INFO("case " << i);
    Json c = GoodClaims();
    wrong[i].first(c);
    CHECK(ReasonFor(rsa.Sign(c), keys) == wrong[i].second);
  }
  // Within the skew, still good.
  Json late = GoodClaims();
  late["exp"] = Secs(kNow) - 30;
  CHECK(ReasonFor(rsa.Sign(late), keys) == Reason::kNone);
  // Re-authentication: auth_time must be recent when max_age is asked.
  Expectations fresh = Expect();
  fresh.max_age = std::chrono::seconds(0);
  CHECK(ReasonFor(good, keys, fresh) == Reason::kNone);  // 10 s ago, within the 60 s skew
  Json old_sign_in = GoodClaims();
  old_sign_in["auth_time"] = Secs(kNow) - 3600;
  CHECK(ReasonFor(rsa.Sign(old_sign_in), keys, fresh) == Reason::kStaffReauthRequired);
  old_sign_in.erase("auth_time");
  CHECK(ReasonFor(rsa.Sign(old_sign_in), keys, fresh) == Reason::kStaffReauthRequired);
  // No nonce expected is never "any nonce".
  Expectations no_nonce = Expect();
  no_nonce.nonce.clear();
  CHECK(ReasonFor(good, keys, no_nonce) == Reason::kStaffTokenNonce);

  // Not a JWS at all, or too large.
  for (const std::string& bad : {std::string(""), std::string("a.b"), std::string("a.b.c.d"), "!!." + payload + ".x",
                                 B64("[1,2]") + "." + payload + ".x", std::string(kMaxIdTokenBytes + 1, 'a')}) {
    CHECK(ReasonFor(bad, keys) == Reason::kStaffTokenMalformed);
  }
  CHECK(ReasonFor(B64(R"({"alg":"RS256","kid":"rsa-1","crit":["exp"]})") + good.substr(good.find('.')), keys) ==
        Reason::kStaffTokenMalformed);
}

TEST_CASE("a JWK set keeps only signing keys, within bounds", "[staff]") {
  const IssuerKey rsa = IssuerKey::Rsa("rsa-1");
  Json enc = rsa.Public();
  enc["use"] = "enc";
  enc["kid"] = "enc-1";
  Json set = {{"keys", {rsa.Public(), enc, {{"kty", "OKP"}, {"crv", "Ed25519"}, {"kid", "ed"}}, {{"kty", "RSA"}}}}};
  auto keys = KeySet::Parse(set.dump());
  REQUIRE(keys.ok());
  CHECK(keys->size() == 1);
  CHECK(keys->Has("rsa-1"));
  CHECK_FALSE(keys->Has("enc-1"));
  CHECK_FALSE(keys->Has("ed"));
  // A symmetric key in a published set is a secret no longer: the set is refused.
  Json hmac = {{"keys", {rsa.Public(), {{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}}}}};
  CHECK(ReasonOf(KeySet::Parse(hmac.dump()).status()) == Reason::kStaffTokenMalformed);
  for (const std::string& bad : {std::string("[]"), std::string("{}"), std::string(R"({"keys":{}})"),
                                 std::string("not json"), std::string(kMaxJwksBytes + 1, ' ')}) {
    INFO(bad.substr(0, 20));
    CHECK(ReasonOf(KeySet::Parse(bad).status()) == Reason::kStaffTokenMalformed);
  }
  Json many = {{"keys", Json::array()}};
  for (int i = 0; i <= kMaxJwksKeys; ++i) many["keys"].push_back(rsa.Public());
  CHECK(ReasonOf(KeySet::Parse(many.dump()).status()) == Reason::kStaffTokenMalformed);
}

// Pinned with an independent computation (Python hashlib.blake2b, key =
// bytes 1..32, digest_size = 16, over u32be-length-prefixed domain, issuer
// and subject).
TEST_CASE("a staff id is a keyed hash of issuer and subject (golden)", "[staff][golden]") {
  keys::SecretBytes key(32);
  for (size_t i = 0; i < 32; ++i) key.data()[i] = static_cast<uint8_t>(i + 1);
  CHECK(StaffIdOf(key, kIssuer, "248289761001") == "7c41d19bb07f873c02537dc62d9dad4d");
  // Issuer and subject cannot run into each other; another key, another id.
  CHECK(StaffIdOf(key, kIssuer + "2", "48289761001") != StaffIdOf(key, kIssuer, "248289761001"));
  keys::SecretBytes other(32);
  CHECK(StaffIdOf(other, kIssuer, "248289761001") != StaffIdOf(key, kIssuer, "248289761001"));
}

// Found by review: inputs libcjose would take in several spellings, or that
// reached code that aborts or throws.
TEST_CASE("an ID token has one spelling, and odd inputs are refused cleanly", "[staff]") {
  const IssuerKey rsa = IssuerKey::Rsa("rsa-1"), ec = IssuerKey::Ec("ec-1");
  const KeySet keys = SetOf({&rsa, &ec});
  const std::string es = ec.Sign(GoodClaims(), "ES256");
  REQUIRE(ReasonFor(es, keys) == Reason::kNone);
  const size_t d1 = es.find('.'), d2 = es.rfind('.');
  const std::string head = es.substr(0, d1), body = es.substr(d1 + 1, d2 - d1 - 1), sig = es.substr(d2 + 1);
  // '=' in the payload made libcjose's decoder assert.
  CHECK(ReasonFor(head + ".A=." + sig, keys) == Reason::kStaffTokenMalformed);
  // Trailing junk after '=', and unused bits set in the last character.
  CHECK(ReasonFor(es + "=junk!", keys) == Reason::kStaffTokenMalformed);
  std::string bits = es;
  bits.back() = bits.back() == 'A' ? 'B' : 'A';  // 64 bytes: 86 characters, the last holds 2 unused bits
  CHECK(ReasonFor(bits, keys) != Reason::kNone);
  // r and s each padded with a zero byte: 66 bytes that libcjose would verify.
  {
    auto raw = Base64UrlDecode(sig, "sig");
    REQUIRE(raw.ok());
    REQUIRE(raw->size() == 64);
    Bytes padded = {0};
    padded.insert(padded.end(), raw->begin(), raw->begin() + 32);
    padded.push_back(0);
    padded.insert(padded.end(), raw->begin() + 32, raw->end());
    CHECK(ReasonFor(head + "." + body + "." + Base64UrlEncode(padded), keys) == Reason::kStaffTokenSignature);
    Bytes longer = *raw;
    longer.push_back(0);
    CHECK(ReasonFor(head + "." + body + "." + Base64UrlEncode(longer), keys) == Reason::kStaffTokenSignature);
  }
  // An empty kid is no kid at all.
  CHECK(ReasonFor(B64(R"({"alg":"ES256","kid":""})") + es.substr(d1), keys) == Reason::kStaffTokenMalformed);
  // auth_time in the future.
  Json future = GoodClaims();
  future["auth_time"] = Secs(kNow) + 3600;
  CHECK(ReasonFor(rsa.Sign(future), keys) == Reason::kStaffTokenNotYetValid);
  // Nothing configured to check against is never "anything".
  Expectations empty = Expect();
  empty.issuer.clear();
  Json no_iss = GoodClaims();
  no_iss.erase("iss");
  CHECK(ReasonFor(rsa.Sign(no_iss), keys, empty) == Reason::kStaffTokenIssuer);
  Expectations no_client = Expect();
  no_client.client_id.clear();
  CHECK(ReasonFor(rsa.Sign(GoodClaims()), keys, no_client) == Reason::kStaffTokenIssuer);
  // Claims nested deeper than anything an ID token needs.
  Json deep = GoodClaims();
  Json nest = 1;
  for (int i = 0; i < 20; ++i) nest = Json::array({nest});
  deep["groups"] = nest;
  CHECK(ReasonFor(rsa.Sign(deep), keys) == Reason::kStaffTokenMalformed);
}

TEST_CASE("a JWK set binds each key to its type, its own alg and its use, and a private key refuses the set", "[staff]") {
  const IssuerKey rsa = IssuerKey::Rsa("k1"), ec = IssuerKey::Ec("k1");  // one kid, two keys of other types
  // The kid names two keys; the one that fits the algorithm is used.
  const KeySet both = SetOf({&rsa, &ec});
  CHECK(ReasonFor(ec.Sign(GoodClaims(), "ES256"), both) == Reason::kNone);
  CHECK(ReasonFor(rsa.Sign(GoodClaims(), "RS256"), both) == Reason::kNone);
  const IssuerKey rsa_again = IssuerKey::Rsa("k1");
  CHECK(ReasonFor(rsa.Sign(GoodClaims()), SetOf({&rsa, &rsa_again})) == Reason::kStaffTokenUnknownKey);
  // A key whose own alg is RS256 verifies no PS256 token.
  Json bound = rsa.Public();
  bound["alg"] = "RS256";
  const KeySet rs_only = *KeySet::Parse(Json{{"keys", {bound}}}.dump());
  CHECK(ReasonFor(rsa.Sign(GoodClaims(), "RS256"), rs_only) == Reason::kNone);
  CHECK(ReasonFor(rsa.Sign(GoodClaims(), "PS256"), rs_only) == Reason::kStaffTokenAlgorithm);
  // key_ops without "verify": not a signing key.
  Json ops = rsa.Public();
  ops["key_ops"] = {"encrypt"};
  CHECK(KeySet::Parse(Json{{"keys", {ops}}}.dump())->size() == 0);
  // A published private key: the whole set is refused.
  cjose_err err;
  char* priv = cjose_jwk_to_json(rsa.jwk, true, &err);
  const Json private_jwk = Json::parse(priv);
  free(priv);
  CHECK(ReasonOf(KeySet::Parse(Json{{"keys", {private_jwk}}}.dump()).status()) == Reason::kStaffTokenMalformed);
  // Members of the wrong type, and nesting deeper than a key needs.
  CHECK(KeySet::Parse(R"({"keys":[{"kty":1},{"kty":"RSA","kid":7}]})").ok());
  std::string deep = R"({"keys":[{"kty":"RSA","x":)" + std::string(40, '[') + std::string(40, ']') + "}]}";
  CHECK(ReasonOf(KeySet::Parse(deep).status()) == Reason::kStaffTokenMalformed);
  CHECK(JsonDepthWithin(R"({"a":"[[[[[[[[[[[[[[[[[[[[[["})"));  // brackets in strings do not count
  // Found by the fuzzer: a member libcjose's own decoder would assert on.
  CHECK(KeySet::Parse(R"({"keys":[{"kty":"EC","crv":"P-256","x":"f=3OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
                      R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1"}]})")
            ->size() == 0);
  Json padded = rsa.Public();
  padded["e"] = "AQAB==";
  CHECK(KeySet::Parse(Json{{"keys", {padded}}}.dump())->size() == 0);
}
