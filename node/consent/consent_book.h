// ConsentBook: the consent receipts this node records, signs and answers for.
//
// Records live in the store's "consents" family, sealed under the subject's
// data key, so shredding a subject shreds its receipts:
//   "r/" receipt_id                → ConsentEntry (receipt + revocation)
//   "s/" subject handle "/" id     → receipt_id (the index for List)
//   "h"                            → ConsentHold (node key), after a restore
// The subject handle is the node-local keyed hash of the pseudonym; no key
// holds a pseudonym. Every write is synced before it is acknowledged.
//
// A restore never revives a revocation: once a witness says this node's log
// is behind (RestoreChecked), every receipt recorded or confirmed before is
// answered UNCONFIRMED until staff Confirm it again; with AwaitRestoreCheck,
// own receipts get no answer at all (Unavailable) until the first check.
// Thread-safe (Revoke is read-modify-write under a mutex).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "casenode/v1/peer.pb.h"
#include "casenode/v1/types.pb.h"
#include "keys/identity.h"
#include "keys/key_store.h"
#include "node/consent/receipt.h"
#include "node/store/store.h"

namespace casenode::consent {

class ConsentBook {
 public:
  ConsentBook(store::Store& store, keys::KeyStore& keys, const keys::SigningKey& signer, std::string self_org,
              Clock clock)
      : store_(store), keys_(keys), signer_(signer), self_org_(std::move(self_org)), clock_(std::move(clock)) {}

  // Gives the draft an id and this node as issuer, derives the child's age and
  // next age boundary from `birth_date` (which is not kept), validates — the
  // age rule included, so staff learn at once that a receipt could never
  // stand — signs and stores it.
  [[nodiscard]] absl::StatusOr<v1::ConsentEntry> Record(ConsentReceipt draft, std::chrono::year_month_day birth_date);
  // Revokes a receipt issued here. NotFound (reason UNKNOWN_RECEIPT) if there is none;
  // revoking twice keeps the first revocation.
  [[nodiscard]] absl::StatusOr<v1::ConsentEntry> Revoke(const std::string& receipt_id, const std::string& revoked_by);
  absl::StatusOr<v1::ConsentEntry> Show(const std::string& receipt_id) const;
  // What this issuer answers about a receipt (Peer ConsentStatus, and the
  // verifier for its own): ACTIVE, REVOKED, UNCONFIRMED, or UNKNOWN if it was
  // not issued here. Unavailable while a restore check is awaited.
  [[nodiscard]] absl::StatusOr<v1::ConsentStatusResponse::State> State(const std::string& receipt_id) const;
  v1::ConsentStatusResponse::State StateOf(const v1::ConsentEntry& entry) const;
  // Staff confirm, after a restore, that the receipt was not revoked.
  // UNKNOWN_RECEIPT if there is none, CONSENT_REVOKED if it was revoked.
  [[nodiscard]] absl::StatusOr<v1::ConsentEntry> Confirm(const std::string& receipt_id,
                                                         const std::string& confirmed_by);

  // Reads the restore hold; call once before answering anything.
  [[nodiscard]] absl::Status LoadHold();
  // Own receipts get no answer until RestoreChecked is called.
  void AwaitRestoreCheck();
  // The outcome of asking the witnesses: `witnessed_size` is what a witness
  // holds of this node's log when that is more than the log has (a restore),
  // nullopt otherwise. A new restore raises the hold (synced).
  [[nodiscard]] absl::Status RestoreChecked(std::optional<uint64_t> witnessed_size);
  v1::ConsentHold hold() const;
  [[nodiscard]] absl::StatusOr<std::vector<v1::ConsentEntry>> List(const std::array<uint8_t, 32>& subject) const;

 private:
  keys::DataKeyRef SubjectKey(const std::array<uint8_t, 32>& subject) const;

  store::Store& store_;
  keys::KeyStore& keys_;
  const keys::SigningKey& signer_;
  const std::string self_org_;
  const Clock clock_;
  std::mutex mu_;
  mutable std::mutex hold_mu_;
  v1::ConsentHold hold_;        // guarded by hold_mu_
  bool restore_checked_ = true;  // guarded by hold_mu_
};

// Conversions between the receipt and its protobuf form.
v1::ConsentReceipt ToProto(const ConsentReceipt& r);
[[nodiscard]] absl::StatusOr<ConsentReceipt> FromProto(const v1::ConsentReceipt& p);

}  // namespace casenode::consent
