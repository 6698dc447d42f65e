// The digest a Decision names its request by, with a per-thread memo for the
// hot path. Internal to policy/: callers outside it use RequestDigest() or
// CanonicalRequestDigest() (policy/request.h), which give the same digest.
#pragma once

#include <string>
#include <string_view>

#include "policy/request.h"

namespace casenode::policy::internal {

// Lowercase hex SHA-256 of `canonical`. REQUIRES: canonical ==
// CanonicalRequest(request). Requests repeat (they name no child, only a
// token), so each thread keeps its last few short ones and their digests;
// but never a request with consent facts, as those name receipts.
std::string RequestDigestOf(const Request& request, std::string_view canonical);

}  // namespace casenode::policy::internal
