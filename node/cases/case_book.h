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
//         'O' | order id                 -> CaseOrder        (node key; convener only)
// Case ids and item ids are 32 lowercase hex digits: never a child, a name or content.
// Thread-safe: changes to one index are serialised (Change).
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
#include "keys/key_store.h"
#include "node/store/store.h"

namespace casenode::node {

// Field checks shared by the Local and Peer sides; each error names the field.
// A vocabulary-like name: [a-z0-9._-]{1,64} (the policy decides whether it is known).
[[nodiscard]] absl::Status CheckCaseName(std::string_view value, std::string_view field);
// Staff-written text (a proto3 string, so UTF-8): 1..max_bytes, without
// control characters other than newline and tab.
[[nodiscard]] absl::Status CheckCaseText(std::string_view value, std::string_view field, size_t max_bytes);
// A pseudonymous staff id: [a-z0-9._-]{1,64}.
[[nodiscard]] absl::Status CheckStaffId(std::string_view value, std::string_view field);

inline constexpr size_t kMaxCaseText = 16 * 1024;      // a contribution
inline constexpr size_t kMaxCaseTitle = 200;           // a title
inline constexpr size_t kMaxActionText = 1024;         // an agreement's description
inline constexpr size_t kSealOverhead = 16;            // the AEAD tag
inline constexpr int kMaxInvitees = 16;

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
  [[nodiscard]] absl::StatusOr<std::vector<v1::CaseIndex>> List() const;

  // Stores a new case (index and secrets) with `orders`, in one synced write.
  // AlreadyExists if the case id is known here.
  [[nodiscard]] absl::Status Create(const v1::CaseIndex& index, const v1::CaseSecrets& secrets,
                                    std::span<const v1::CaseOrder> orders = {});
  // Applies `change` to the case's index and writes it with `extra` records,
  // atomically, serialised with every other change. NotFound if unknown;
  // `change`'s error leaves everything as it was.
  [[nodiscard]] absl::Status Change(std::string_view case_id,
                                    const std::function<absl::Status(v1::CaseIndex&)>& change,
                                    std::vector<store::Record> extra = {});

  // A contribution; idempotent per id (the first one stays). `*stored` gets what is kept.
  [[nodiscard]] absl::Status PutContribution(std::string_view case_id, const v1::CaseContribution& contribution,
                                             v1::CaseContribution* stored);
  // In time order (then id).
  [[nodiscard]] absl::StatusOr<std::vector<v1::CaseContribution>> Contributions(std::string_view case_id) const;
  [[nodiscard]] absl::Status PutAction(std::string_view case_id, const v1::CaseAction& action);
  [[nodiscard]] absl::StatusOr<std::optional<v1::CaseAction>> Action(std::string_view case_id,
                                                                     std::string_view action_id) const;
  [[nodiscard]] absl::StatusOr<std::vector<v1::CaseAction>> Actions(std::string_view case_id) const;

  [[nodiscard]] absl::StatusOr<std::vector<v1::CaseOrder>> Orders() const;
  [[nodiscard]] absl::Status DoneWith(std::string_view order_id);
  // Records for an index and for orders, for Change's `extra`.
  static store::Record OrderRecord(const v1::CaseOrder& order);

  // Destroys this node's copy of the case: shreds its data key (every record
  // under it, here and in any backup, can never be opened again), then
  // deletes those records. The index stays, changed by `mark`, with `orders`.
  [[nodiscard]] absl::Status Destroy(std::string_view case_id,
                                     const std::function<absl::Status(v1::CaseIndex&)>& mark,
                                     std::vector<store::Record> orders = {});

 private:
  store::Record IndexRecord(const v1::CaseIndex& index) const;
  [[nodiscard]] absl::Status DeleteContent(std::string_view case_id);

  store::Store& store_;
  const Clock clock_;
  mutable std::mutex mu_;  // serialises read-modify-write of indexes
};

}  // namespace casenode::node
