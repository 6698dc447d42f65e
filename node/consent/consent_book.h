// ConsentBook: the consent receipts this node records, signs and answers for.
//
// Records live in the store's "consents" family, sealed under the subject's
// data key, so shredding a subject shreds its receipts:
//   "r/" receipt_id                → ConsentEntry (receipt + revocation)
//   "s/" subject handle "/" id     → receipt_id (the index for List)
//   "n"                            → the count of revocations (node key), u64be
// The subject handle is the node-local keyed hash of the pseudonym; no key
// holds a pseudonym. Every write is synced before it is acknowledged.
//
// A restore never revives a revocation: each revocation first raises the
// key-store counter kRevocationsCounter, then writes the receipt with the
// same count among the records. LoadHold at start compares the two: records
// behind the key store were restored from a copy older than a revocation, so
// the hold generation (a key-store counter) goes up, and every receipt
// recorded or confirmed under an older generation is answered UNCONFIRMED
// until staff Confirm it. A crash between the two writes only holds too much.
#pragma once

#include <functional>
#include <mutex>
#include <shared_mutex>  // std::shared_lock
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/rw_lock.h"
#include "base/time.h"
#include "casenode/v1/peer.pb.h"
#include "casenode/v1/types.pb.h"
#include "keys/identity.h"
#include "store/key_store.h"
#include "node/consent/receipt.h"
#include "store/store.h"

namespace casenode::consent {

class ConsentBook {
 public:
  // Writes the log entry of a change (recorded, revoked, confirmed) or of an
  // answer. Called under the book's order lock, after the change is stored:
  // the log orders changes and answers as they happened, which is what lets
  // an auditor replay every answer from the log alone. An error is returned
  // to the caller (the change stays stored; staff are told and may repeat
  // it), and an answer whose entry fails is not given.
  using Journal = std::function<absl::Status(const v1::ConsentEntry& entry)>;
  // `entry` is null for a receipt not issued here (UNKNOWN).
  using AnswerJournal =
      std::function<absl::Status(v1::ConsentState state, const v1::ConsentEntry* entry)>;

  ConsentBook(store::Store& store, store::KeyStore& keys, const keys::SigningKey& signer, std::string self_org,
              Clock clock)
      : store_(store), keys_(keys), signer_(signer), self_org_(std::move(self_org)), clock_(std::move(clock)) {}

  // Gives the draft an id and this node as issuer, derives the child's age and
  // next age boundary from `birth_date` (which is not kept), validates — the
  // age rule included, so staff learn at once that a receipt could never
  // stand — signs and stores it. If its entry cannot be logged it is
  // removed again and the error returned.
  [[nodiscard]] absl::StatusOr<v1::ConsentEntry> Record(ConsentReceipt draft, std::chrono::year_month_day birth_date,
                                                        const Journal& log);
  // Revokes a receipt issued here. NotFound (reason UNKNOWN_RECEIPT) if there is none;
  // revoking twice keeps the first revocation.
  [[nodiscard]] absl::StatusOr<v1::ConsentEntry> Revoke(const std::string& receipt_id, const std::string& revoked_by,
                                                        const Journal& log);
  absl::StatusOr<v1::ConsentEntry> Show(const std::string& receipt_id) const;
  // What this issuer answers about a receipt: ACTIVE, REVOKED, UNCONFIRMED,
  // or UNKNOWN if it was not issued here. Answer logs it first (Peer
  // ConsentStatus, and the verifier for a decision on an own receipt) and
  // fails if that fails; State only reads it (staff, tests).
  [[nodiscard]] absl::StatusOr<v1::ConsentState> Answer(const std::string& receipt_id,
                                                                         const AnswerJournal& log) const;
  [[nodiscard]] absl::StatusOr<v1::ConsentState> State(const std::string& receipt_id) const;
  v1::ConsentState StateOf(const v1::ConsentEntry& entry) const;
  // Staff confirm, after a restore, that the receipt was not revoked.
  // UNKNOWN_RECEIPT if there is none, CONSENT_REVOKED if it was revoked,
  // FailedPrecondition if it is not held; confirming again under the same
  // hold logs again.
  [[nodiscard]] absl::StatusOr<v1::ConsentEntry> Confirm(const std::string& receipt_id,
                                                         const std::string& confirmed_by, const Journal& log);

  // Compares the records with the key store and raises the hold if a
  // restore lost revocations; call once at start, before answering anything.
  // `log` records a new hold before it takes effect (so a crash before the
  // raise logs it again at the next start), and the hold in force at every
  // start under one.
  [[nodiscard]] absl::Status LoadHold(const std::function<absl::Status(const v1::ConsentHold&)>& log);
  v1::ConsentHold hold() const;
  [[nodiscard]] absl::StatusOr<std::vector<v1::ConsentEntry>> List(const std::array<uint8_t, 32>& subject) const;

 private:
  keys::DataKeyRef SubjectKey(const std::array<uint8_t, 32>& subject) const;

  store::Store& store_;
  store::KeyStore& keys_;
  const keys::SigningKey& signer_;
  const std::string self_org_;
  const Clock clock_;
  // Exclusive for changes and their entries, shared for answers and theirs;
  // a waiting change goes before new answers (a stream of answers, each
  // waiting on a synced entry, must not hold off a revocation).
  mutable WriterPreferringLock order_mu_;
  mutable std::mutex hold_mu_;
  v1::ConsentHold hold_;  // guarded by hold_mu_
};

// Conversions between the receipt and its protobuf form.
v1::ConsentReceipt ToProto(const ConsentReceipt& r);
[[nodiscard]] absl::StatusOr<ConsentReceipt> FromProto(const v1::ConsentReceipt& p);

}  // namespace casenode::consent
