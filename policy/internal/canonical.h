// The canonical form of a policy: the unambiguous, length-prefixed bytes of
// everything that decides a request (format in canonical.cc and
// policy/README.md), their SHA-256 (the policy hash), and the same content as
// readable text. Internal to policy/. Pure functions; thread-safe.
#pragma once

#include <string>

#include "policy/internal/compiled.h"

namespace casenode::policy::internal {

// Sets c->canonical_bytes (with the local rules), c->hash (their hex SHA-256)
// and c->network_hash (the hash without the local rules; equal to c->hash
// when there are none). REQUIRES: *c is complete otherwise (ParseSources).
void SetHashes(Policy::Compiled* c);

// The content of the canonical bytes, one line per item (for people and
// logs); not what is hashed.
std::string CanonicalText(const Policy::Compiled& c);

}  // namespace casenode::policy::internal
