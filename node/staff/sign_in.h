// The authorization code flow's pure steps (no I/O): what the node reads
// from the issuer's discovery document, a new sign-in's secrets (state,
// nonce, PKCE verifier), the authorization request URL, and the ID token
// from the token endpoint's answer. The HTTPS calls themselves are the
// OIDC client's (libcurl); each answer it gets is checked here.
//
// OpenID Connect Discovery 1.0 §4.3: the document's `issuer` must be exactly
// the configured one. RFC 7636: PKCE with S256 only. RFC 9700 §2.1: `state`
// and `nonce` are 32 random bytes each, used once.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace casenode::node::staff {

inline constexpr size_t kMaxDiscoveryBytes = 64 * 1024;
inline constexpr size_t kMaxTokenResponseBytes = 64 * 1024;

// What the node uses of an issuer's /.well-known/openid-configuration.
struct Discovery {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
  std::string device_authorization_endpoint;  // "" if the issuer has none (RFC 8628)
  std::string end_session_endpoint;           // "" if none
  // The ID token algorithms both the issuer supports and the node allows.
  std::set<std::string> algorithms;
};

// Checks and reads a discovery document for `issuer`. Every endpoint must be
// an https URL (http only when `allow_http`, for a provider on loopback in
// tests); the issuer must support the code flow, PKCE S256 and at least one
// of `allowed` algorithms. STAFF_TOKEN_MALFORMED (or STAFF_TOKEN_ISSUER,
// STAFF_TOKEN_ALGORITHM) naming the field.
[[nodiscard]] absl::StatusOr<Discovery> ParseDiscovery(std::string_view json, std::string_view issuer,
                                                       const std::set<std::string>& allowed, bool allow_http = false);

// A sign-in in progress: kept server-side until the browser comes back.
struct PendingSignIn {
  std::string state;          // 43 base64url characters (32 random bytes)
  std::string nonce;          // the same
  std::string code_verifier;  // the same (RFC 7636 §4.1: 43 to 128 characters)
};
PendingSignIn NewSignIn();

// BASE64URL(SHA256(verifier)) (RFC 7636 §4.2).
std::string CodeChallengeS256(std::string_view code_verifier);

// The authorization request (Core §3.1.2.1) the browser is sent to:
// response_type=code, the scope "openid profile" plus `extra_scope`, PKCE
// S256, state and nonce, and max_age=0 with prompt=login when the person
// must sign in again. Every value URL-encoded (libcurl's URL API).
struct AuthorizationRequest {
  std::string client_id;
  std::string redirect_uri;
  std::string extra_scope;  // e.g. "phone email groups", or ""
  bool reauthenticate = false;
};
[[nodiscard]] absl::StatusOr<std::string> AuthorizationUrl(const Discovery& discovery,
                                                           const AuthorizationRequest& request,
                                                           const PendingSignIn& sign_in);

// The ID token of a token endpoint's answer (RFC 6749 §5.1): token_type
// Bearer, an id_token string. An error answer (§5.2) becomes
// STAFF_TOKEN_MALFORMED naming the issuer's error code, never its
// description (which could echo input).
[[nodiscard]] absl::StatusOr<std::string> IdTokenOf(std::string_view token_response_json);

}  // namespace casenode::node::staff
