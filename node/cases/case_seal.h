// The case key and what is sealed with it (no I/O).
//
// A case key is 32 random bytes made by the convener. Each invitee gets it in
// a CaseInvitation sealed to its X25519 key from the manifest
// (crypto_box_seal); the invitation names the network, the case, the
// convener and the invitee, and opening checks all four, so a sealed
// invitation cannot be replayed to another case, sent by another node or
// forwarded to another one. Its fields are checked as if staff typed them:
// the convener is not trusted to send only what casectl would.
//
// Texts (contributions, agreements) are sealed by their author under the
// case key: XChaCha20-Poly1305 with a random 24-byte nonce and associated data
//   CanonicalWriter("casenode/case-text/v1") | kind | case id | item id | label | author org
// (kind "contribution" or "action"; label: the contribution's category, or
// "afspraken"), so a text moved to another case, item, category or author
// does not open.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "casenode/v1/types.pb.h"
#include "keys/identity.h"
#include "keys/secret.h"

namespace casenode::node {

inline constexpr size_t kCaseKeyBytes = 32;
inline constexpr std::string_view kInvitationDomain = "casenode/case-invitation/v1";

// 32 random bytes.
std::string NewCaseKey();

[[nodiscard]] std::string SealInvitation(const v1::CaseInvitation& invitation, const keys::PublicKey& invitee);
// Opens an invitation sealed to this node and checks that it is for
// `network` and `case_id`, from `from_org` to `self_org`, with a case key of
// the right size and fields that pass the checks of case_book.h.
// InvalidArgument (MALFORMED_REQUEST) naming what is wrong, never content.
[[nodiscard]] absl::StatusOr<v1::CaseInvitation> OpenInvitation(std::string_view sealed,
                                                                const keys::SecretBytes& secret,
                                                                const keys::PublicKey& public_key,
                                                                std::string_view network, std::string_view case_id,
                                                                std::string_view from_org, std::string_view self_org);

// What a sealed text is bound to.
struct TextBinding {
  std::string_view kind;  // "contribution" or "action"
  std::string_view case_id;
  std::string_view item_id;
  std::string_view label;
  std::string_view author_org;
};
std::string TextAd(const TextBinding& binding);

[[nodiscard]] v1::SealedText SealText(std::string_view case_key, const TextBinding& binding, std::string_view text);
// DataLoss (RECORD_CORRUPT) if it does not open with this key and binding.
[[nodiscard]] absl::StatusOr<std::string> OpenText(std::string_view case_key, const TextBinding& binding,
                                                   const v1::SealedText& sealed);

// What the convener keeps of a member's sealed text: it does not trust the
// member's node, so the text must open under the case key and `binding`
// (exactly as readers open it) and be plain text within `max_bytes`; what is
// kept is a fresh message of nonce and ciphertext alone (nothing the sender
// added, such as unknown fields, is carried along). CASE_TEXT_UNSEALED
// naming `field` otherwise, never content.
[[nodiscard]] absl::StatusOr<v1::SealedText> KeptText(std::string_view case_key, const TextBinding& binding,
                                                      const v1::SealedText& sealed, size_t max_bytes,
                                                      std::string_view field);

// An opened text as staff see it: the author's node is not trusted to have
// checked it, so a text that would not pass CheckText (not UTF-8,
// control characters, bidirectional overrides) is replaced by a notice, as
// is one that did not open.
std::string ShownText(const absl::StatusOr<std::string>& opened);

}  // namespace casenode::node
