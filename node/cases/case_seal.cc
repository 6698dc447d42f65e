#include "node/cases/case_seal.h"

#include <sodium.h>

#include "base/canonical.h"
#include "base/reason.h"
#include "base/status.h"
#include "base/strings.h"
#include "base/text.h"
#include "node/cases/case_book.h"

namespace casenode::node {
namespace {

const uint8_t* U8(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

absl::Status BadInvitation(std::string_view what) {
  return Error(Reason::kMalformedRequest, std::string("sealed_invitation: ") + std::string(what));
}

}  // namespace

std::string NewCaseKey() {
  std::string key(kCaseKeyBytes, '\0');
  crypto_aead_xchacha20poly1305_ietf_keygen(reinterpret_cast<uint8_t*>(key.data()));
  return key;
}

std::string SealInvitation(const v1::CaseInvitation& invitation, const keys::PublicKey& invitee) {
  std::string plain = invitation.SerializeAsString();
  std::string sealed(plain.size() + crypto_box_SEALBYTES, '\0');
  crypto_box_seal(reinterpret_cast<uint8_t*>(sealed.data()), U8(plain), plain.size(), invitee.data());
  sodium_memzero(plain.data(), plain.size());
  return sealed;
}

absl::StatusOr<v1::CaseInvitation> OpenInvitation(std::string_view sealed, const keys::SecretBytes& secret,
                                                  const keys::PublicKey& public_key, std::string_view network,
                                                  std::string_view case_id, std::string_view from_org,
                                                  std::string_view self_org) {
  if (sealed.size() < crypto_box_SEALBYTES || sealed.size() > kMaxSealedInvitation) return BadInvitation("wrong size");
  std::string plain(sealed.size() - crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal_open(reinterpret_cast<uint8_t*>(plain.data()), U8(sealed), sealed.size(), public_key.data(),
                           secret.data()) != 0) {
    return BadInvitation("does not open with this node's key");
  }
  v1::CaseInvitation inv;
  const bool parsed = inv.ParseFromString(plain);
  sodium_memzero(plain.data(), plain.size());
  if (!parsed) return BadInvitation("does not parse");
  if (inv.domain() != kInvitationDomain) return BadInvitation("wrong domain");
  if (inv.network() != network) return BadInvitation("for another network");
  if (inv.case_id() != case_id) return BadInvitation("for another case");
  if (inv.to_org() != self_org) return BadInvitation("for another organisation");
  if (inv.from_org() != from_org) return BadInvitation("from another convener");
  const v1::CaseSecrets& c = inv.secrets();
  if (c.case_key().size() != kCaseKeyBytes) return BadInvitation("case key of the wrong size");
  if (c.subject().size() != 32) return BadInvitation("subject of the wrong size");
  if (c.receipts_size() > kMaxCaseReceipts) return BadInvitation("too many consent receipts");
  for (const absl::Status& s : {CheckName(c.purpose(), "purpose"), CheckName(c.legal_basis(), "legal_basis"),
                                CheckText(c.title(), "title", kMaxCaseTitle), CheckStaffId(c.regisseur(), "regisseur")}) {
    if (!s.ok()) return BadInvitation(std::string(s.message()));
  }
  if (c.title().find('\n') != std::string::npos) return BadInvitation("title: one line");
  return inv;
}

std::string TextAd(const TextBinding& b) {
  CanonicalWriter w("casenode/case-text/v1");
  w.String(b.kind).String(b.case_id).String(b.item_id).String(b.label).String(b.author_org);
  return std::move(w).bytes();
}

v1::SealedText SealText(std::string_view case_key, const TextBinding& binding, std::string_view text) {
  const std::string ad = TextAd(binding);
  std::string nonce(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, '\0');
  randombytes_buf(nonce.data(), nonce.size());
  std::string ct(text.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long ct_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(reinterpret_cast<uint8_t*>(ct.data()), &ct_len, U8(text), text.size(),
                                             U8(ad), ad.size(), nullptr, U8(nonce), U8(case_key));
  v1::SealedText sealed;
  sealed.set_nonce(std::move(nonce));
  sealed.set_ciphertext(std::move(ct));
  return sealed;
}

absl::StatusOr<std::string> OpenText(std::string_view case_key, const TextBinding& binding,
                                     const v1::SealedText& sealed) {
  if (case_key.size() != kCaseKeyBytes || sealed.nonce().size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES ||
      sealed.ciphertext().size() < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return Error(Reason::kRecordCorrupt, "a sealed case text has the wrong size");
  }
  const std::string ad = TextAd(binding);
  std::string plain(sealed.ciphertext().size() - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<uint8_t*>(plain.data()), &len, nullptr,
                                                 U8(sealed.ciphertext()), sealed.ciphertext().size(), U8(ad),
                                                 ad.size(), U8(sealed.nonce()), U8(case_key)) != 0) {
    return Error(Reason::kRecordCorrupt, "a sealed case text does not open with this case's key");
  }
  plain.resize(len);
  return plain;
}

absl::StatusOr<v1::SealedText> KeptText(std::string_view case_key, const TextBinding& binding,
                                        const v1::SealedText& sealed, size_t max_bytes, std::string_view field) {
  absl::StatusOr<std::string> text = OpenText(case_key, binding, sealed);
  if (!text.ok()) {
    return Error(Reason::kCaseTextUnsealed, StrCat(field, ": does not open with this case's key and binding"));
  }
  if (!CheckText(*text, field, max_bytes).ok()) {
    return Error(Reason::kCaseTextUnsealed, StrCat(field, ": opens, but is not plain text within ", max_bytes, " bytes"));
  }
  v1::SealedText kept;
  kept.set_nonce(sealed.nonce());
  kept.set_ciphertext(sealed.ciphertext());
  return kept;
}

std::string ShownText(const absl::StatusOr<std::string>& opened) {
  if (!opened.ok()) return "(cannot be opened with this case's key)";
  if (!CheckText(*opened, "text", kMaxCaseText).ok()) return "(not shown: not plain text)";
  return *opened;
}

}  // namespace casenode::node
