// SubjectSeal: how an audit entry names the child it concerns without naming
// it to anyone but this node, and only while the child's data key exists.
//
// Sealed form (AuditEntry.subject, 72 bytes):
//   nonce[24] || XChaCha20-Poly1305(pseudonym[32]), AD = "casenode/audit-subject/v1"
// under the child's data key at this node (KeyStore, kind kSubject, id = the
// node-local handle of the pseudonym). A fresh random nonce per seal keeps
// two entries about the same child unlinkable without the key; shredding the
// key makes every seal of the child unopenable, while the entries still hash
// into the log as before.
// Thread-safe (the key store is).
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "casenode/v1/types.pb.h"
#include "store/key_store.h"
#include "node/audit/audit_log.h"

namespace casenode::node {

inline constexpr size_t kSealedSubjectBytes = 24 + 32 + 16;

// Seals `pseudonym` under its data key, creating the key (synced) on first
// use — unless `create` is false: then "" if the node holds no key for it
// (a refused call about an unknown child makes no key: callers could
// otherwise fill the key store).
[[nodiscard]] absl::StatusOr<std::string> SealSubject(store::KeyStore& keys, std::span<const uint8_t, 32> pseudonym,
                                                      bool create = true);

// Recognises the seals of one child.
class SubjectMatcher {
 public:
  // NotFound (reason SHREDDED) if this node holds no key for the child:
  // it never logged anything about it, or shredded it.
  [[nodiscard]] static absl::StatusOr<SubjectMatcher> For(store::KeyStore& keys,
                                                          std::span<const uint8_t, 32> pseudonym);
  // True if `sealed` opens under the child's key to the child's pseudonym.
  bool Matches(std::string_view sealed) const;

 private:
  SubjectMatcher() = default;
  keys::DataKey key_;
  std::array<uint8_t, 32> pseudonym_{};
};

}  // namespace casenode::node

namespace casenode::node {

// Appends `entry` (synced) with `subject`, if given, sealed into it: an event
// about a child. The caller must not act on the event if this fails.
[[nodiscard]] absl::Status AppendAbout(AuditLog& log, store::KeyStore& keys,
                                       const std::optional<std::array<uint8_t, 32>>& subject, v1::AuditEntry entry,
                                       uint64_t* seq = nullptr);

}  // namespace casenode::node
