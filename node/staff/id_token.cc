#include "node/staff/id_token.h"

#include <cjose/cjose.h>
#include <sodium.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "base/canonical.h"
#include "base/encoding.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"

namespace casenode::node::staff {

using Json = nlohmann::json;

struct KeySet::Key {
  std::string kid;
  std::string alg;  // the JWK's own "alg", or ""
  cjose_jwk_kty_t kty = CJOSE_JWK_KTY_RSA;
  cjose_jwk_t* jwk = nullptr;
  ~Key() {
    if (jwk != nullptr) cjose_jwk_release(jwk);
  }
};

namespace {

absl::Status Refused(Reason reason, std::string_view message) { return Error(reason, StrCat("id_token: ", message)); }

// The key type (and curve) each allowed algorithm needs.
cjose_jwk_kty_t KtyFor(std::string_view alg) { return alg == "ES256" ? CJOSE_JWK_KTY_EC : CJOSE_JWK_KTY_RSA; }

bool KeyFits(const KeySet::Key& key, std::string_view alg) {
  if (key.kty != KtyFor(alg) || (!key.alg.empty() && key.alg != alg)) return false;
  if (key.kty == CJOSE_JWK_KTY_EC) {
    cjose_err err;
    return cjose_jwk_EC_get_curve(key.jwk, &err) == CJOSE_JWK_EC_P_256;
  }
  cjose_err err;
  return cjose_jwk_get_keysize(key.jwk, &err) >= 2048;  // RFC 7518 §3.3: at least 2048 bits
}

absl::StatusOr<Json> DecodeJsonSegment(std::string_view segment, std::string_view what) {
  absl::StatusOr<Bytes> raw = Base64UrlDecode(segment, what);
  if (!raw.ok()) return Refused(Reason::kStaffTokenMalformed, StrCat("the ", what, " is not base64url"));
  Json j = ParseIssuerJson(std::string_view(reinterpret_cast<const char*>(raw->data()), raw->size()));
  if (!j.is_object()) return Refused(Reason::kStaffTokenMalformed, StrCat("the ", what, " is not a JSON object"));
  return j;
}

// A NumericDate claim (RFC 7519 §2): seconds since the epoch, within bounds.
std::optional<SystemTime> TimeClaim(const Json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  if (!(v >= 0 && v < 253402300800.0)) return std::nullopt;  // before 10000-01-01
  return SystemTime(std::chrono::seconds(static_cast<int64_t>(v)));
}

std::string StringClaim(const Json& claims, const char* name) {
  auto it = claims.find(name);
  return it != claims.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

bool SupportedAlgorithm(std::string_view alg) { return alg == "RS256" || alg == "PS256" || alg == "ES256"; }

Json ParseIssuerJson(std::string_view text) {
  if (!JsonDepthWithin(text)) return Json(Json::value_t::discarded);
  return Json::parse(text, nullptr, /*allow_exceptions=*/false);
}

bool JsonDepthWithin(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char ch : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (ch == '\\') {
        escaped = true;
      } else if (ch == '"') {
        in_string = false;
      }
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '{' || ch == '[') {
      if (++depth > max_depth) return false;
    } else if (ch == '}' || ch == ']') {
      --depth;
    }
  }
  return true;
}

absl::StatusOr<KeySet> KeySet::Parse(std::string_view jwks_json) {
  if (jwks_json.size() > kMaxJwksBytes) {
    return Error(Reason::kStaffTokenMalformed, StrCat("jwks: larger than ", kMaxJwksBytes, " bytes"));
  }
  const Json doc = ParseIssuerJson(jwks_json);
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return Error(Reason::kStaffTokenMalformed, "jwks: expected an object with a \"keys\" array");
  }
  if (doc["keys"].size() > static_cast<size_t>(kMaxJwksKeys)) {
    return Error(Reason::kStaffTokenMalformed, StrCat("jwks: more than ", kMaxJwksKeys, " keys"));
  }
  KeySet set;
  for (const Json& k : doc["keys"]) {
    if (!k.is_object()) continue;
    for (const char* secret : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
      if (k.contains(secret)) {
        return Error(Reason::kStaffTokenMalformed, "jwks: holds private key material; the issuer's key has leaked");
      }
    }
    if (k.contains("use") && k["use"] != "sig") continue;
    if (k.contains("key_ops") && !(k["key_ops"].is_array() && std::find(k["key_ops"].begin(), k["key_ops"].end(),
                                                                          Json("verify")) != k["key_ops"].end())) {
      continue;
    }
    const std::string kty = StringClaim(k, "kty");
    if (kty != "RSA" && kty != "EC") continue;
    // libcjose gets a fresh JWK of the public members alone, each checked in
    // strict base64url first: its own decoder asserts (aborts) on some
    // malformed input.
    Json clean = {{"kty", kty}};
    bool usable = kty == "RSA" || StringClaim(k, "crv") == "P-256";
    if (kty == "EC") clean["crv"] = "P-256";
    for (const char* member : kty == "RSA" ? std::vector<const char*>{"n", "e"} : std::vector<const char*>{"x", "y"}) {
      const std::string value = StringClaim(k, member);
      usable = usable && !value.empty() && Base64UrlDecode(value, member).ok();
      clean[member] = value;
    }
    if (!usable) continue;
    const std::string text = clean.dump();
    cjose_err err;
    cjose_jwk_t* jwk = cjose_jwk_import(text.data(), text.size(), &err);
    if (jwk == nullptr) continue;  // not a key libcjose can use: never one to verify with
    auto key = std::make_shared<Key>();
    key->jwk = jwk;
    key->kty = cjose_jwk_get_kty(jwk, &err);
    key->kid = StringClaim(k, "kid");
    key->alg = StringClaim(k, "alg");
    set.keys_.push_back(std::move(key));
  }
  return set;
}

bool KeySet::Has(std::string_view kid) const {
  return std::any_of(keys_.begin(), keys_.end(), [&](const auto& k) { return k->kid == kid; });
}

// The key to verify a token of `alg` with: the one named `kid` that fits the
// algorithm, or without a kid the issuer's only key that fits. Exactly one.
absl::StatusOr<const KeySet::Key*> FindKey(const KeySet& keys, std::string_view kid, std::string_view alg) {
  const KeySet::Key* found = nullptr;
  int named = 0, fitting = 0;
  for (const auto& k : keys.keys_) {
    if (!kid.empty() && k->kid != kid) continue;
    ++named;
    if (KeyFits(*k, alg)) {
      found = k.get();
      ++fitting;
    }
  }
  if (named == 0) return Refused(Reason::kStaffTokenUnknownKey, "signed with a key the issuer does not list");
  if (fitting == 0) return Refused(Reason::kStaffTokenAlgorithm, "its key is not of the type its algorithm needs");
  if (fitting > 1) {
    return Refused(Reason::kStaffTokenUnknownKey,
                   kid.empty() ? "names no key (kid), and the issuer lists several" : "names a kid the issuer lists twice");
  }
  return found;
}

// The signature's length for `alg` with `key`: 64 bytes for ES256 (r || s),
// the modulus's for RSA. Any other length is refused before libcjose, which
// would take some (a padded r and s) as the same signature.
size_t SignatureBytes(const KeySet::Key& key, std::string_view alg) {
  if (alg == "ES256") return 64;
  cjose_err err;
  return (cjose_jwk_get_keysize(key.jwk, &err) + 7) / 8;
}

absl::StatusOr<IdClaims> ValidateIdToken(std::string_view token, const KeySet& keys, const Expectations& expect,
                                         const std::vector<std::string>& list_claims) {
  if (expect.issuer.empty() || expect.client_id.empty()) {
    return Refused(Reason::kStaffTokenIssuer, "no issuer or client id is configured to check it against");
  }
  if (token.size() > kMaxIdTokenBytes) {
    return Refused(Reason::kStaffTokenMalformed, StrCat("larger than ", kMaxIdTokenBytes, " bytes"));
  }
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Refused(Reason::kStaffTokenMalformed, "not a JWS in compact serialisation (three parts)");
  }
  // 1. The header, read here: the algorithm is decided before any key is used.
  ASSIGN_OR_RETURN(Json header, DecodeJsonSegment(token.substr(0, dot1), "header"));
  if (!header.contains("alg") || !header["alg"].is_string()) {
    return Refused(Reason::kStaffTokenAlgorithm, "the header names no algorithm");
  }
  const std::string alg = header["alg"].get<std::string>();
  if (!SupportedAlgorithm(alg) || !expect.algorithms.contains(alg)) {
    return Refused(Reason::kStaffTokenAlgorithm, "signed with an algorithm this node does not allow");
  }
  if (header.contains("crit")) return Refused(Reason::kStaffTokenMalformed, "has critical header parameters");
  std::string kid;
  if (header.contains("kid")) {
    if (!header["kid"].is_string() || header["kid"].get<std::string>().empty()) {
      return Refused(Reason::kStaffTokenMalformed, "kid: expected a non-empty string");
    }
    kid = header["kid"].get<std::string>();
  }
  ASSIGN_OR_RETURN(const KeySet::Key* key, FindKey(keys, kid, alg));
  // Payload and signature in strict base64url too: one spelling per token.
  if (!Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1), "payload").ok()) {
    return Refused(Reason::kStaffTokenMalformed, "the payload is not base64url");
  }
  absl::StatusOr<Bytes> signature = Base64UrlDecode(token.substr(dot2 + 1), "signature");
  if (!signature.ok()) return Refused(Reason::kStaffTokenMalformed, "the signature is not base64url");
  if (signature->size() != SignatureBytes(*key, alg)) {
    return Refused(Reason::kStaffTokenSignature, "the signature has the wrong length for its algorithm and key");
  }

  // 2. The signature, by libcjose.
  cjose_err err;
  cjose_jws_t* jws = cjose_jws_import(token.data(), token.size(), &err);
  if (jws == nullptr) return Refused(Reason::kStaffTokenMalformed, "not a JWS libcjose can read");
  const bool verified = cjose_jws_verify(jws, key->jwk, &err);
  uint8_t* plain = nullptr;
  size_t plain_len = 0;
  const bool got = verified && cjose_jws_get_plaintext(jws, &plain, &plain_len, &err);
  std::string payload = got ? std::string(reinterpret_cast<const char*>(plain), plain_len) : std::string();
  cjose_jws_release(jws);
  if (!verified) return Refused(Reason::kStaffTokenSignature, "the signature does not verify with the issuer's key");
  if (!got) return Refused(Reason::kStaffTokenMalformed, "no payload");

  // 3. The claims (Core §3.1.3.7), now that they are the issuer's.
  const Json claims = ParseIssuerJson(payload);
  if (!claims.is_object()) return Refused(Reason::kStaffTokenMalformed, "the claims are not a JSON object");
  if (StringClaim(claims, "iss") != expect.issuer) {
    return Refused(Reason::kStaffTokenIssuer, "issued by another issuer than this node's");
  }
  // The client must be the only audience; `azp`, if present, the client too.
  const auto aud = claims.find("aud");
  const bool aud_ok = aud != claims.end() &&
                      ((aud->is_string() && *aud == expect.client_id) ||
                       (aud->is_array() && aud->size() == 1 && (*aud)[0] == expect.client_id));
  if (!aud_ok) return Refused(Reason::kStaffTokenAudience, "not issued for this node alone (aud)");
  if (claims.contains("azp") && claims["azp"] != expect.client_id) {
    return Refused(Reason::kStaffTokenAudience, "authorised for another party (azp)");
  }
  const std::chrono::seconds skew = std::min(expect.skew, kMaxSkew);
  const std::optional<SystemTime> exp = TimeClaim(claims, "exp"), iat = TimeClaim(claims, "iat");
  if (!exp || !iat) return Refused(Reason::kStaffTokenMalformed, "exp and iat: expected NumericDates");
  if (expect.now >= *exp + skew) return Refused(Reason::kStaffTokenExpired, "expired (exp)");
  if (expect.now - *iat > kMaxTokenAge + skew) return Refused(Reason::kStaffTokenExpired, "issued too long ago (iat)");
  if (*iat > expect.now + skew) return Refused(Reason::kStaffTokenNotYetValid, "issued in the future (iat)");
  if (claims.contains("nbf")) {
    const std::optional<SystemTime> nbf = TimeClaim(claims, "nbf");
    if (!nbf) return Refused(Reason::kStaffTokenMalformed, "nbf: expected a NumericDate");
    if (*nbf > expect.now + skew) return Refused(Reason::kStaffTokenNotYetValid, "not valid yet (nbf)");
  }
  const std::string nonce = StringClaim(claims, "nonce");
  if (expect.nonce.empty() || nonce.size() != expect.nonce.size() ||
      sodium_memcmp(nonce.data(), expect.nonce.data(), nonce.size()) != 0) {
    return Refused(Reason::kStaffTokenNonce, "not the answer to this sign-in (nonce)");
  }
  IdClaims out;
  out.issuer = expect.issuer;
  out.subject = StringClaim(claims, "sub");
  if (out.subject.empty() || out.subject.size() > 255) {
    return Refused(Reason::kStaffTokenMalformed, "sub: expected 1 to 255 characters");
  }
  out.issued_at = *iat;
  out.expires_at = *exp;
  out.auth_time = TimeClaim(claims, "auth_time");
  if (out.auth_time && *out.auth_time > expect.now + skew) {
    return Refused(Reason::kStaffTokenNotYetValid, "signed in in the future (auth_time)");
  }
  if (expect.max_age) {
    if (!out.auth_time) return Refused(Reason::kStaffReauthRequired, "says not when the person signed in (auth_time)");
    if (expect.now - *out.auth_time > *expect.max_age + skew) {
      return Refused(Reason::kStaffReauthRequired, "the person signed in too long ago (auth_time)");
    }
  }
  out.name = StringClaim(claims, "name");
  out.phone = StringClaim(claims, "phone_number");
  out.email = StringClaim(claims, "email");
  for (const std::string& name : list_claims) {
    auto it = claims.find(name);
    if (it == claims.end()) continue;
    std::vector<std::string>& values = out.lists[name];
    if (it->is_string()) values.push_back(it->get<std::string>());
    if (it->is_array()) {
      for (const Json& v : *it) {
        if (v.is_string()) values.push_back(v.get<std::string>());
      }
    }
  }
  return out;
}

std::vector<std::string> MapRoles(const IdClaims& claims, std::string_view claim,
                                  const std::map<std::string, std::string, std::less<>>& mapping) {
  std::set<std::string> roles;
  if (auto it = claims.lists.find(claim); it != claims.lists.end()) {
    for (const std::string& v : it->second) {
      if (auto m = mapping.find(v); m != mapping.end()) roles.insert(m->second);
    }
  }
  return {roles.begin(), roles.end()};
}

std::string StaffIdOf(const keys::SecretBytes& key, std::string_view issuer, std::string_view subject) {
  CanonicalWriter w("casenode/staff-id/v1");
  w.String(issuer).String(subject);
  const std::string bytes = std::move(w).bytes();
  uint8_t id[16];
  crypto_generichash(id, sizeof id, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), key.data(),
                     key.size());
  return HexEncode(id);
}

}  // namespace casenode::node::staff
