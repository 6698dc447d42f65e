// The request digest and its per-thread memo: see internal/request_digest.h.
#include "policy/internal/request_digest.h"

#include <array>

#include "base/sha256.h"

namespace casenode::policy::internal {

std::string RequestDigestOf(const Request& request, std::string_view canonical) {
  constexpr size_t kMemoized = 8;
  constexpr size_t kMaxMemoizedBytes = 1024;  // a ping's is about 120 bytes
  if (!request.consents.empty() || canonical.size() > kMaxMemoizedBytes) return Sha256Hex(canonical);
  struct Memo {
    std::string canonical;
    std::string digest;  // "" while the slot is unused
  };
  thread_local std::array<Memo, kMemoized> memo;
  thread_local size_t next = 0;
  for (const Memo& m : memo) {
    if (!m.digest.empty() && m.canonical == canonical) return m.digest;
  }
  Memo& slot = memo[next];
  next = (next + 1) % kMemoized;
  slot.canonical.assign(canonical);
  slot.digest = Sha256Hex(canonical);
  return slot.digest;
}

}  // namespace casenode::policy::internal
