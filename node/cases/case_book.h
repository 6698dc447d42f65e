// CaseBook: the cases this node takes part in, in the record store (family
// "cases"). A case's content lives under the case's own data key
// (DataKeyKind::kCase), so destroying the case is one crypto-shred; what must
// outlive it (that it existed, who took part, whether each member destroyed
// its copy) is in an index under the node key that holds no content and no
// child.
//
// Keys:   'X' | case id                  -> CaseIndex        (node key)
//         'C' | case id                  -> CaseSecrets      (case key)
//         'B' | case id | contribution id -> CaseContribution (case key; convener only)
//         'A' | case id | action id      -> CaseAction       (case key; convener only)
//         'O' | case id | order id       -> CaseOrder        (convener only: an invitation under the
//                                                             case key, a destruction order under the node key)
// Case ids and item ids are 32 lowercase hex digits: never a child, a name or content.
// Thread-safe: changes to indexes, contributions and agreements are
// serialised with each other and with Destroy, so nothing is written under a
// case's key once it is shredded (a write then would get a fresh key).
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "casenode/v1/types.pb.h"
#include "base/text.h"
#include "policy/policy.h"
#include "store/key_store.h"
#include "store/store.h"

namespace casenode::node {

// Field checks shared by the Local and Peer sides (base/text.h): staff text
// is checked where it is written and again where it is opened, since the
// author's node is not trusted.

inline constexpr size_t kMaxCaseText = 16 * 1024;      // a contribution
inline constexpr size_t kMaxCaseTitle = 200;           // a title
inline constexpr size_t kMaxActionText = 1024;         // an agreement's description
inline constexpr size_t kSealOverhead = 16;            // the AEAD tag
inline constexpr size_t kMaxSealedInvitation = 64 * 1024;  // a CaseInvitation sealed to an invitee
inline constexpr int kMaxInvitees = 16;
inline constexpr int kMaxCaseReceipts = 16;
inline constexpr int64_t kMaxDueMs = 253402300799999;  // 9999-12-31T23:59:59.999Z
inline constexpr size_t kMaxReadPageBytes = 512 * 1024;  // a ReadCase answer, well under the 1 MiB message limit
// What a case holds is bounded per member by the policy's [cases] shares
// (policy::CaseSettings): with at most kMaxInvitees members and 3 MiB each,
// a whole case stays under casectl's 64 MiB answer limit.

// The member entry of `org` in `index`, or null if it is not one.
v1::CaseIndex::Member* FindMember(v1::CaseIndex& index, std::string_view org);

class CaseBook {
 public:
  CaseBook(store::Store& store, Clock clock);

  // A fresh random id: 32 lowercase hex digits.
  static std::string NewId();
  // InvalidArgument (MALFORMED_REQUEST) naming `field` unless `id` is 32 lowercase hex digits.
  static absl::Status CheckId(std::string_view id, std::string_view field);
  // The data key a case's content is sealed under.
  static keys::DataKeyRef DataKeyOf(std::string_view case_id);

  // NotFound if this node knows no such case.
  [[nodiscard]] absl::StatusOr<v1::CaseIndex> Index(std::string_view case_id) const;
  // NotFound with reason SHREDDED once the case is destroyed here.
  [[nodiscard]] absl::StatusOr<v1::CaseSecrets> Secrets(std::string_view case_id) const;
  // Every case. One whose index cannot be read is left out and logged (by
  // id), so one bad record does not stop the others' destruction.
  [[nodiscard]] absl::StatusOr<std::vector<v1::CaseIndex>> List() const;

  // Stores a new case (index and secrets) with `orders`, in one synced write.
  // AlreadyExists if the case id is known here.
  [[nodiscard]] absl::Status Create(const v1::CaseIndex& index, const v1::CaseSecrets& secrets,
                                    std::span<const v1::CaseOrder> orders = {});
  // Applies `change` to the case's index and writes it with `orders`,
  // atomically, serialised with every other change. NotFound if unknown;
  // `change`'s error leaves everything as it was.
  [[nodiscard]] absl::Status Change(std::string_view case_id,
                                    const std::function<absl::Status(v1::CaseIndex&)>& change,
                                    std::span<const v1::CaseOrder> orders = {});

  // A contribution to an open case; idempotent per id (the first one stays).
  // `*stored` gets what is kept. CASE_NOT_ACTIVE unless the case is open;
  // CASE_SHARE_EXHAUSTED when its author has used its share (`shares`) of
  // contributions or bytes. Its time is made later than every earlier one's,
  // so a reader paging in time order misses none.
  [[nodiscard]] absl::Status PutContribution(std::string_view case_id, const v1::CaseContribution& contribution,
                                             const policy::CaseSettings& shares, v1::CaseContribution* stored);
  // In time order (then id).
  [[nodiscard]] absl::StatusOr<std::vector<v1::CaseContribution>> Contributions(std::string_view case_id) const;
  // Adds or changes an agreement of an open case: `change` gets the stored
  // one (nullopt if new) and returns what to keep, all under the book's lock.
  // A new one counts against the share of its added_by_org (`shares`):
  // CASE_SHARE_EXHAUSTED beyond it. A change keeps the description.
  using ActionChange = std::function<absl::StatusOr<v1::CaseAction>(std::optional<v1::CaseAction>)>;
  [[nodiscard]] absl::StatusOr<v1::CaseAction> SetAction(std::string_view case_id, std::string_view action_id,
                                                         const policy::CaseSettings& shares,
                                                         const ActionChange& change);
  // In id order (a stable order to page in: due dates change).
  [[nodiscard]] absl::StatusOr<std::vector<v1::CaseAction>> Actions(std::string_view case_id) const;

  // Every order; one that cannot be read is left out and logged.
  [[nodiscard]] absl::StatusOr<std::vector<v1::CaseOrder>> Orders() const;
  [[nodiscard]] absl::Status DoneWith(const v1::CaseOrder& order);

  // Destroys this node's copy of the case: shreds its data key (every record
  // under it, here and in any backup, can never be opened again), then
  // deletes those records and its pending invitations. The index stays,
  // changed by `mark`, with `orders` (destruction orders) written with it.
  [[nodiscard]] absl::Status Destroy(std::string_view case_id,
                                     const std::function<absl::Status(v1::CaseIndex&)>& mark,
                                     std::span<const v1::CaseOrder> orders = {});

 private:
  store::Record IndexRecord(const v1::CaseIndex& index) const;
  static store::Record OrderRecord(const v1::CaseOrder& order);
  // REQUIRES: mu_ held.
  [[nodiscard]] absl::Status ChangeLocked(std::string_view case_id,
                                          const std::function<absl::Status(v1::CaseIndex&)>& change,
                                          std::span<const v1::CaseOrder> orders);
  // REQUIRES: mu_ held. The index of an open case, or CASE_NOT_ACTIVE.
  [[nodiscard]] absl::StatusOr<v1::CaseIndex> OpenIndexLocked(std::string_view case_id) const;

  store::Store& store_;
  const Clock clock_;
  mutable std::mutex mu_;  // serialises read-modify-write of indexes
};

}  // namespace casenode::node
