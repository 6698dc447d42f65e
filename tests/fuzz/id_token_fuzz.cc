// libFuzzer target: what an identity provider (or an attacker in its place)
// hands a node at sign-in: an ID token, a JWK set, a discovery document and
// a token endpoint's answer. Every input gives a value or a clean error; no
// token validates, since none is signed with the issuer's key, which exists
// only here.
#include <cjose/cjose.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "node/staff/id_token.h"
#include "node/staff/sign_in.h"

namespace {

const casenode::node::staff::KeySet& Keys() {
  static const casenode::node::staff::KeySet keys = [] {
    cjose_err err;
    cjose_jwk_t* jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
    cjose_jwk_set_kid(jwk, "k1", 2, &err);
    char* json = cjose_jwk_to_json(jwk, false, &err);
    auto set = casenode::node::staff::KeySet::Parse(std::string("{\"keys\":[") + json + "]}");
    free(json);
    cjose_jwk_release(jwk);
    if (!set.ok() || set->size() != 1) std::abort();
    return *set;
  }();
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace casenode::node::staff;
  const std::string input(reinterpret_cast<const char*>(data), size);
  Expectations e;
  e.issuer = "https://idp.example";
  e.client_id = "casenode";
  e.algorithms = {"RS256", "PS256", "ES256"};
  e.nonce = "n";
  if (ValidateIdToken(input, Keys(), e, {"groups"}).ok()) std::abort();
  (void)KeySet::Parse(input);
  (void)ParseDiscovery(input, "https://idp.example", {"RS256", "ES256"});
  (void)IdTokenOf(input);
  return 0;
}
