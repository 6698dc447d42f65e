#include "node/audit/subject_seal.h"

#include <sodium.h>

#include <algorithm>

#include "base/reason.h"

namespace casenode::node {
namespace {

constexpr std::string_view kAd = "casenode/audit-subject/v1";
constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;

static_assert(kSealedSubjectBytes == kNonce + 32 + crypto_aead_xchacha20poly1305_ietf_ABYTES);

keys::DataKeyRef RefOf(store::KeyStore& keys, std::span<const uint8_t, 32> pseudonym) {
  return keys::DataKeyRef{keys::DataKeyKind::kSubject, keys.SubjectHandle(pseudonym)};
}

}  // namespace

absl::StatusOr<std::string> SealSubject(store::KeyStore& keys, std::span<const uint8_t, 32> pseudonym, bool create) {
  keys::DataKey key;
  if (create) {
    if (absl::Status s = keys.GetOrCreate(RefOf(keys, pseudonym), &key); !s.ok()) return s;
  } else if (absl::Status s = keys.Get(RefOf(keys, pseudonym), &key); !s.ok()) {
    if (ReasonOf(s) == Reason::kShredded) return std::string();
    return s;
  }
  std::string out(kSealedSubjectBytes, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(p, kNonce);
  crypto_aead_xchacha20poly1305_ietf_encrypt(p + kNonce, nullptr, pseudonym.data(), pseudonym.size(),
                                             reinterpret_cast<const unsigned char*>(kAd.data()), kAd.size(), nullptr,
                                             p, key.data());
  return out;
}

absl::StatusOr<SubjectMatcher> SubjectMatcher::For(store::KeyStore& keys, std::span<const uint8_t, 32> pseudonym) {
  SubjectMatcher m;
  if (absl::Status s = keys.Get(RefOf(keys, pseudonym), &m.key_); !s.ok()) return s;
  std::copy(pseudonym.begin(), pseudonym.end(), m.pseudonym_.begin());
  return m;
}

bool SubjectMatcher::Matches(std::string_view sealed) const {
  if (sealed.size() != kSealedSubjectBytes) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(sealed.data());
  std::array<uint8_t, 32> opened{};
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(opened.data(), nullptr, nullptr, p + kNonce, sealed.size() - kNonce,
                                                 reinterpret_cast<const unsigned char*>(kAd.data()), kAd.size(), p,
                                                 key_.data()) != 0) {
    return false;
  }
  const bool same = sodium_memcmp(opened.data(), pseudonym_.data(), opened.size()) == 0;
  sodium_memzero(opened.data(), opened.size());
  return same;
}

absl::Status AppendAbout(AuditLog& log, store::KeyStore& keys, const std::optional<std::array<uint8_t, 32>>& subject,
                         v1::AuditEntry entry, uint64_t* seq) {
  if (subject) {
    absl::StatusOr<std::string> sealed = SealSubject(keys, *subject);
    if (!sealed.ok()) return sealed.status();
    entry.set_subject(*std::move(sealed));
  }
  return log.Append(std::move(entry), store::Durability::kSynced, seq);
}

}  // namespace casenode::node
