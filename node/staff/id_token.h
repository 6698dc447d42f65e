// The pure room of staff sign-in (no I/O): an issuer's signing keys, the
// complete validation of an OpenID Connect ID token (Core 1.0 §3.1.3.7), the
// staff roles its claims map to, and the pseudonymous staff id of a person.
//
// JWS signatures are checked by libcjose; this file decides what may be
// checked at all: the algorithm must be one the node allows (RS256, PS256,
// ES256; never "none", never HMAC), the key must have the kty (and curve)
// that algorithm needs, and the token must name that key (or the issuer
// must have one key of that type). Every refusal is UNAUTHENTICATED with a
// STAFF_TOKEN_* reason and a message that names what failed, never a claim's
// value.
// Thread-safe: a KeySet is immutable once parsed.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "keys/secret.h"

namespace casenode::node::staff {

// Bounds on what is read from an issuer.
inline constexpr size_t kMaxIdTokenBytes = 16 * 1024;
inline constexpr size_t kMaxJwksBytes = 64 * 1024;
inline constexpr int kMaxJwksKeys = 32;
// How far the issuer's clock may be from ours, and how old an ID token may be
// when it is checked (it is checked right after the code is exchanged).
inline constexpr std::chrono::seconds kMaxSkew{300};
inline constexpr std::chrono::seconds kMaxTokenAge{600};

// The asymmetric JWS algorithms a node may allow.
bool SupportedAlgorithm(std::string_view alg);

// How deep the JSON an issuer sends may nest (objects and arrays), checked
// before it is parsed: nothing the node reads needs more, and a deeper
// document could exhaust the stack of code that walks it.
inline constexpr int kMaxJsonDepth = 8;
bool JsonDepthWithin(std::string_view text, int max_depth = kMaxJsonDepth);
// JSON from an issuer: parsed without exceptions if within kMaxJsonDepth; a
// discarded value (is_discarded()) otherwise.
nlohmann::json ParseIssuerJson(std::string_view text);

// An issuer's JWK set (its jwks_uri document): the keys usable for
// signatures (RSA, or EC on P-256), by kid. Keys meant for encryption
// ("use": "enc", or key_ops without "verify") and other key types are left
// out; a key's own "alg", if it has one, binds it to that algorithm. A set
// that holds private key material is refused whole: the issuer's key has
// leaked, and nothing it signed can be trusted.
class KeySet {
 public:
  // STAFF_TOKEN_MALFORMED if it is not a JWK set within the bounds above.
  static absl::StatusOr<KeySet> Parse(std::string_view jwks_json);
  KeySet() = default;

  size_t size() const { return keys_.size(); }
  bool Has(std::string_view kid) const;

  struct Key;  // internal (id_token.cc)

 private:
  friend absl::StatusOr<const Key*> FindKey(const KeySet& keys, std::string_view kid, std::string_view alg);
  std::vector<std::shared_ptr<const Key>> keys_;
};

// What a valid ID token must say.
struct Expectations {
  std::string issuer;      // exactly the `iss`
  std::string client_id;   // the only audience, and `azp` if present
  std::set<std::string> algorithms = {"RS256"};  // what the node allows
  std::string nonce;       // the one sent with this sign-in
  SystemTime now;
  std::chrono::seconds skew{60};  // at most kMaxSkew
  // Set when the person had to sign in again (re-authentication before a
  // sensitive act): `auth_time` must then be no older than this.
  std::optional<std::chrono::seconds> max_age;
};

// What the node takes from a valid ID token.
struct IdClaims {
  std::string issuer;
  std::string subject;
  SystemTime issued_at;
  SystemTime expires_at;
  std::optional<SystemTime> auth_time;
  std::string name;   // "name", if a string ("" otherwise)
  std::string phone;  // "phone_number", if a string
  std::string email;  // "email", if a string
  // The claim that carries roles or groups, each value as the issuer sent it
  // (a string, or an array of strings; others are left out).
  std::map<std::string, std::vector<std::string>, std::less<>> lists;
};

// Validates `token` (a JWS in compact serialisation) completely against
// `keys` and `expect`. Its claims are read only once the signature holds.
// STAFF_TOKEN_UNKNOWN_KEY when the token names a kid the set lacks: the
// caller fetches the issuer's keys again, once, and retries.
// `list_claims` names the claims to read into IdClaims::lists.
[[nodiscard]] absl::StatusOr<IdClaims> ValidateIdToken(std::string_view token, const KeySet& keys,
                                                       const Expectations& expect,
                                                       const std::vector<std::string>& list_claims = {});

// The staff roles of a person: each value of claim `claim` that `mapping`
// names (issuer value -> staff role), sorted, once each. Values the mapping
// does not name are ignored (an issuer sends many groups).
std::vector<std::string> MapRoles(const IdClaims& claims, std::string_view claim,
                                  const std::map<std::string, std::string, std::less<>>& mapping);

// The person's stable pseudonymous staff id at this node: 32 lowercase hex
// digits, a keyed BLAKE2b of
//   CanonicalWriter("casenode/staff-id/v1") | issuer | subject
// under the node-local `key` (32 bytes). Peers and logs see only this id;
// without the key it cannot be linked to the issuer's subject.
std::string StaffIdOf(const keys::SecretBytes& key, std::string_view issuer, std::string_view subject);

}  // namespace casenode::node::staff
