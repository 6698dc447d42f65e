// Parsing a policy: the TOML sources read, validated and compiled into a
// Policy::Compiled (vocabulary, settings, rules sorted by id and the index
// Evaluate() looks rules up in). Internal to policy/. Pure: no file I/O, the
// sources are given as text. Thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/internal/compiled.h"
#include "policy/policy.h"

namespace casenode::policy::internal {

// The policy `network` and `local` describe, everything but its canonical
// bytes and hashes (internal/canonical.h sets those). InvalidArgument, naming
// the file, line and problem, for any source that is not a valid policy file
// of its kind (local files may only deny).
[[nodiscard]] absl::StatusOr<std::unique_ptr<Policy::Compiled>> ParseSources(const std::vector<Source>& network,
                                                                             const std::vector<Source>& local);

}  // namespace casenode::policy::internal
