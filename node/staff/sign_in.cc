#include "node/staff/sign_in.h"

#include <curl/curl.h>
#include <sodium.h>

#include <memory>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "base/encoding.h"
#include "base/reason.h"
#include "base/sha256.h"
#include "base/status.h"
#include "base/strings.h"
#include "node/staff/id_token.h"

namespace casenode::node::staff {
namespace {

using Json = nlohmann::json;

absl::Status Bad(std::string_view message) { return Error(Reason::kStaffTokenMalformed, message); }

std::string StringOf(const Json& doc, const char* field) {
  auto it = doc.find(field);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string Part(CURLU* u, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(u, part, &value, 0) != CURLUE_OK) return "";
  std::string out(value);
  curl_free(value);
  return out;
}

// The parameters the node sets in an authorization request; an endpoint
// that already carries one is refused (RFC 6749 §3.1: no parameter twice).
constexpr const char* kAuthorizationParams[] = {"response_type", "client_id", "redirect_uri", "scope", "state",
                                                "nonce", "code_challenge", "code_challenge_method", "max_age",
                                                "prompt"};

bool HasString(const Json& doc, const char* field, std::string_view value) {
  auto it = doc.find(field);
  if (it == doc.end() || !it->is_array()) return false;
  for (const Json& v : *it) {
    if (v.is_string() && v.get<std::string>() == value) return true;
  }
  return false;
}

// An absolute https URL (or http, if allowed) that libcurl parses to the
// same text: a host, no user info, no fragment, nothing curl would rewrite.
bool GoodUrl(std::string_view url, bool allow_http) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, std::string(url).c_str(), 0) != CURLUE_OK) return false;
  const std::string scheme = Part(u.get(), CURLUPART_SCHEME);
  if (!(scheme == "https" || (allow_http && scheme == "http"))) return false;
  if (Part(u.get(), CURLUPART_HOST).empty() || !Part(u.get(), CURLUPART_USER).empty() ||
      !Part(u.get(), CURLUPART_PASSWORD).empty() || !Part(u.get(), CURLUPART_FRAGMENT).empty()) {
    return false;
  }
  return Part(u.get(), CURLUPART_URL) == url;
}

std::string RandomToken() {
  uint8_t raw[32];
  randombytes_buf(raw, sizeof raw);
  return Base64UrlEncode(raw);
}

}  // namespace

absl::StatusOr<Discovery> ParseDiscovery(std::string_view json, std::string_view issuer,
                                         const std::set<std::string>& allowed, bool allow_http) {
  if (json.size() > kMaxDiscoveryBytes) return Bad(StrCat("discovery: larger than ", kMaxDiscoveryBytes, " bytes"));
  const Json doc = ParseIssuerJson(json);
  if (!doc.is_object()) return Bad("discovery: not a JSON object");
  Discovery d;
  if (issuer.empty() || StringOf(doc, "issuer") != issuer) {
    return Error(Reason::kStaffTokenIssuer, "discovery: issuer is not exactly the configured issuer");
  }
  d.issuer = std::string(issuer);
  for (auto [field, out, required] : {std::tuple{"authorization_endpoint", &d.authorization_endpoint, true},
                                      std::tuple{"token_endpoint", &d.token_endpoint, true},
                                      std::tuple{"jwks_uri", &d.jwks_uri, true},
                                      std::tuple{"device_authorization_endpoint", &d.device_authorization_endpoint, false},
                                      std::tuple{"end_session_endpoint", &d.end_session_endpoint, false}}) {
    auto it = doc.find(field);
    if (it == doc.end() && !required) continue;
    if (it == doc.end() || !it->is_string() || !GoodUrl(it->get<std::string>(), allow_http)) {
      return Bad(StrCat("discovery: ", field, ": expected an https URL"));
    }
    *out = it->get<std::string>();
  }
  {
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
    curl_url_set(u.get(), CURLUPART_URL, d.authorization_endpoint.c_str(), 0);
    const std::string query = "&" + Part(u.get(), CURLUPART_QUERY);
    for (const char* name : kAuthorizationParams) {
      if (query.find(StrCat("&", name, "=")) != std::string::npos) {
        return Bad(StrCat("discovery: authorization_endpoint: already carries ", name));
      }
    }
  }
  // Absent response_types_supported is an error in Discovery §3; "code" must be among them.
  if (!HasString(doc, "response_types_supported", "code")) return Bad("discovery: the issuer offers no code flow");
  if (!HasString(doc, "code_challenge_methods_supported", "S256")) {
    return Bad("discovery: code_challenge_methods_supported: the issuer offers no PKCE with S256");
  }
  for (const std::string& alg : allowed) {
    if (SupportedAlgorithm(alg) && HasString(doc, "id_token_signing_alg_values_supported", alg)) {
      d.algorithms.insert(alg);
    }
  }
  if (d.algorithms.empty()) {
    return Error(Reason::kStaffTokenAlgorithm,
                 "discovery: id_token_signing_alg_values_supported: none of the algorithms this node allows");
  }
  return d;
}

PendingSignIn NewSignIn() { return {RandomToken(), RandomToken(), RandomToken()}; }

std::string CodeChallengeS256(std::string_view code_verifier) { return Base64UrlEncode(Sha256(code_verifier)); }

absl::StatusOr<std::string> AuthorizationUrl(const Discovery& discovery, const AuthorizationRequest& request,
                                             const PendingSignIn& sign_in) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, discovery.authorization_endpoint.c_str(), 0) != CURLUE_OK) {
    return Bad("authorization_endpoint: not a URL");
  }
  const std::string scope = request.extra_scope.empty() ? "openid profile" : "openid profile " + request.extra_scope;
  std::vector<std::pair<std::string, std::string>> params = {
      {"response_type", "code"},      {"client_id", request.client_id},
      {"redirect_uri", request.redirect_uri}, {"scope", scope},
      {"state", sign_in.state},       {"nonce", sign_in.nonce},
      {"code_challenge", CodeChallengeS256(sign_in.code_verifier)}, {"code_challenge_method", "S256"}};
  if (request.reauthenticate) {
    params.emplace_back("max_age", "0");
    params.emplace_back("prompt", "login");
  }
  for (const auto& [name, value] : params) {
    const std::string pair = name + "=" + value;  // the first '=' stays; the rest is encoded
    if (curl_url_set(u.get(), CURLUPART_QUERY, pair.c_str(), CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK) {
      return Bad(StrCat("authorization request: cannot encode ", name));
    }
  }
  char* url = nullptr;
  if (curl_url_get(u.get(), CURLUPART_URL, &url, 0) != CURLUE_OK) return Bad("authorization request: no URL");
  std::string out(url);
  curl_free(url);
  return out;
}

absl::StatusOr<std::string> IdTokenOf(std::string_view token_response_json) {
  if (token_response_json.size() > kMaxTokenResponseBytes) {
    return Bad(StrCat("token response: larger than ", kMaxTokenResponseBytes, " bytes"));
  }
  const Json doc = ParseIssuerJson(token_response_json);
  if (!doc.is_object()) return Bad("token response: not a JSON object");
  if (auto e = doc.find("error"); e != doc.end()) {
    // RFC 6749 §5.2 error codes are a fixed set of ASCII words; anything else is named as unknown.
    const std::string code = e->is_string() ? e->get<std::string>() : "";
    const bool word = !code.empty() && code.size() <= 64 &&
                      code.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos;
    return Bad(StrCat("token response: the issuer refused (", word ? code : "unknown error", ")"));
  }
  // Case-insensitive (RFC 6749 §5.1, §7.1).
  if (!absl::EqualsIgnoreCase(StringOf(doc, "token_type"), "Bearer")) {
    return Bad("token response: token_type: expected Bearer");
  }
  auto id = doc.find("id_token");
  if (id == doc.end() || !id->is_string() || id->get<std::string>().empty()) {
    return Bad("token response: no id_token");
  }
  return id->get<std::string>();
}

}  // namespace casenode::node::staff
