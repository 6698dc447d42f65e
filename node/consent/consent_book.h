// ConsentBook: the consent receipts this node records, signs and answers for.
//
// Records live in the store's "consents" family, sealed under the subject's
// data key, so shredding a subject shreds its receipts:
//   "r/" receipt_id                → ConsentEntry (receipt + revocation)
//   "s/" subject handle "/" id     → receipt_id (the index for List)
// The subject handle is the node-local keyed hash of the pseudonym; no key
// holds a pseudonym. Every write is synced before it is acknowledged.
// Thread-safe (Revoke is read-modify-write under a mutex).
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
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
  [[nodiscard]] absl::StatusOr<std::vector<v1::ConsentEntry>> List(const std::array<uint8_t, 32>& subject) const;

 private:
  keys::DataKeyRef SubjectKey(const std::array<uint8_t, 32>& subject) const;

  store::Store& store_;
  keys::KeyStore& keys_;
  const keys::SigningKey& signer_;
  const std::string self_org_;
  const Clock clock_;
  std::mutex mu_;
};

// Conversions between the receipt and its protobuf form.
v1::ConsentReceipt ToProto(const ConsentReceipt& r);
[[nodiscard]] absl::StatusOr<ConsentReceipt> FromProto(const v1::ConsentReceipt& p);

}  // namespace casenode::consent
